"""The chat list fills after the first frame: what was asked of it before is not lost."""

from __future__ import annotations

from datetime import UTC, datetime

from textual.app import App, ComposeResult
from textual.widgets import Input, OptionList

from tui_chat.history.models import ConversationSummary
from tui_chat.ui.widgets.history.sidebar import Sidebar


class SidebarApp(App[None]):
    def compose(self) -> ComposeResult:
        yield Sidebar(id="sidebar")


def _row(n: int, title: str) -> ConversationSummary:
    at = datetime(2026, 12, 8, 9, n, tzinfo=UTC)
    return ConversationSummary(n, title, at, at, "chat", "m", 2)


async def test_rows_and_focus_asked_for_before_the_fill_are_there_after_it() -> None:
    app = SidebarApp()
    async with app.run_test(size=(120, 30)) as pilot:
        sidebar = app.query_one(Sidebar)
        assert not sidebar.filled and not sidebar.children
        # Ctrl+B and a saved reply's refresh, in the moment before the fill.
        sidebar.show_conversations([_row(1, "about penguins"), _row(2, "about cats")], current=2)
        sidebar.focus_search()
        assert sidebar.search_text == ""
        await sidebar.fill()
        await pilot.pause()
        listing = sidebar.query_one(OptionList)
        assert listing.option_count == 2
        assert "about penguins" in str(listing.get_option_at_index(0).prompt)
        assert app.focused is sidebar.query_one(Input)
        await pilot.press("c", "a")
        assert sidebar.search_text == "ca"


async def test_a_second_fill_adds_nothing() -> None:
    app = SidebarApp()
    async with app.run_test(size=(120, 30)):
        sidebar = app.query_one(Sidebar)
        await sidebar.fill()
        await sidebar.fill()
        assert len(sidebar.query(OptionList)) == 1 and len(sidebar.query(Input)) == 1
