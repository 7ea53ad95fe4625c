"""The installed `tui-chat` in a pseudo-terminal says in the chat when history is off or
read-only, and leaves the history it could not use exactly as it was."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pexpect
import pytest

from .helpers import TickingClock, bound_by_file_modes, clean_env, files_bytes
from fake_server import FakeLLMServer, Script
from pty_terminal import Terminal

pytestmark = pytest.mark.skipif(os.name != "posix", reason="pseudo-terminals are POSIX")


def _flat(screen: str) -> str:
    """The screen as one line of words, so wrapped text can be matched (without the
    notices' left bar)."""
    return " ".join(screen.replace("█", " ").split())


@pytest.fixture
def data_home(tmp_path: Path) -> Iterator[Path]:
    home = tmp_path / "data"
    (home / "tui-chat").mkdir(parents=True)
    yield home
    (home / "tui-chat").chmod(0o700)  # let tmp_path cleanup remove everything


def _app(fake_server: FakeLLMServer, tmp_path: Path, data_home: Path, *flags: str) -> Terminal:
    exe = shutil.which("tui-chat")
    assert exe, "the tui-chat console script is installed (pip install -e .)"
    env = {**clean_env(data_home), "HOME": str(tmp_path), "TERM": "xterm-256color"}
    env.setdefault("LANG", "C.UTF-8")
    argv = [exe, "--api", "chat", "--base-url", fake_server.openai_url, "--model", "fake-model"]
    return Terminal(bound_by_file_modes([*argv, *flags]), tmp_path, env)


def _chat_then_quit(term: Terminal, fake_server: FakeLLMServer) -> str:
    """Send a prompt, wait for the whole reply, quit; returns the last screen."""
    fake_server.enqueue(Script(chunks=["Chatting ", "goes ", "on."]))
    term.child.send("still there?\r")
    screen = term.wait_for(lambda s: "Chatting goes on." in s and "tok/s" in s)
    term.child.sendcontrol("q")
    term.child.expect(pexpect.EOF, timeout=10)
    return screen


def test_a_garbage_history_file_is_said_in_the_chat_and_left_byte_for_byte(
    fake_server: FakeLLMServer, tmp_path: Path, data_home: Path
) -> None:
    db = data_home / "tui-chat" / "history.sqlite3"
    db.write_bytes(b"not a database, but someone's file\n" * 200)
    before = files_bytes(data_home)
    term = _app(fake_server, tmp_path, data_home)
    try:
        screen = _flat(
            term.wait_for(lambda s: "or run with --no-history." in _flat(s) and "Enter sends" in s)
        )
        assert "History is off for this run:" in screen
        assert "file is not a database" in screen
        assert "move it aside to start a new history" in screen
        last = _chat_then_quit(term, fake_server)
    finally:
        term.close()
    assert "not being saved" not in _flat(last)
    assert files_bytes(data_home) == before  # the same bytes, and no -wal, -shm or lock


def test_an_unwritable_history_directory_is_said_in_the_chat(
    fake_server: FakeLLMServer, tmp_path: Path, data_home: Path, file_modes: None
) -> None:
    (data_home / "tui-chat").chmod(0o500)
    term = _app(fake_server, tmp_path, data_home)
    try:
        screen = _flat(
            term.wait_for(lambda s: "or run with --no-history." in _flat(s) and "Enter sends" in s)
        )
        assert "Permission denied" in screen
        assert "XDG_DATA_HOME" in screen and "--no-history" in screen
        _chat_then_quit(term, fake_server)
    finally:
        term.close()
    assert list((data_home / "tui-chat").iterdir()) == []


def _read_only_history(data_home: Path, what: str) -> Path:
    from tui_chat.history import HistoryStore

    with HistoryStore.open(data_home / "tui-chat" / "history.sqlite3", clock=TickingClock()) as s:
        conv = s.new_conversation(api="chat", base_url=None, model="fake-model", system=None)
        s.add_message(conv, "user", "How do otters sleep?")
        s.add_message(conv, "assistant", "Floating, holding hands.")
        db = s.path
    if what == "file":
        db.chmod(0o400)
    else:
        db.parent.chmod(0o500)
    return db


@pytest.mark.parametrize("what", ["file", "directory"])
def test_a_read_only_history_is_said_in_the_chat_and_left_untouched(
    fake_server: FakeLLMServer, tmp_path: Path, data_home: Path, file_modes: None, what: str
) -> None:
    _read_only_history(data_home, what)
    before = files_bytes(data_home)
    term = _app(fake_server, tmp_path, data_home)
    try:
        screen = _flat(term.wait_for(lambda s: "will not be saved" in _flat(s)))
        assert "History is read-only" in screen and "Saved chats can be opened" in screen
        last = _chat_then_quit(term, fake_server)
    finally:
        term.close()
    assert "not being saved" not in _flat(last)  # no toast on top of the notice
    assert files_bytes(data_home) == before  # not a byte written, no -wal or -shm left


@pytest.mark.parametrize("what", ["file", "directory"])
def test_resume_from_a_read_only_history_shows_the_chat_and_goes_on_without_saving(
    fake_server: FakeLLMServer, tmp_path: Path, data_home: Path, file_modes: None, what: str
) -> None:
    """`--resume` used to fail with "attempt to write a readonly database"."""
    _read_only_history(data_home, what)
    before = files_bytes(data_home)
    term = _app(fake_server, tmp_path, data_home, "--resume")
    try:
        screen = term.wait_for(lambda s: "Floating, holding hands." in s and "Enter sends" in s)
        assert "How do otters sleep?" in screen
        last = _chat_then_quit(term, fake_server)
    finally:
        term.close()
    assert "not being saved" not in _flat(last)
    assert files_bytes(data_home) == before


def test_resume_from_a_read_only_history_says_so_in_the_chat(
    fake_server: FakeLLMServer, tmp_path: Path, data_home: Path, file_modes: None
) -> None:
    _read_only_history(data_home, "file")
    term = _app(fake_server, tmp_path, data_home, "--resume")
    try:
        term.wait_for(lambda s: "Floating, holding hands." in s and "Enter sends" in s)
        term.wait_for(lambda s: "will not be saved" in _flat(s), timeout=5)
    finally:
        term.close()
