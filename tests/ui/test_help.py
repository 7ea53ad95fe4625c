"""F1 help: it fits a roomy terminal whole, scrolls in a small one, and every key that
scrolls reaches its last row ("Esc closes this help" included). The chat's help names
every key of the message cursor; compare mode's names only keys that work there."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Markdown

from tui_chat.settings.config import Settings
from tui_chat.ui.app import ChatApp
from tui_chat.ui.screens.chat import ChatScreen
from tui_chat.ui.screens.compare import CompareScreen
from tui_chat.ui.screens.help import HelpScreen
from tui_chat.ui.widgets.conversation.chat_log import ChatLog

from .app_factory import make_app, wait_for

RECORDING = Path(__file__).resolve().parents[2] / "examples" / "backend-chunks.jsonl"
#: Rows of the chat's help that mean nothing in compare mode (no history, no cursor).
CHAT_ONLY = ("Ctrl+R", "/file", "Alt+Up", "Ctrl+B", "earlier prompts", "chat list")


def help_table(app: ChatApp) -> dict[str, str]:
    """The open help's rows, key -> what it does."""
    assert isinstance(app.screen, HelpScreen)
    lines = app.screen.query_one(Markdown).source.splitlines()
    cells = [line.strip("|").split(" | ") for line in lines if line.startswith("| ")]
    return {key.strip(): does.strip() for key, does in cells[1:]}  # past the heading row


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


async def test_chat_help_names_every_letter_the_message_cursor_answers_to() -> None:
    """c, b, q and v (earlier versions) on the row after Alt+Up: each letter the cursor
    acts on (the log's, and the screen's `v`), so a new one cannot go unlisted."""
    letters = {
        key
        for binding in [*ChatLog.BINDINGS, *ChatScreen.BINDINGS]
        if isinstance(binding, Binding) and not binding.action.startswith("move")
        for key in binding.key.split(",")
        if len(key) == 1
    }
    assert "v" in letters
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f1")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        [(keys, does)] = [row for row in help_table(app).items() if "after Alt+Up" in row[1]]
        assert letters <= set(keys.split()), f"{keys!r} lists every cursor letter"
        assert "earlier versions" in does


async def test_compare_help_lists_only_keys_that_work_in_compare_mode() -> None:
    replay = Settings(api="replay", replay=RECORDING, model="fake-model")
    compare = (("streaming", replay), ("non-streaming", replay.with_(stream=False)))
    app = make_app(api="replay", replay=RECORDING, compare=compare)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, CompareScreen))
        await pilot.press("f1")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        table = help_table(app)
        for key, does in table.items():
            row = f"{key} {does}"
            assert not any(word in row for word in CHAT_ONLY), f"chat-only row: {row!r}"
        assert "both" in table["Enter"] and "Ctrl+J" in table
        assert "model" not in table["Ctrl+P"], "compare's palette has no chat commands"
        assert table["F2"] == "Leave compare" and table["Tab"] == "Next pane"
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, CompareScreen))
