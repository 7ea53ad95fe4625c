"""The conversation history: one SQLite file, every call one short transaction.

Why it never loses a message: the database is in WAL mode and each call commits
before it returns, so a process killed mid-reply keeps everything up to the last
`update_message` (the app calls it every half second). `synchronous=FULL` makes each
commit durable across a power cut too, at the cost of one fsync per call.

What it never stores: an API key. No method takes a `Settings`; `conversation_settings`
copies the four fields that may be kept, by name.

The connection is shared by the Textual event loop and any worker thread, so it is
opened with `check_same_thread=False` and every call holds `self._lock`.
"""

from __future__ import annotations

import errno
import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from tui_chat.core.protocol import Role
from tui_chat.core.redact import display_url
from tui_chat.history.models import (
    MATCH_END,
    MATCH_START,
    ROLES,
    STATUSES,
    ConversationSummary,
    EarlierVersion,
    MessageStatus,
    SearchHit,
    StoredConversation,
    StoredMessage,
    group_turns,
    make_title,
)
from tui_chat.history.schema import HistoryError, check_not_too_new, migrate, user_version
from tui_chat.settings.paths import default_db_path

if TYPE_CHECKING:
    from tui_chat.core.metrics import ReplyMetrics
    from tui_chat.settings.config import Settings


class NotFoundError(HistoryError, KeyError):
    """No conversation or message with that id (it may have been deleted elsewhere)."""

    def __str__(self) -> str:  # KeyError would add quotes around the message
        return str(self.args[0]) if self.args else "not found"


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = _Unset()

_SNIPPET_TOKENS = 12
#: How long a call waits for another process's write (the shell deleting while the TUI
#: streams). Writes are sub-millisecond, so waiting is rare and short.
_BUSY_TIMEOUT = 5.0


def conversation_settings(settings: Settings) -> dict[str, str | None]:
    """The settings worth keeping with a conversation, copied by name (never `api_key`).

    `store.new_conversation(**conversation_settings(settings))`.
    """
    return {
        "api": settings.api,
        # Without user:password: history is exported and shown, credentials never are.
        "base_url": display_url(settings.base_url) if settings.base_url else None,
        "model": settings.model,
        "system": settings.system,
    }


def fts_query(text: str) -> str:
    """User text as an FTS5 query that cannot be a syntax error: every whitespace-separated
    term becomes a quoted string (inner quotes doubled), all terms must match. NUL goes:
    the FTS5 parser would take it for the end of the query, inside an open string."""
    terms = text.replace("\x00", " ").split()
    return " ".join('"' + term.replace('"', '""') + '"' for term in terms)


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _metrics_json(metrics: Mapping[str, Any] | ReplyMetrics) -> str:
    if isinstance(metrics, Mapping):
        data = dict(metrics)
    else:  # a ReplyMetrics: keep its derived rate too, so readers need not recompute it
        data = asdict(metrics)
        if metrics.tokens_per_second is not None:
            data["tokens_per_second"] = metrics.tokens_per_second
    return json.dumps(data, separators=(",", ":"))


#: Beside the database: every process that has it open for writing holds a shared
#: `flock` on this file until it closes it (see `_hold_lock_and_mark_orphans`).
LOCK_SUFFIX = ".lock"
_READ_ONLY_ERRNOS = frozenset({errno.EACCES, errno.EPERM, errno.EROFS})


class ReadOnlyError(HistoryError):
    """A change was asked of a history that could only be opened read-only."""


