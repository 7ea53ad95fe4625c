"""The history schema and its migrations.

`PRAGMA user_version` is the schema version. `MIGRATIONS[i]` takes a database from
version `i` to `i + 1`, so a new release appends a function and never edits an old one.
All pending steps run in one `BEGIN IMMEDIATE` transaction: a crash mid-upgrade leaves
the old schema intact, and two processes opening at once cannot both migrate.
A database newer than this code raises `SchemaTooNewError` rather than being guessed at.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path

Migration = Callable[[sqlite3.Connection], None]


class HistoryError(Exception):
    """Base for history failures a person should read (one line, says what to do)."""


class SchemaTooNewError(HistoryError):
    def __init__(self, path: Path | str, found: int, known: int) -> None:
        super().__init__(
            f"{path} uses history schema version {found}, but this tui-chat only knows "
            f"versions up to {known}: upgrade tui-chat, or run with --no-history"
        )
        self.found = found
        self.known = known


_V1 = (
    """
    CREATE TABLE conversations (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: ids are typed by people
        created_at  TEXT NOT NULL,                      -- ISO 8601, UTC, fixed width (sorts as text)
        updated_at  TEXT NOT NULL,
        title       TEXT,
        api         TEXT NOT NULL,
        base_url    TEXT,
        model       TEXT NOT NULL,
        system      TEXT
    )
    """,
    "CREATE INDEX conversations_updated ON conversations (updated_at)",
    """
    CREATE TABLE messages (
        id              INTEGER PRIMARY KEY,
        conversation_id INTEGER NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
        seq             INTEGER NOT NULL,
        role            TEXT NOT NULL CHECK (role IN ('user', 'assistant', 'system')),
        content         TEXT NOT NULL,
        status          TEXT NOT NULL
                        CHECK (status IN ('complete', 'stopped', 'error', 'streaming')),
        error           TEXT,
        created_at      TEXT NOT NULL,
        metrics         TEXT,                           -- JSON object or NULL
        UNIQUE (conversation_id, seq)
    )
    """,
    # External-content FTS5 index over messages.content, kept in sync by the triggers.
    """
    CREATE VIRTUAL TABLE messages_fts USING fts5 (
        content, content = 'messages', content_rowid = 'id',
        tokenize = 'unicode61 remove_diacritics 2'
    )
    """,
    """
    CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
        INSERT INTO messages_fts (rowid, content) VALUES (new.id, new.content);
    END
    """,
    """
    CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
        INSERT INTO messages_fts (messages_fts, rowid, content)
            VALUES ('delete', old.id, old.content);
    END
    """,
    """
    CREATE TRIGGER messages_fts_update AFTER UPDATE OF content ON messages BEGIN
        INSERT INTO messages_fts (messages_fts, rowid, content)
            VALUES ('delete', old.id, old.content);
        INSERT INTO messages_fts (rowid, content) VALUES (new.id, new.content);
    END
    """,
)


def _initial(conn: sqlite3.Connection) -> None:
    """v0 → v1: conversations, messages and the full-text index."""
    for statement in _V1:
        conn.execute(statement)


_FTS_TRIGGERS = ("messages_fts_insert", "messages_fts_delete", "messages_fts_update")


def _interrupted_status(conn: sqlite3.Connection) -> None:
    """v1 → v2: the status 'interrupted', for a reply whose process died mid-stream.

    SQLite cannot change a CHECK constraint in place, so `messages` is rebuilt (SQLite's
    documented procedure). Ids are kept, so the external-content search index, keyed by
    id, stays valid as it is; its triggers go first so the copy does not touch it.
    """
    for name in _FTS_TRIGGERS:
        conn.execute(f"DROP TRIGGER {name}")
    conn.execute(
        """
        CREATE TABLE messages_v2 (
            id              INTEGER PRIMARY KEY,
            conversation_id INTEGER NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
            seq             INTEGER NOT NULL,
            role            TEXT NOT NULL CHECK (role IN ('user', 'assistant', 'system')),
            content         TEXT NOT NULL,
            status          TEXT NOT NULL CHECK (status IN
                            ('complete', 'stopped', 'error', 'streaming', 'interrupted')),
            error           TEXT,
            created_at      TEXT NOT NULL,
            metrics         TEXT,
            UNIQUE (conversation_id, seq)
        )
        """
    )
    columns = "id, conversation_id, seq, role, content, status, error, created_at, metrics"
    conn.execute(f"INSERT INTO messages_v2 ({columns}) SELECT {columns} FROM messages")
    conn.execute("DROP TABLE messages")
    conn.execute("ALTER TABLE messages_v2 RENAME TO messages")
    for statement in _V1[4:]:  # the three triggers, as version 1 made them
        conn.execute(statement)


def _replaced_marker(conn: sqlite3.Connection) -> None:
    """v2 → v3: `replaced_at`, set on a turn that a retry or an edit replaced.

    A column, not a status: the earlier version keeps how it ended (complete, stopped),
    and NULL (every row so far) means "current". Adding a nullable column needs no rebuild.
    """
    conn.execute("ALTER TABLE messages ADD COLUMN replaced_at TEXT")


def _replaced_place(conn: sqlite3.Connection) -> None:
    """v3 → v4: `after_seq`, where a replaced turn stood: the seq of the current message
    it followed (0: the start of the chat). The turn now standing after that message is
    the one that replaced it, so its earlier versions are found without guessing.

    Turns replaced under v3 get it from their `replaced_at`: the messages before the
    turn that were still current when it was replaced (not replaced, or replaced later).
    """
    conn.execute("ALTER TABLE messages ADD COLUMN after_seq INTEGER")
    conn.execute(
        """
        UPDATE messages AS r SET after_seq = coalesce((
            SELECT max(p.seq) FROM messages p
            WHERE p.conversation_id = r.conversation_id
              AND p.seq < coalesce((
                  SELECT max(u.seq) FROM messages u
                  WHERE u.conversation_id = r.conversation_id AND u.role = 'user'
                    AND u.seq <= r.seq AND u.replaced_at = r.replaced_at
              ), r.seq)
              AND (p.replaced_at IS NULL OR p.replaced_at > r.replaced_at)
        ), 0)
        WHERE r.replaced_at IS NOT NULL
        """
    )


#: Append only. Index i migrates version i to i + 1.
MIGRATIONS: tuple[Migration, ...] = (
    _initial,
    _interrupted_status,
    _replaced_marker,
    _replaced_place,
)
SCHEMA_VERSION = len(MIGRATIONS)


def user_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def check_not_too_new(
    conn: sqlite3.Connection, path: Path | str, migrations: Sequence[Migration] = MIGRATIONS
) -> None:
    found = user_version(conn)
    if found > len(migrations):
        raise SchemaTooNewError(path, found, len(migrations))


def migrate(
    conn: sqlite3.Connection, path: Path | str = "", migrations: Sequence[Migration] = MIGRATIONS
) -> int:
    """Bring the database up to `len(migrations)`; returns the version it started at.

    `conn` must be in autocommit mode (`isolation_level=None`): the transaction is ours.
    """
    target = len(migrations)
    if user_version(conn) == target:
        return target
    conn.execute("BEGIN IMMEDIATE")
    try:
        start = user_version(conn)  # again, now that we hold the write lock
        if start > target:
            raise SchemaTooNewError(path, start, target)
        for step in migrations[start:target]:
            step(conn)
        conn.execute(f"PRAGMA user_version = {int(target)}")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return start
