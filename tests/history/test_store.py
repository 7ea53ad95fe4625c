"""The history store's API: every call, against a real database in a temporary data dir."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import platformdirs
import pytest

from tui_chat.core.metrics import ReplyMetrics
from tui_chat.core.protocol import ChatMessage
from tui_chat.core.sanitize import clean
from tui_chat.history import (
    HistoryError,
    HistoryStore,
    NotFoundError,
    StoredConversation,
    data_dir,
    default_db_path,
    make_title,
)

from .helpers import TickingClock, clean_env


def _get(store: HistoryStore, conv_id: int) -> StoredConversation:
    conv = store.get_conversation(conv_id)
    assert conv is not None
    return conv


CHAT = {"api": "chat", "base_url": "http://127.0.0.1:9/v1", "model": "m1", "system": "be brief"}


# -- location and lifecycle ---------------------------------------------------------------


def test_open_creates_private_db_under_xdg_data_home(data_home: Path) -> None:
    with HistoryStore.open() as store:
        assert store.path == data_home / "tui-chat" / "history.sqlite3"
    assert store.path.is_file()
    if os.name == "posix":
        assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
        assert stat.S_IMODE(store.path.parent.stat().st_mode) == 0o700


def test_open_accepts_an_explicit_path(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "h.db"
    with HistoryStore.open(path) as store:
        store.new_conversation(**CHAT)
    assert path.is_file()


def test_without_xdg_data_home_the_os_data_dir_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    expected = Path(platformdirs.user_data_dir("tui-chat", appauthor=False))
    assert data_dir() == expected
    assert default_db_path() == expected / "history.sqlite3"


def test_relative_xdg_data_home_is_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    """The XDG spec says relative paths are invalid; a database in the cwd would surprise."""
    monkeypatch.setenv("XDG_DATA_HOME", "relative/dir")
    assert data_dir() == Path(platformdirs.user_data_dir("tui-chat", appauthor=False))


def test_importing_history_and_cli_creates_no_files(tmp_path: Path) -> None:
    """`--no-history` relies on this: only `HistoryStore.open()` touches the disk."""
    data, home = tmp_path / "data", tmp_path / "home"
    data.mkdir()
    home.mkdir()
    env = {**clean_env(data), "HOME": str(home)}
    code = (
        "import tui_chat.history, tui_chat.history.cli, tui_chat.cli;"
        "tui_chat.cli.build_parser(); tui_chat.history.default_db_path()"
    )
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=60)
    assert list(data.iterdir()) == []
    assert list(home.iterdir()) == []


def test_wal_mode_is_on(store: HistoryStore) -> None:
    conn = sqlite3.connect(store.path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        conn.close()


def test_reopening_keeps_everything(data_home: Path) -> None:
    with HistoryStore.open() as store:
        conv = store.new_conversation(**CHAT)
        store.add_message(conv, "user", "hello")
    with HistoryStore.open() as store:
        again = store.get_conversation(conv)
    assert again is not None
    assert [m.content for m in again.messages] == ["hello"]


# -- conversations ------------------------------------------------------------------------


def test_new_conversation_records_its_settings(store: HistoryStore) -> None:
    conv_id = store.new_conversation(**CHAT)
    conv = store.get_conversation(conv_id)
    assert conv is not None
    assert (conv.api, conv.base_url, conv.model, conv.system) == (
        "chat",
        "http://127.0.0.1:9/v1",
        "m1",
        "be brief",
    )
    assert conv.title is None
    assert conv.messages == ()
    assert conv.created_at == conv.updated_at
    assert conv.created_at.tzinfo is not None


def test_ids_are_small_integers_never_reused(store: HistoryStore) -> None:
    first = store.new_conversation(**CHAT)
    second = store.new_conversation(**CHAT)
    store.delete(second)
    third = store.new_conversation(**CHAT)
    assert (first, second, third) == (1, 2, 3)


def test_first_user_message_becomes_the_title(store: HistoryStore) -> None:
    conv = store.new_conversation(**CHAT)
    store.add_message(conv, "system", "ignored for the title")
    store.add_message(conv, "user", "\n\n  Why   is the sky blue?\nAnd the sea?")
    store.add_message(conv, "assistant", "Rayleigh scattering.")
    store.add_message(conv, "user", "A second prompt does not retitle")
    got = store.get_conversation(conv)
    assert got is not None and got.title == "Why is the sky blue?"


@pytest.mark.parametrize(
    ("prompt", "title"),
    [
        ("short", "short"),
        ("   ", None),
        ("line one\nline two", "line one"),
        # What an escape sequence leaves is the cleaner's rule; the title is one line of it.
        ("\x1b[31mred\x1b[0m\ttext", " ".join(clean("\x1b[31mred\x1b[0m\ttext").split())),
        ("x" * 60, "x" * 60),
        ("x" * 61, "x" * 59 + "…"),
        ("word " * 30, ("word " * 11).strip() + "…"),
    ],
)
def test_titles_are_one_line_of_about_60_characters(prompt: str, title: str | None) -> None:
    made = make_title(prompt)
    assert made == title
    assert made is None or len(made) <= 60


def test_rename_sets_a_one_line_title_and_blank_clears_it(store: HistoryStore) -> None:
    conv = store.new_conversation(**CHAT)
    store.add_message(conv, "user", "original")
    other = store.new_conversation(**CHAT)
    store.rename(conv, "  New\n name ")
    assert _get(store, conv).title == "New name"
    assert store.latest_id() == other  # renaming is not activity: the order stays
    store.rename(conv, "   ")
    assert _get(store, conv).title is None


def test_update_settings_changes_only_what_is_given(store: HistoryStore) -> None:
    conv = store.new_conversation(**CHAT)
    store.update_settings(conv, model="m2")
    got = store.get_conversation(conv)
    assert got is not None
    assert (got.api, got.model, got.base_url, got.system) == (
        "chat",
        "m2",
        CHAT["base_url"],
        "be brief",
    )
    store.update_settings(conv, api="responses", base_url=None, system=None)
    got = store.get_conversation(conv)
    assert got is not None
    assert (got.api, got.model, got.base_url, got.system) == ("responses", "m2", None, None)
    assert got.updated_at > got.created_at


def test_delete_removes_the_conversation_and_its_messages(store: HistoryStore) -> None:
    keep = store.new_conversation(**CHAT)
    store.add_message(keep, "user", "keep me")
    gone = store.new_conversation(**CHAT)
    store.add_message(gone, "user", "delete me")
    store.delete(gone)
    assert store.get_conversation(gone) is None
    assert [c.id for c in store.list_conversations()] == [keep]
    conn = sqlite3.connect(store.path)
    try:
        assert conn.execute("SELECT count(*) FROM messages").fetchone()[0] == 1
    finally:
        conn.close()


@pytest.mark.parametrize(
    "call",
    [
        lambda s: s.rename(99, "x"),
        lambda s: s.delete(99),
        lambda s: s.update_settings(99, model="x"),
        lambda s: s.add_message(99, "user", "x"),
        lambda s: s.update_message(99, "x"),
    ],
    ids=["rename", "delete", "update_settings", "add_message", "update_message"],
)
def test_unknown_ids_raise_not_found(
    store: HistoryStore, call: Callable[[HistoryStore], object]
) -> None:
    with pytest.raises(NotFoundError, match="no (conversation|message) 99"):
        call(store)


def test_get_unknown_conversation_is_none(store: HistoryStore) -> None:
    assert store.get_conversation(12345) is None


def test_list_is_newest_updated_first_with_message_counts(store: HistoryStore) -> None:
    a = store.new_conversation(**CHAT)
    b = store.new_conversation(**CHAT)
    c = store.new_conversation(**CHAT)
    store.add_message(b, "user", "one")
    store.add_message(b, "assistant", "two")
    reply = store.add_message(a, "assistant", "", "streaming")
    assert [s.id for s in store.list_conversations()] == [a, b, c]
    store.update_message(reply, "later")  # streaming counts as activity
    store.add_message(c, "user", "newest")
    rows = store.list_conversations()
    assert [(r.id, r.message_count) for r in rows] == [(c, 1), (a, 1), (b, 2)]
    assert rows[0].title == "newest"
    assert (rows[0].api, rows[0].model) == ("chat", "m1")
    assert [r.id for r in store.list_conversations(limit=2)] == [c, a]


def test_latest_id_follows_activity(store: HistoryStore) -> None:
    assert store.latest_id() is None
    a = store.new_conversation(**CHAT)
    b = store.new_conversation(**CHAT)
    assert store.latest_id() == b
    store.add_message(a, "user", "back to a")
    assert store.latest_id() == a


# -- messages -----------------------------------------------------------------------------


def test_add_message_numbers_messages_in_order(store: HistoryStore) -> None:
    conv = store.new_conversation(**CHAT)
    other = store.new_conversation(**CHAT)
    ids = [
        store.add_message(conv, "user", "q1"),
        store.add_message(other, "user", "elsewhere"),
        store.add_message(conv, "assistant", "a1"),
        store.add_message(conv, "user", "q2"),
    ]
    got = store.get_conversation(conv)
    assert got is not None
    assert [(m.seq, m.role, m.content, m.status) for m in got.messages] == [
        (1, "user", "q1", "complete"),
        (2, "assistant", "a1", "complete"),
        (3, "user", "q2", "complete"),
    ]
    assert [m.id for m in got.messages] == [ids[0], ids[2], ids[3]]
    assert all(m.conversation_id == conv and m.error is None for m in got.messages)
    assert got.messages[0].created_at < got.messages[2].created_at


@pytest.mark.parametrize(("role", "status"), [("robot", "complete"), ("user", "done")])
def test_add_message_rejects_unknown_role_or_status(
    store: HistoryStore, role: str, status: str
) -> None:
    conv = store.new_conversation(**CHAT)
    with pytest.raises(ValueError, match="must be one of"):
        store.add_message(conv, role, "x", status)  # type: ignore[arg-type]


def test_reply_is_saved_as_it_streams_then_settled(store: HistoryStore) -> None:
    conv = store.new_conversation(**CHAT)
    store.add_message(conv, "user", "count")
    reply = store.add_message(conv, "assistant", "", "streaming")
    store.update_message(reply, "one")
    store.update_message(reply, "one two")
    msg = _get(store, conv).messages[-1]
    assert (msg.content, msg.status, msg.metrics) == ("one two", "streaming", None)
    store.update_message(
        reply, "one two three", status="complete", metrics={"ttft": 0.25, "total": 1.5, "tokens": 3}
    )
    msg = _get(store, conv).messages[-1]
    assert (msg.content, msg.status) == ("one two three", "complete")
    assert msg.metrics == {"ttft": 0.25, "total": 1.5, "tokens": 3}


def test_update_message_accepts_reply_metrics(store: HistoryStore) -> None:
    conv = store.new_conversation(**CHAT)
    reply = store.add_message(conv, "assistant", "", "streaming")
    metrics = ReplyMetrics(first_token=0.5, total=2.5, tokens=21, tokens_estimated=False, chunks=20)
    store.update_message(reply, "done", status="complete", metrics=metrics)
    saved = _get(store, conv).messages[0].metrics
    assert saved is not None
    assert saved["first_token"] == 0.5 and saved["tokens"] == 21
    assert saved["tokens_per_second"] == pytest.approx(10.0)


def test_failed_reply_keeps_partial_text_and_error(store: HistoryStore) -> None:
    conv = store.new_conversation(**CHAT)
    reply = store.add_message(conv, "assistant", "", "streaming")
    store.update_message(reply, "partial", status="error", error="connection dropped")
    store.update_message(reply, "partial")  # a late write leaves status and error alone
    msg = _get(store, conv).messages[0]
    assert (msg.content, msg.status, msg.error) == ("partial", "error", "connection dropped")


def test_update_message_rejects_unknown_status(store: HistoryStore) -> None:
    conv = store.new_conversation(**CHAT)
    reply = store.add_message(conv, "assistant", "")
    with pytest.raises(ValueError, match="status"):
        store.update_message(reply, "x", status="finished")  # type: ignore[arg-type]


def test_resumed_context_follows_the_live_conversation_rules(store: HistoryStore) -> None:
    conv = store.new_conversation(**CHAT)
    store.add_message(conv, "user", "q1")
    store.add_message(conv, "assistant", "a1")
    store.add_message(conv, "user", "q2 failed")
    store.add_message(conv, "assistant", "", "error")
    store.add_message(conv, "user", "q3 stopped")
    store.add_message(conv, "assistant", "partial", "stopped")
    store.add_message(conv, "user", "q4 crashed mid-reply")
    store.add_message(conv, "assistant", "half", "streaming")
    store.add_message(conv, "user", "q5 never answered")
    got = store.get_conversation(conv)
    assert got is not None
    assert got.chat_messages() == (
        ChatMessage("user", "q1"),
        ChatMessage("assistant", "a1"),
        ChatMessage("user", "q3 stopped"),
        ChatMessage("assistant", "partial"),
        ChatMessage("user", "q4 crashed mid-reply"),
        ChatMessage("assistant", "half"),
    )


def test_store_is_safe_to_share_between_threads(store: HistoryStore) -> None:
    """The app writes from the event loop and may read from a worker thread."""
    conv = store.new_conversation(**CHAT)
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            reply = store.add_message(conv, "assistant", "", "streaming")
            for i in range(20):
                store.update_message(reply, f"{n}:{i}")
                store.list_conversations()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    got = store.get_conversation(conv)
    assert got is not None
    assert sorted(m.content for m in got.messages) == [f"{n}:19" for n in range(4)]
    assert [m.seq for m in got.messages] == [1, 2, 3, 4]


def test_two_stores_on_one_file_see_each_other(data_home: Path, clock: TickingClock) -> None:
    """The TUI and `tui-chat history delete` may have the file open at the same time."""
    with HistoryStore.open(clock=clock) as tui, HistoryStore.open(clock=clock) as shell:
        conv = tui.new_conversation(**CHAT)
        tui.add_message(conv, "user", "hi")
        assert shell.get_conversation(conv) is not None
        shell.delete(conv)
        assert tui.get_conversation(conv) is None


def test_storage_failures_are_history_errors(tmp_path: Path) -> None:
    """The app catches one exception type to report "history not saved" and carry on."""
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(HistoryError, match="file"):
        HistoryStore.open(blocker / "history.sqlite3")
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"definitely not sqlite" * 100)
    with pytest.raises(HistoryError, match="not a database"):
        HistoryStore.open(junk)
    store = HistoryStore.open(tmp_path / "ok.sqlite3")
    store.close()
    with pytest.raises(HistoryError):
        store.list_conversations()
    with pytest.raises(HistoryError):
        store.new_conversation(**CHAT)
