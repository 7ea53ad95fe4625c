"""F1 help: it fits a roomy terminal whole, scrolls in a small one, and every key that
scrolls reaches its last row ("Esc closes this help" included)."""

from __future__ import annotations

import pytest
from textual.containers import VerticalScroll
from textual.widgets import Markdown

from tui_chat.ui.screens.help import HelpScreen

from .app_factory import make_app


async def test_help_fits_whole_at_120x40() -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f1")
        await pilot.pause(0.2)
        body = app.screen.query_one("#help-body", VerticalScroll)
        assert body.max_scroll_y == 0, "every row is on screen without scrolling"
        assert app.screen.region.contains_region(body.region)


@pytest.mark.parametrize("key", ["pagedown", "down", "end", "tab"])
async def test_every_help_row_is_reachable_at_80x24(key: str) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f1")
        await pilot.pause(0.2)
        assert isinstance(app.screen, HelpScreen)
        body = app.screen.query_one("#help-body", VerticalScroll)
        assert body.max_scroll_y > 0, "at 80x24 the list is taller than the screen"
        for _ in range(40):
            if body.scroll_y >= body.max_scroll_y:
                break
            await pilot.press(key)
            await pilot.pause(0.05)
        assert body.scroll_y >= body.max_scroll_y, f"{key} reaches the last row"
        assert isinstance(app.screen, HelpScreen), f"{key} leaves help open"


async def test_help_spells_page_keys_as_people_do() -> None:
    app = make_app()
    async with app.run_test() as pilot:
        await pilot.press("f1")
        source = app.screen.query_one(Markdown).source
        assert "| PageUp |" in source and "| PageDown |" in source
        assert "Pageup" not in source and "Pagedown" not in source