def _prepare_file(path: Path) -> str | None:
    """Create the directory and an empty 0600 database file: conversations are private,
    and SQLite gives its -wal and -shm files the database file's permissions.

    Returns None if the database can be written, else why not (an existing file that
    cannot be written can still be read). Asks the kernel rather than reading mode bits,
    which root ignores. Raises OSError when there is no file to read.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        pass
    try:
        os.close(os.open(path, os.O_RDWR))  # opens only; writes nothing
    except OSError as exc:
        if exc.errno not in _READ_ONLY_ERRNOS:
            raise
        return f"the file is not writable: {exc.strerror}"
    if not os.access(path.parent, os.W_OK | os.X_OK):  # SQLite creates -wal and -shm there
        return "its directory is not writable"
    return None


def _is_read_only(exc: BaseException | None) -> bool:
    if isinstance(exc, sqlite3.Error):
        name = getattr(exc, "sqlite_errorname", "")
        return name.startswith(("SQLITE_READONLY", "SQLITE_PERM"))
    return isinstance(exc, OSError) and exc.errno in _READ_ONLY_ERRNOS


def _hold_lock_and_mark_orphans(conn: sqlite3.Connection, path: Path) -> int | None:
    """Mark replies left "streaming" by a process that died as "interrupted"; returns
    the lock's file descriptor, to hold until the database is closed.

    Two tui-chats may share one database, so "streaming" alone does not mean dead. The
    rule: every process with the database open for writing holds a shared `flock` on
    `<database>.lock`, and the kernel drops it when the process ends, SIGKILL included.
    Whoever gets that lock exclusively has the database to itself, so every reply still
    "streaming" belongs to a dead process. A last-save age would need a heartbeat and
    still mark a live reply waiting long for its first token, or a process paused with
    Ctrl+Z; an owner pid breaks across PID namespaces and pid reuse. The price of the
    lock: orphans wait to be marked until no other tui-chat has the database open.
    """
    try:
        import fcntl
    except ImportError:  # no flock (Windows): never mark, rather than mark a live reply
        return None
    fd = os.open(path.with_name(path.name + LOCK_SUFFIX), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pass  # another process has the database open; its replies may be live
        else:
            conn.execute("UPDATE messages SET status = 'interrupted' WHERE status = 'streaming'")
        fcntl.flock(fd, fcntl.LOCK_SH)  # waits only while another opener marks orphans
    except BaseException:
        os.close(fd)
        raise
    return fd


class HistoryStore:
    """Saved conversations. Make one with `HistoryStore.open()`; `close()` when done."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        path: Path,
        *,
        clock: Callable[[], datetime] = _utcnow,
        read_only_reason: str | None = None,
        lock_fd: int | None = None,
    ) -> None:
        self._conn = conn
        self._lock = threading.Lock()
        self._clock = clock
        self._lock_fd = lock_fd
        self.path = path
        #: Why this store cannot write (None when it can): reads work, changes raise
        #: `ReadOnlyError`.
        self.read_only_reason = read_only_reason

    @property
    def read_only(self) -> bool:
        return self.read_only_reason is not None

    # -- lifecycle -----------------------------------------------------------------

    @classmethod
    def open(
        cls,
        path: Path | None = None,
        *,
        clock: Callable[[], datetime] = _utcnow,
        read_only: bool = False,
    ) -> HistoryStore:
        """Open (creating and migrating if needed) the database at `path`, by default
        `$XDG_DATA_HOME/tui-chat/history.sqlite3` or the OS's user data directory.

        A database that exists but cannot be written (its mode, its directory's, a
        read-only mount) is opened read-only, so saved chats stay readable;
        `read_only_reason` says why. `read_only=True` asks for that outright.

        Raises `SchemaTooNewError` for a database written by a newer tui-chat, and
        `HistoryError` if the file cannot be created or is not a database (which is then
        left exactly as it was).
        """
        path = default_db_path() if path is None else Path(path)
        if read_only:
            return cls._open_read_only(path, "opened read-only", clock=clock, could_write=True)
        with _as_history_error(path):
            reason = _prepare_file(path)
        if reason is None:
            try:
                return cls._open_writable(path, clock=clock)
            except HistoryError as error:
                if not _is_read_only(error.__cause__):
                    raise
                reason = str(error.__cause__)
        return cls._open_read_only(path, reason, clock=clock, could_write=False)

    @classmethod
    def _open_writable(cls, path: Path, *, clock: Callable[[], datetime]) -> HistoryStore:
        with _as_history_error(path):
            conn = sqlite3.connect(
                path, timeout=_BUSY_TIMEOUT, isolation_level=None, check_same_thread=False
            )
            try:
                check_not_too_new(conn, path)  # before any write: a newer file stays untouched
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("PRAGMA synchronous = FULL")
                conn.execute("PRAGMA foreign_keys = ON")
                migrate(conn, path)
                lock_fd = _hold_lock_and_mark_orphans(conn, path)
            except BaseException:
                conn.close()
                raise
        return cls(conn, path, clock=clock, lock_fd=lock_fd)

    @classmethod
    def _open_read_only(
        cls, path: Path, reason: str, *, clock: Callable[[], datetime], could_write: bool
    ) -> HistoryStore:
        """A connection that cannot write.

        No -wal file means no connection has the database open (SQLite removes it when
        the last one closes), so nothing waits to be checkpointed: then `immutable=1`
        reads the file as it is and creates no -wal and -shm beside it, which a read-only
        connection would leave behind (with the database's read-only mode, in the way of
        a later writer). Given up: a writer that starts meanwhile is not seen by this
        store. An empty -wal counts as none when this process could not write anyway.
        """
        with _as_history_error(path):
            wal = path.with_name(path.name + "-wal")
            wal_size = wal.stat().st_size if wal.exists() else None
            immutable = wal_size is None or (wal_size == 0 and not could_write)
            params = "mode=ro&immutable=1" if immutable else "mode=ro"
            conn = sqlite3.connect(
                f"{path.absolute().as_uri()}?{params}",
                uri=True,
                timeout=_BUSY_TIMEOUT,
                isolation_level=None,
                check_same_thread=False,
            )
            try:
                check_not_too_new(conn, path)
                if user_version(conn) == 0:
                    raise HistoryError(f"{path}: holds no history yet and is read-only ({reason})")
            except BaseException:
                conn.close()
                raise
        return cls(conn, path, clock=clock, read_only_reason=reason)

    def close(self) -> None:
        """Close the database, then let go of the lock (after the last write, not before)."""
        with self._lock:
            self._conn.close()
            if self._lock_fd is not None:
                os.close(self._lock_fd)
                self._lock_fd = None

    def __enter__(self) -> HistoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _now(self) -> str:
        """Timestamps are stored as fixed-width UTC ISO 8601 text: readable, and they sort."""
        return self._clock().astimezone(UTC).isoformat(timespec="microseconds")

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One short write transaction under the lock; committed before the call returns."""
        if self.read_only_reason is not None:
            raise ReadOnlyError(
                f"{self.path} is read-only ({self.read_only_reason}): nothing can be changed"
            )
        with self._lock, _as_history_error(self.path):
            conn = self._conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    @contextmanager
    def _read(self, *, snapshot: bool = False) -> Iterator[sqlite3.Connection]:
        """Under the lock; `snapshot` makes several SELECTs see one consistent state."""
        with self._lock, _as_history_error(self.path):
            if not snapshot:
                yield self._conn
                return
            self._conn.execute("BEGIN")
            try:
                yield self._conn
            finally:
                self._conn.execute("COMMIT")

    # -- conversations -------------------------------------------------------------

    def new_conversation(
        self, *, api: str, base_url: str | None, model: str, system: str | None
    ) -> int:
        """Start a conversation; the title comes from its first user message."""
        now = self._now()
        with self._write() as db:
            cur = db.execute(
                "INSERT INTO conversations (created_at, updated_at, api, base_url, model, system)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (now, now, api, base_url, model, system),
            )
            return int(cur.lastrowid or 0)

    def update_settings(
        self,
        conv_id: int,
        *,
        api: str | _Unset = UNSET,
        base_url: str | None | _Unset = UNSET,
        model: str | _Unset = UNSET,
        system: str | None | _Unset = UNSET,
    ) -> None:
        """Record a switch of provider, URL, model or system prompt mid-conversation.

        Only the fields passed change (`None` is a value: "no base URL / no system").
        """
        changes = {
            name: value
            for name, value in (
                ("api", api),
                ("base_url", base_url),
                ("model", model),
                ("system", system),
            )
            if not isinstance(value, _Unset)
        }
        sets = "".join(f", {name} = :{name}" for name in changes)  # names are ours, not input
        with self._write() as db:
            cur = db.execute(
                f"UPDATE conversations SET updated_at = :now{sets} WHERE id = :id",
                {**changes, "now": self._now(), "id": conv_id},
            )
            if cur.rowcount == 0:
                raise NotFoundError(f"no conversation {conv_id}")

    def rename(self, conv_id: int, title: str) -> None:
        """Set the title (made one line; blank clears it). Not activity: the
        conversation keeps its place in the newest-first list."""
        clean = " ".join(title.split()) or None
        with self._write() as db:
            cur = db.execute("UPDATE conversations SET title = ? WHERE id = ?", (clean, conv_id))
            if cur.rowcount == 0:
                raise NotFoundError(f"no conversation {conv_id}")

    def delete(self, conv_id: int) -> None:
        """Delete a conversation and its messages (and their search index entries)."""
        with self._write() as db:
            cur = db.execute("DELETE FROM conversations WHERE id = ?", (conv_id,))
            if cur.rowcount == 0:
                raise NotFoundError(f"no conversation {conv_id}")

    def latest_id(self) -> int | None:
        """The most recently updated conversation, e.g. for `--continue`."""
        with self._read() as db:
            row = db.execute(
                "SELECT id FROM conversations ORDER BY updated_at DESC, id DESC LIMIT 1"
            ).fetchone()
        return None if row is None else int(row[0])

    def list_conversations(self, limit: int | None = None) -> list[ConversationSummary]:
        """Newest (most recently updated) first, with message counts."""
        with self._read() as db:
            rows = db.execute(
                "SELECT c.id, c.title, c.created_at, c.updated_at, c.api, c.model,"
                " (SELECT count(*) FROM messages m WHERE m.conversation_id = c.id"
                " AND m.replaced_at IS NULL)"
                " FROM conversations c ORDER BY c.updated_at DESC, c.id DESC LIMIT ?",
                (-1 if limit is None else limit,),
            ).fetchall()
        return [
            ConversationSummary(
                id=row[0],
                title=row[1],
                created_at=_time(row[2]),
                updated_at=_time(row[3]),
                api=row[4],
                model=row[5],
                message_count=row[6],
            )
            for row in rows
        ]

    def get_conversation(
        self, conv_id: int, *, replaced: bool = False
    ) -> StoredConversation | None:
        """The conversation with its messages in order, or None if there is none.

        Turns a retry or an edit replaced are left out unless `replaced`: the current
        version is what is shown and sent as context when the chat is resumed.
        """
        with self._read(snapshot=True) as db:  # the messages must match the conversation row
            row = db.execute(
                "SELECT id, title, created_at, updated_at, api, base_url, model, system"
                " FROM conversations WHERE id = ?",
                (conv_id,),
            ).fetchone()
            rows = db.execute(
                f"SELECT {_COLUMNS} FROM messages WHERE conversation_id = ?"
                " AND (? OR replaced_at IS NULL) ORDER BY seq",
                (conv_id, replaced),
            ).fetchall()
            earlier = dict(
                db.execute(
                    "SELECT after_seq, count(*) FROM messages WHERE conversation_id = ?"
                    " AND replaced_at IS NOT NULL AND role = 'user' GROUP BY after_seq",
                    (conv_id,),
                ).fetchall()
            )
        if row is None:
            return None
        return StoredConversation(
            id=row[0],
            title=row[1],
            created_at=_time(row[2]),
            updated_at=_time(row[3]),
            api=row[4],
            base_url=row[5],
            model=row[6],
            system=row[7],
            messages=_with_version_counts([_message(r) for r in rows], earlier),
        )

    # -- messages ------------------------------------------------------------------

    def add_message(
        self, conv_id: int, role: Role, content: str, status: MessageStatus = "complete"
    ) -> int:
        """Append a message and return its id. Save the user's prompt with this *before*
        sending it; start a reply as `add_message(id, "assistant", "", "streaming")`."""
        _check(role=role, status=status)
        now = self._now()
        title = make_title(content) if role == "user" else None
        with self._write() as db:
            cur = db.execute(
                "UPDATE conversations SET updated_at = ?, title = coalesce(title, ?) WHERE id = ?",
                (now, title, conv_id),
            )
            if cur.rowcount == 0:
                raise NotFoundError(f"no conversation {conv_id}")
            cur = db.execute(
                "INSERT INTO messages (conversation_id, seq, role, content, status, created_at)"
                " VALUES (?, (SELECT coalesce(max(seq), 0) + 1 FROM messages"
                " WHERE conversation_id = ?), ?, ?, ?, ?)",
                (conv_id, conv_id, role, content, status, now),
            )
            return int(cur.lastrowid or 0)

    def update_message(
        self,
        msg_id: int,
        content: str,
        status: MessageStatus | None = None,
        error: str | None = None,
        metrics: Mapping[str, Any] | ReplyMetrics | None = None,
    ) -> None:
        """Replace a message's text while it streams, and settle it at the end
        (`status="complete" | "stopped" | "error"`). `None` leaves a field as it is."""
        if status is not None:
            _check(status=status)
        with self._write() as db:
            cur = db.execute(
                "UPDATE messages SET content = ?, status = coalesce(?, status),"
                " error = coalesce(?, error), metrics = coalesce(?, metrics) WHERE id = ?",
                (
                    content,
                    status,
                    error,
                    None if metrics is None else _metrics_json(metrics),
                    msg_id,
                ),
            )
            if cur.rowcount == 0:
                raise NotFoundError(f"no message {msg_id}")
            db.execute(
                "UPDATE conversations SET updated_at = ?"
                " WHERE id = (SELECT conversation_id FROM messages WHERE id = ?)",
                (self._now(), msg_id),
            )

    def replace_last_turn(self, conv_id: int) -> bool:
        """Mark the last current turn (its prompt and what came after it) as replaced by
        a retry or an edit; it stays as an earlier version of whatever turn comes to
        stand in its place (after the same message, `after_seq`). False when there is none."""
        with self._write() as db:
            row = db.execute(
                "SELECT max(seq) FROM messages WHERE conversation_id = ? AND role = 'user'"
                " AND replaced_at IS NULL",
                (conv_id,),
            ).fetchone()
            if row is None or row[0] is None:
                return False
            start = row[0]
            db.execute(
                "UPDATE messages SET replaced_at = ?, after_seq = ("
                " SELECT coalesce(max(seq), 0) FROM messages WHERE conversation_id = ?"
                " AND seq < ? AND replaced_at IS NULL)"
                " WHERE conversation_id = ? AND seq >= ? AND replaced_at IS NULL",
                (self._now(), conv_id, start, conv_id, start),
            )
            return True

    def replaced_messages(self, conv_id: int) -> list[StoredMessage]:
        """The earlier versions of turns that a retry or an edit replaced, in order."""
        with self._read() as db:
            rows = db.execute(
                f"SELECT {_COLUMNS} FROM messages WHERE conversation_id = ?"
                " AND replaced_at IS NOT NULL ORDER BY seq",
                (conv_id,),
            ).fetchall()
        return [_message(r) for r in rows]

    def earlier_versions(self, message_id: int) -> list[EarlierVersion]:
        """The earlier versions of the current turn holding `message_id` (its prompt or
        its reply), oldest first: the replaced turns that stood after the same message."""
        with self._read(snapshot=True) as db:
            row = db.execute(
                "SELECT conversation_id, seq, role FROM messages"
                " WHERE id = ? AND replaced_at IS NULL",
                (message_id,),
            ).fetchone()
            if row is None:
                return []
            conv_id, seq, role = row
            if role != "user":
                found = db.execute(
                    "SELECT max(seq) FROM messages WHERE conversation_id = ? AND role = 'user'"
                    " AND seq < ? AND replaced_at IS NULL",
                    (conv_id, seq),
                ).fetchone()
                seq = seq if found[0] is None else found[0]
            after = db.execute(
                "SELECT coalesce(max(seq), 0) FROM messages WHERE conversation_id = ?"
                " AND seq < ? AND replaced_at IS NULL",
                (conv_id, seq),
            ).fetchone()[0]
            rows = db.execute(
                f"SELECT {_COLUMNS} FROM messages WHERE conversation_id = ?"
                " AND replaced_at IS NOT NULL AND after_seq = ? ORDER BY seq",
                (conv_id, after),
            ).fetchall()
        return group_turns([_message(r) for r in rows])

    def delete_turn(self, reply_id: int) -> bool:
        """Take back a turn that produced nothing (stopped before its first word): the
        reply and the prompt just before it. An emptied conversation goes too; returns
        True when it did."""
        with self._write() as db:
            row = db.execute(
                "SELECT conversation_id, seq FROM messages WHERE id = ?", (reply_id,)
            ).fetchone()
            if row is None:
                raise NotFoundError(f"no message {reply_id}")
            conv_id, seq = row
            db.execute(
                "DELETE FROM messages WHERE conversation_id = ? AND seq IN (?, ?)"
                " AND (id = ? OR role = 'user')",
                (conv_id, seq, seq - 1, reply_id),
            )
            left = db.execute(
                "SELECT count(*) FROM messages WHERE conversation_id = ?", (conv_id,)
            ).fetchone()[0]
            if left == 0:
                db.execute("DELETE FROM conversations WHERE id = ?", (conv_id,))
            return left == 0

    # -- search --------------------------------------------------------------------

    def search(self, text: str, limit: int = 50) -> list[SearchHit]:
        """Messages containing every word of `text`, best match first.

        Only current messages: an earlier version a retry or an edit replaced is not
        found (opening the chat would not show it); it is read through its current turn.

        Any input is safe (terms are quoted, so `foo"bar`, `C++` or `NOT` are just
        words). Matching follows the FTS5 `unicode61` tokenizer: case- and
        accent-insensitive whole words, punctuation ignored (`C++` finds "c").
        """
        query = fts_query(text)
        if not query:
            return []
        with self._read() as db:
            rows = db.execute(
                "SELECT m.conversation_id, c.title, m.id, m.seq, m.role,"
                " snippet(messages_fts, 0, ?, ?, '…', ?), m.created_at"
                " FROM messages_fts"
                " JOIN messages m ON m.id = messages_fts.rowid"
                " JOIN conversations c ON c.id = m.conversation_id"
                " WHERE messages_fts MATCH ? AND m.replaced_at IS NULL"
                " ORDER BY rank, m.id DESC LIMIT ?",
                (MATCH_START, MATCH_END, _SNIPPET_TOKENS, query, limit),
            ).fetchall()
        return [
            SearchHit(
                conversation_id=row[0],
                title=row[1],
                message_id=row[2],
                seq=row[3],
                role=row[4],
                snippet=row[5],
                created_at=_time(row[6]),
            )
            for row in rows
        ]

    def recent_prompts(self, limit: int = 1000) -> list[str]:
        """The user's prompts from every conversation, newest first, each text once (at
        its newest use): what Up and Ctrl+R in the prompt box recall."""
        with self._read() as db:
            rows = db.execute(
                "SELECT content FROM messages WHERE role = 'user' AND content != ''"
                " GROUP BY content ORDER BY max(id) DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [row[0] for row in rows]


@contextmanager
def _as_history_error(path: Path) -> Iterator[None]:
    """SQLite and file-system failures become `HistoryError`, the one type the app catches
    to say "history not saved" and carry on chatting."""
    try:
        yield
    except (sqlite3.Error, OSError) as exc:
        detail = str(exc)
        if isinstance(exc, OSError) and exc.strerror:  # without "[Errno 13]" and the path again
            detail = exc.strerror
            if exc.filename is not None and Path(exc.filename) != path:
                detail += f": {exc.filename}"
        raise HistoryError(f"{path}: {detail}") from exc


def _check(*, role: str | None = None, status: str | None = None) -> None:
    if role is not None and role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    if status is not None and status not in STATUSES:
        raise ValueError(f"status must be one of {', '.join(STATUSES)}, not {status!r}")


_COLUMNS = (
    "id, conversation_id, seq, role, content, status, error, created_at, metrics, replaced_at"
)


def _message(row: tuple[Any, ...]) -> StoredMessage:
    return StoredMessage(
        id=row[0],
        conversation_id=row[1],
        seq=row[2],
        role=row[3],
        content=row[4],
        status=row[5],
        error=row[6],
        created_at=_time(row[7]),
        metrics=None if row[8] is None else json.loads(row[8]),
        replaced_at=None if row[9] is None else _time(row[9]),
    )


def _with_version_counts(
    messages: list[StoredMessage], earlier: Mapping[int, int]
) -> tuple[StoredMessage, ...]:
    """Each current prompt with the number of replaced turns that stood in its place
    (after the current message before it)."""
    if not earlier:
        return tuple(messages)
    out: list[StoredMessage] = []
    before = 0  # the seq of the last current message so far
    for message in messages:
        if message.replaced_at is not None:
            out.append(message)
            continue
        if message.role == "user" and earlier.get(before):
            message = replace(message, earlier_versions=earlier[before])
        out.append(message)
        before = message.seq
    return tuple(out)
