"""Schema versions: new databases, upgrades of older ones, refusal of newer ones."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tui_chat.history import SCHEMA_VERSION, HistoryStore, SchemaTooNewError
from tui_chat.history.schema import MIGRATIONS, migrate, user_version

from .helpers import run_history


def _connect(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None)


def _add_pinned(conn: sqlite3.Connection) -> None:
    """A stand-in for a future v1 → v2 migration."""
    conn.execute("ALTER TABLE conversations ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0")


def test_new_database_is_at_the_current_version(data_home: Path) -> None:
    with HistoryStore.open() as store:
        conn = _connect(store.path)
    assert user_version(conn) == SCHEMA_VERSION == len(MIGRATIONS)
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"conversations", "messages", "messages_fts"} <= tables
    conn.close()


def test_older_database_is_migrated_keeping_its_data(data_home: Path) -> None:
    with HistoryStore.open() as store:
        conv = store.new_conversation(api="chat", base_url=None, model="m", system=None)
        store.add_message(conv, "user", "from version one")
        path = store.path
    conn = _connect(path)
    try:
        started = migrate(conn, path, migrations=(*MIGRATIONS, _add_pinned))
        assert (started, user_version(conn)) == (SCHEMA_VERSION, SCHEMA_VERSION + 1)
        row = conn.execute("SELECT title, pinned FROM conversations WHERE id = ?", (conv,))
        assert row.fetchone() == ("from version one", 0)
        # Running it again is a no-op, not a second ALTER TABLE.
        assert migrate(conn, path, migrations=(*MIGRATIONS, _add_pinned)) == SCHEMA_VERSION + 1
    finally:
        conn.close()


def test_empty_version_zero_file_gets_every_migration(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    _connect(path).close()  # an existing, empty (user_version 0) database
    with HistoryStore.open(path) as store:
        store.new_conversation(api="chat", base_url=None, model="m", system=None)
    conn = _connect(path)
    assert user_version(conn) == SCHEMA_VERSION
    conn.close()


def test_failed_migration_leaves_the_old_schema_untouched(data_home: Path) -> None:
    with HistoryStore.open() as store:
        path = store.path

    def broken(conn: sqlite3.Connection) -> None:
        _add_pinned(conn)
        raise RuntimeError("disk on fire")

    conn = _connect(path)
    try:
        with pytest.raises(RuntimeError):
            migrate(conn, path, migrations=(*MIGRATIONS, broken))
        assert user_version(conn) == SCHEMA_VERSION
        columns = {r[1] for r in conn.execute("PRAGMA table_info(conversations)")}
        assert "pinned" not in columns
    finally:
        conn.close()


def _make_too_new(path: Path) -> None:
    conn = _connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()


def test_newer_database_is_refused_with_a_clear_error(data_home: Path) -> None:
    with HistoryStore.open() as store:
        path = store.path
    _make_too_new(path)
    with pytest.raises(SchemaTooNewError, match="upgrade tui-chat") as caught:
        HistoryStore.open()
    assert str(path) in str(caught.value)
    assert (caught.value.found, caught.value.known) == (SCHEMA_VERSION + 1, SCHEMA_VERSION)
    conn = _connect(path)
    assert user_version(conn) == SCHEMA_VERSION + 1  # untouched
    conn.close()


def test_shell_reports_a_newer_database_in_one_line(data_home: Path) -> None:
    with HistoryStore.open() as store:
        path = store.path
    _make_too_new(path)
    result = run_history(data_home, "list")
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert "upgrade tui-chat" in result.stderr
    assert "Traceback" not in result.stderr


def test_shell_reports_a_file_that_is_not_a_database(data_home: Path) -> None:
    path = data_home / "tui-chat" / "history.sqlite3"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"this is not sqlite" * 100)
    result = run_history(data_home, "list")
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert str(path) in result.stderr


def test_turns_replaced_under_version_three_find_their_current_turn(tmp_path: Path) -> None:
    """v3 kept replaced turns without saying where they stood; v4 works it out from when
    each was replaced: a retry replaced twice, and an edit of the chat's first turn."""
    path = tmp_path / "v3.sqlite3"
    conn = _connect(path)
    migrate(conn, path, migrations=MIGRATIONS[:3])
    conn.execute(
        "INSERT INTO conversations (created_at, updated_at, api, model)"
        " VALUES ('2026-01-01T00:00:00', '2026-01-01T00:00:00', 'chat', 'm')"
    )
    rows = [  # seq, role, content, replaced_at
        (1, "user", "tow", "2026-01-01T00:00:01"),
        (2, "assistant", "a typo's answer", "2026-01-01T00:00:01"),
        (3, "user", "two", None),
        (4, "assistant", "answer", None),
        (5, "user", "next", "2026-01-01T00:00:02"),
        (6, "assistant", "draft one", "2026-01-01T00:00:02"),
        (7, "user", "next", "2026-01-01T00:00:03"),
        (8, "assistant", "draft two", "2026-01-01T00:00:03"),
        (9, "user", "next", None),
        (10, "assistant", "final", None),
    ]
    for seq, role, content, replaced_at in rows:
        conn.execute(
            "INSERT INTO messages (conversation_id, seq, role, content, status, created_at,"
            " replaced_at) VALUES (1, ?, ?, ?, 'complete', '2026-01-01T00:00:00', ?)",
            (seq, role, content, replaced_at),
        )
    conn.close()
    with HistoryStore.open(path) as store:
        current = store.get_conversation(1)
        assert current is not None
        assert [(m.content, m.earlier_versions) for m in current.messages] == [
            ("two", 1),
            ("answer", 0),
            ("next", 2),
            ("final", 0),
        ]
        first, _, _, last = current.messages
        assert [v.reply.content for v in store.earlier_versions(first.id) if v.reply] == [
            "a typo's answer"
        ]
        assert [v.reply.content for v in store.earlier_versions(last.id) if v.reply] == [
            "draft one",
            "draft two",
        ]
