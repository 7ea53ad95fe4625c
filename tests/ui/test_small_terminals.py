"""Small terminals keep what matters: F1 in the footer at every width, a compact footer
below 100 columns, "replying…" and "streaming on" in the header, and the chat list as
an overlay (its key hint whole) when the screen is narrow."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.geometry import Region
from textual.widget import Widget
from textual.widgets import Footer, Label

from tui_chat.history import HistoryStore
from tui_chat.ui.app import ChatApp
from tui_chat.ui.widgets.history.sidebar import Sidebar
from tui_chat.ui.widgets.status_line import StatusLine

from .app_factory import filled_sidebar, make_app, replies, send, wait_for
from fake_server import FakeLLMServer, Script

HINT = "Enter open · F2 rename · Del delete"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[HistoryStore]:
    with HistoryStore.open(tmp_path / "history.sqlite3") as opened:
        opened.add_message(
            opened.new_conversation(api="chat", base_url=None, model="m", system=None),
            "user",
            "an old chat",
        )
        yield opened


def drawn(widget: Widget) -> str:
    return "\n".join(strip.text for strip in widget.render_lines(Region(0, 0, *widget.size)))


def footer_text(app: ChatApp) -> str:
    """The footer as drawn on screen: each key widget's text, cut at the screen's edge."""
    footer = app.screen.query_one(Footer)
    line = [" "] * app.size.width
    for key in footer.query("FooterKey"):
        for offset, char in enumerate(drawn(key)):
            if 0 <= key.region.x + offset < footer.region.right:
                line[key.region.x + offset] = char
    return "".join(line)


@pytest.mark.parametrize("width", [60, 80, 120])
async def test_f1_help_is_always_in_the_footer(fake_server: FakeLLMServer, width: int) -> None:
    app = make_app(fake_server)
    async with app.run_test(size=(width, 24)) as pilot:
        await wait_for(pilot, lambda: len(app.screen.query("FooterKey")) > 3)
        await pilot.pause(0.1)
        assert "f1" in footer_text(app)


@pytest.mark.parametrize(("width", "compact"), [(80, True), (99, True), (100, False), (120, False)])
async def test_the_footer_is_compact_below_100_columns(
    fake_server: FakeLLMServer, width: int, compact: bool
) -> None:
    app = make_app(fake_server)
    async with app.run_test(size=(width, 24)) as pilot:
        await wait_for(pilot, lambda: len(app.screen.query("FooterKey")) > 3)
        await pilot.pause(0.1)
        assert app.screen.query_one(Footer).compact is compact
        shown = footer_text(app)
        if compact:
            assert "^t stream" in shown and "Streaming on/off" not in shown
        else:
            assert "Streaming on/off" in shown


@pytest.mark.parametrize("width", [60, 80])
async def test_the_header_keeps_replying_and_the_streaming_mode(
    fake_server: FakeLLMServer, width: int
) -> None:
    fake_server.enqueue(Script(chunks=["still ", "coming"], hold_after=1))
    app = make_app(fake_server, model="a-model-with-a-rather-long-name-2025-01-01")
    async with app.run_test(size=(width, 24)) as pilot:
        await send(pilot, "hi")
        await wait_for(pilot, lambda: "still" in replies(app)[0].text)
        await pilot.pause(0.1)
        header = drawn(app.query_one(StatusLine))
        assert "replying…" in header and "streaming on" in header
        assert "a-model" in header, "the model gives way, cut, not dropped"
        fake_server.release()
        await wait_for(pilot, lambda: not app.chat.replying)


@pytest.mark.parametrize("width", [60, 80])
async def test_on_a_narrow_screen_the_chat_list_is_an_overlay_with_its_hint_whole(
    fake_server: FakeLLMServer, store: HistoryStore, width: int
) -> None:
    app = make_app(fake_server, store=store)
    async with app.run_test(size=(width, 24)) as pilot:
        sidebar = app.query_one(Sidebar)
        assert not sidebar.display
        await pilot.press("ctrl+b")
        await filled_sidebar(pilot)
        await pilot.pause(0.2)
        assert sidebar.display
        assert app.query_one("#chat").region.width == width, "the chat keeps its width"
        assert sidebar.region.width <= width * 0.75
        assert HINT in " ".join(drawn(sidebar.query_one("#sidebar-title", Label)).split())
        await pilot.press("enter")  # from the search box to the list
        await pilot.press("enter")  # open the chat
        await wait_for(pilot, lambda: not sidebar.display)


async def test_on_a_wide_screen_the_chat_list_is_a_share_of_it_beside_the_chat(
    fake_server: FakeLLMServer, store: HistoryStore
) -> None:
    for width in (120, 160):
        app = make_app(fake_server, store=store)
        async with app.run_test(size=(width, 40)) as pilot:
            sidebar = await filled_sidebar(pilot)
            assert sidebar.display
            chat = app.query_one("#chat").region
            assert chat.x == sidebar.region.right and chat.right == width
            assert drawn(sidebar.query_one("#sidebar-title", Label)).strip() == HINT
            if width == 160:
                assert sidebar.region.width == 48


async def test_the_footer_redraws_its_keys_only_when_the_keys_to_show_change(
    fake_server: FakeLLMServer,
) -> None:
    """Textual's Footer re-mounts every key whenever the screen's bindings are refreshed;
    most refreshes (focus moving, a reactive set again) change nothing it shows."""
    fake_server.enqueue(Script(chunks=["still ", "coming"], hold_after=1))
    app = make_app(fake_server)
    async with app.run_test(size=(120, 24)) as pilot:
        await wait_for(pilot, lambda: len(app.screen.query("FooterKey")) > 3)
        await pilot.pause(0.1)
        keys = list(app.screen.query("FooterKey"))
        for _ in range(3):
            app.screen.refresh_bindings()
            await pilot.pause(0.05)
        assert list(app.screen.query("FooterKey")) == keys, "the same key widgets, not re-made"
        await send(pilot, "hi")  # replying: Esc stops, so the keys change
        await wait_for(pilot, lambda: "still" in replies(app)[0].text)
        await pilot.pause(0.1)
        assert list(app.screen.query("FooterKey")) != keys
        assert "Stop" in footer_text(app)
        fake_server.release()
        await wait_for(pilot, lambda: replies(app)[0].status == "complete")
        await pilot.resize_terminal(80, 24)  # compact: one-word labels
        await wait_for(pilot, lambda: "^t stream" in footer_text(app))
