"""The log's scrollbar: rows by look, the same cells as Textual's own scrollbar draws."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult
from textual.filter import Monochrome
from textual.geometry import Region
from textual.scrollbar import ScrollBar
from textual.strip import Strip
from textual.widgets import Static

from tui_chat.ui.theme import WholeCellScrollBarRender
from tui_chat.ui.widgets.conversation.chat_log import ChatLog
from tui_chat.ui.widgets.conversation.log_scrollbar import LogScrollBar


class Host(App[None]):
    def compose(self) -> ComposeResult:
        with ChatLog():
            for i in range(97):
                yield Static(f"message {i}")


def textuals(bar: ScrollBar, crop: Region) -> list[Strip]:
    """What Textual's own scrollbar draws there, from scratch."""
    bar._styles_cache.clear()
    return ScrollBar.render_lines(bar, crop)


async def sweep(app: Host, check: bool = True) -> LogScrollBar:
    """Scroll the log through every position; at each, ours must be Textual's."""
    log = app.query_one(ChatLog)
    bar = log.vertical_scrollbar
    assert isinstance(bar, LogScrollBar)
    for y in range(0, int(log.max_scroll_y) + 1):
        log.scroll_to(y=y, animate=False, immediate=True)
        whole = Region(0, 0, *bar.size)
        ours = bar.render_lines(whole)
        if check:
            assert ours == textuals(bar, whole), f"at {y}"
            part = Region(0, 3, bar.size.width, 5)  # a partial update's rows
            assert bar.render_lines(part) == textuals(bar, part), f"rows 3-7 at {y}"
    return bar


@pytest.mark.parametrize("size", [(80, 24), (120, 40), (40, 9)])
async def test_every_thumb_position_draws_as_textual_draws_it(size: tuple[int, int]) -> None:
    app = Host()
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        bar = await sweep(app)
        assert bar.display and bar.size.height == app.query_one(ChatLog).size.height


async def test_hover_grab_theme_and_no_color_draw_as_textual_draws_them() -> None:
    app = Host()
    async with app.run_test(size=(60, 16)) as pilot:
        await pilot.pause()
        bar = await sweep(app)
        bar.mouse_over = True
        await sweep(app)
        bar.mouse_over = False
        app.theme = "textual-light"
        await pilot.pause()
        await sweep(app)
        app._filters.append(Monochrome())  # as NO_COLOR adds
        await sweep(app)


async def test_whole_cell_bars_of_the_linux_console_draw_as_textual_draws_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ScrollBar, "renderer", WholeCellScrollBarRender)
    app = Host()
    async with app.run_test(size=(60, 16)) as pilot:
        await pilot.pause()
        await sweep(app)


async def test_a_moving_thumb_is_drawn_without_textual_once_its_looks_are_known() -> None:
    """Each look is drawn through Textual once; a thumb moving over the looks it has
    already taken (each runway jump) costs no render through the styles cache."""
    app = Host()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        bar = await sweep(app, check=False)
        learnt = bar.renders_through_textual
        assert 0 < learnt < 20, "looks are learnt a few at a time"
        await sweep(app, check=False)
        assert bar.renders_through_textual == learnt
