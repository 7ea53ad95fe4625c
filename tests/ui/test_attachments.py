"""Files in the chat: `/file PATH` and the palette's "Attach a file…" send a text file with
the prompt, the log says which, and a file that cannot go loses nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.command import CommandPalette
from textual.widgets import Input

from tui_chat.history import HistoryStore
from tui_chat.ui.screens.dialogs import AskText
from tui_chat.ui.widgets.conversation.message import UserMessage
from tui_chat.ui.widgets.conversation.notices import InfoNotice
from tui_chat.ui.widgets.prompt import PromptInput

from .app_factory import make_app, replies, send, wait_for
from fake_server import FakeLLMServer, Script


@pytest.fixture
def store(tmp_path: Path) -> Iterator[HistoryStore]:
    with HistoryStore.open(tmp_path / "history.sqlite3") as opened:
        yield opened


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Relative `/file` paths are from the working directory."""
    folder = tmp_path / "work"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


async def test_a_file_line_sends_the_file_with_the_prompt_and_the_log_names_it(
    fake_server: FakeLLMServer, store: HistoryStore, workdir: Path
) -> None:
    (workdir / "todo.txt").write_text("buy milk\nfix bug 42\n")
    fake_server.enqueue(Script(chunks=["Two items."]))
    app = make_app(fake_server, store=store)
    async with app.run_test() as pilot:
        await send(pilot, "what is on my list?\n/file todo.txt")
        await wait_for(pilot, lambda: bool(replies(app)) and replies(app)[0].status == "complete")
        sent = fake_server.requests[-1].json["messages"][-1]
        assert sent["role"] == "user"
        assert sent["content"].startswith('what is on my list?\n\n<file path="todo.txt"')
        assert "buy milk\nfix bug 42\n" in sent["content"]
        (shown,) = app.query(UserMessage)
        assert str(shown.render()) == "what is on my list?"
        lines = [str(n.render()) for n in app.query(InfoNotice) if n.has_class("attachment")]
        assert lines == ["+ file: todo.txt (20 B)"]
        conversation = store.get_conversation(store.latest_id() or 0)
        assert conversation is not None
        assert conversation.messages[0].content == sent["content"], "history stores what was sent"
        await pilot.press("up")
        assert app.query_one(PromptInput).text == "what is on my list?\n/file todo.txt"


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("image.png", b"\x89PNG\r\n\x1a\n\x00\x00", "is a binary file"),
        ("huge.log", b"x" * (100 * 1024 + 1), "larger than 100 KB"),
        ("missing.txt", None, "no such file"),
    ],
    ids=["binary", "too-large", "missing"],
)
async def test_a_file_that_cannot_go_is_one_line_and_the_prompt_stays(
    fake_server: FakeLLMServer, workdir: Path, name: str, data: bytes | None, reason: str
) -> None:
    if data is not None:
        (workdir / name).write_bytes(data)
    app = make_app(fake_server)
    async with app.run_test() as pilot:
        typed = f"describe it\n/file {name}"
        await send(pilot, typed)
        await wait_for(pilot, lambda: bool(app._notifications))
        (notice,) = list(app._notifications)
        assert reason in notice.message and name in notice.message
        assert "\n" not in notice.message
        assert app.query_one(PromptInput).text == typed
        assert not replies(app) and not fake_server.requests


async def test_the_palette_attaches_a_file_to_the_next_prompt(
    fake_server: FakeLLMServer, workdir: Path
) -> None:
    (workdir / "spec.md").write_text("# Spec\n")
    fake_server.enqueue(Script(chunks=["Read it."]))
    app = make_app(fake_server)
    async with app.run_test() as pilot:
        prompt = app.query_one(PromptInput)
        prompt.focus()
        await pilot.press(*"summarise")
        for name in ("nope.md", "spec.md"):
            await pilot.press("ctrl+p")
            await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette))
            await pilot.press(*"attach a file")
            await pilot.pause(0.3)
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, AskText))
            app.screen.query_one(Input).value = name
            await pilot.press("enter")
            await wait_for(pilot, lambda: not isinstance(app.screen, AskText))
            if name == "nope.md":
                await wait_for(
                    pilot, lambda: any("nope.md" in n.message for n in app._notifications)
                )
                assert prompt.text == "summarise", "a missing file changes nothing"
        assert prompt.text == "summarise\n/file spec.md"
        prompt.focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: bool(replies(app)) and replies(app)[0].status == "complete")
        assert "# Spec\n" in fake_server.requests[-1].json["messages"][-1]["content"]
        lines = [str(n.render()) for n in app.query(InfoNotice) if n.has_class("attachment")]
        assert lines == ["+ file: spec.md (7 B)"]
