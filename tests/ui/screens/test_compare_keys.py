"""Compare mode from the keyboard alone, at 80x24: Tab and Left/Right move focus between
the panes (the focused one is marked), the cursor keys scroll it, it follows the bottom
until scrolled up, End follows again, and F1 and the footer say so."""

from __future__ import annotations

import pytest
from textual.geometry import Region
from textual.pilot import Pilot
from textual.widgets import Footer, Markdown

from tui_chat.ui.app import ChatApp
from tui_chat.ui.screens.compare import CompareScreen
from tui_chat.ui.screens.help import HelpScreen
from tui_chat.ui.widgets.compare.pane import FOCUS_MARK, ComparePane, PaneLog
from tui_chat.ui.widgets.prompt import PromptInput

from ..app_factory import make_app, wait_for
from .test_compare import contenders, pane_reply
from fake_server import FakeLLMServer, Script

SIZE = (80, 24)
#: Far taller than a pane at 80x24; the stream holds after `HELD` of them.
LINES = [f"line {n}\n\n" for n in range(40)]
HELD = 30


def pane(screen: CompareScreen, side: str) -> ComparePane:
    return screen.query_one(f"#pane-{side}", ComparePane)


def log(screen: CompareScreen, side: str) -> PaneLog:
    return pane(screen, side).query_one(PaneLog)


def title(screen: CompareScreen, side: str) -> str:
    return str(pane(screen, side).query_one(".pane-title").render())


def marked(screen: CompareScreen) -> list[str]:
    """The sides whose pane is drawn as focused."""
    return [
        side
        for side in ("left", "right")
        if pane(screen, side).has_class("-focused") and title(screen, side).startswith(FOCUS_MARK)
    ]


def footer_text(app: ChatApp) -> str:
    """The footer as drawn: each key widget's text at its place, cut at the screen's edge."""
    footer = app.screen.query_one(Footer)
    line = [" "] * app.size.width
    for key in footer.query("FooterKey"):
        text = "".join(strip.text for strip in key.render_lines(Region(0, 0, *key.size)))
        for offset, char in enumerate(text):
            if 0 <= key.region.x + offset < footer.region.right:
                line[key.region.x + offset] = char
    return "".join(line)


async def open_compare(app: ChatApp, pilot: Pilot[None], server: FakeLLMServer) -> CompareScreen:
    screen = CompareScreen(*contenders(server))
    await app.push_screen(screen)
    await wait_for(pilot, lambda: isinstance(app.focused, PromptInput))
    return screen


async def send(pilot: Pilot[None], screen: CompareScreen, text: str) -> None:
    prompt = screen.query_one(PromptInput)
    prompt.focus()
    prompt.load_text(text)
    await pilot.press("enter")


async def test_tab_and_left_right_move_focus_between_the_panes_with_a_mark(
    fake_server: FakeLLMServer,
) -> None:
    app = make_app(fake_server)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_compare(app, pilot, fake_server)
        assert marked(screen) == []
        await pilot.press("tab")
        await wait_for(pilot, lambda: marked(screen) == ["left"])
        assert app.focused is log(screen, "left")
        await pilot.press("right")
        await wait_for(pilot, lambda: marked(screen) == ["right"])
        assert app.focused is log(screen, "right")
        await pilot.press("left")
        await wait_for(pilot, lambda: marked(screen) == ["left"])
        await pilot.press("tab", "tab")  # the right pane, then the prompt
        await wait_for(pilot, lambda: isinstance(app.focused, PromptInput))
        await wait_for(pilot, lambda: marked(screen) == [])
        await pilot.press("shift+tab")
        await wait_for(pilot, lambda: marked(screen) == ["right"])


async def test_the_footer_at_80_columns_shows_the_pane_keys(fake_server: FakeLLMServer) -> None:
    app = make_app(fake_server)
    async with app.run_test(size=SIZE) as pilot:
        await open_compare(app, pilot, fake_server)
        await wait_for(pilot, lambda: "tab Next pane" in footer_text(app))
        assert "↑↓" not in footer_text(app), "the prompt's Up/Down are its own"
        await pilot.press("tab")
        await wait_for(pilot, lambda: "↑↓ Scroll" in footer_text(app))
        shown = footer_text(app)
        assert "f1" in shown and "tab Next pane" in shown and "esc" in shown


@pytest.mark.parametrize("key", ["f1", "question_mark"])
async def test_help_in_compare_mode_lists_the_pane_keys(
    fake_server: FakeLLMServer, key: str
) -> None:
    app = make_app(fake_server)
    async with app.run_test(size=SIZE) as pilot:
        await open_compare(app, pilot, fake_server)
        await pilot.press("tab", key)  # from a pane: in the prompt, "?" is typed
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        source = app.screen.query_one(Markdown).source
        for row in (
            "| Tab | Next pane |",
            "| Shift+Tab | Previous pane |",
            "| Left | Left pane |",
            "| Right | Right pane |",
            "| Up | Scroll |",
            "| Down | Scroll down |",
            "| PageUp | Scroll the pane a page up |",
            "| PageDown | Scroll the pane a page down |",
            "| Home | Top of the pane |",
            "| End | Bottom of the pane (follows new text again) |",
            "| Esc | Stop both |",
        ):
            assert row in source
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, CompareScreen))


async def test_cursor_keys_scroll_the_focused_pane_which_lets_go_of_the_bottom(
    fake_server: FakeLLMServer,
) -> None:
    script = Script(chunks=LINES, hold_after=HELD)
    fake_server.enqueue(script, script)
    app = make_app(fake_server)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_compare(app, pilot, fake_server)
        await send(pilot, screen, "many lines")
        left = log(screen, "left")
        await wait_for(pilot, lambda: f"line {HELD - 1}" in pane_reply(screen, "left").shown_source)
        await wait_for(pilot, lambda: 0 < left.max_scroll_y == left.scroll_y)  # following
        await pilot.press("tab")
        await wait_for(pilot, lambda: app.focused is left)
        bottom = left.scroll_y
        await pilot.press("up")
        await wait_for(pilot, lambda: left.scroll_y == bottom - 1)
        await pilot.press("pageup")
        await wait_for(pilot, lambda: left.scroll_y < bottom - 1)
        read_at = left.scroll_y

        fake_server.release()
        await wait_for(pilot, lambda: not screen.busy)
        await wait_for(pilot, lambda: left.max_scroll_y > bottom)
        await pilot.pause(0.1)
        assert left.scroll_y == read_at, "scrolled up to read: new text does not pull it down"

        await pilot.press("home")
        await wait_for(pilot, lambda: left.scroll_y == 0)
        await pilot.press("pagedown")
        await wait_for(pilot, lambda: left.scroll_y > 0)
        paged = left.scroll_y
        await pilot.press("down")
        await wait_for(pilot, lambda: left.scroll_y == paged + 1)
        await pilot.press("end")
        await wait_for(pilot, lambda: left.scroll_y == left.max_scroll_y)

        # The other pane scrolls on its own.
        right = log(screen, "right")
        await wait_for(pilot, lambda: 0 < right.max_scroll_y == right.scroll_y)
        await pilot.press("right", "home")
        await wait_for(pilot, lambda: right.scroll_y == 0)
        assert left.scroll_y == left.max_scroll_y


async def test_end_in_a_pane_follows_the_stream_again(fake_server: FakeLLMServer) -> None:
    script = Script(chunks=LINES, hold_after=HELD)
    fake_server.enqueue(script, script)
    app = make_app(fake_server)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_compare(app, pilot, fake_server)
        await send(pilot, screen, "many lines")
        left = log(screen, "left")
        await wait_for(pilot, lambda: f"line {HELD - 1}" in pane_reply(screen, "left").shown_source)
        await wait_for(pilot, lambda: 0 < left.max_scroll_y == left.scroll_y)
        await pilot.press("tab", "pageup")
        await wait_for(pilot, lambda: left.scroll_y < left.max_scroll_y)
        await pilot.press("end")
        await wait_for(pilot, lambda: left.scroll_y == left.max_scroll_y)
        bottom = left.max_scroll_y

        fake_server.release()
        await wait_for(pilot, lambda: not screen.busy)
        await wait_for(pilot, lambda: left.max_scroll_y > bottom)
        await wait_for(pilot, lambda: left.scroll_y == left.max_scroll_y)


async def test_at_80x24_a_panes_title_is_one_line_not_wrapped(
    fake_server: FakeLLMServer,
) -> None:
    app = make_app(fake_server)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_compare(app, pilot, fake_server)
        await pilot.pause(0.1)
        for side in ("left", "right"):
            shown = pane(screen, side).query_one(".pane-title")
            assert shown.size.height == 1, "a wrapped title takes a row from the reply"


async def test_esc_in_a_pane_stops_both_replies(fake_server: FakeLLMServer) -> None:
    fake_server.enqueue(Script(hold_after=1), Script(hold_after=1))
    app = make_app(fake_server)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_compare(app, pilot, fake_server)
        await send(pilot, screen, "stop us from a pane")
        await wait_for(pilot, lambda: len(fake_server.requests) == 2)
        await pilot.press("tab")
        await wait_for(pilot, lambda: app.focused is log(screen, "left"))
        await pilot.press("escape")
        await wait_for(pilot, lambda: not screen.busy)
        assert [pane_reply(screen, s).status for s in ("left", "right")] == ["stopped"] * 2
