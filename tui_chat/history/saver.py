"""The chat's view of history: save as it happens, never let a storage fault stop a chat.

A full disk or a locked database must not crash the app or lose the conversation on
screen, so every call here catches storage errors and reports them once. A history that
could only be opened read-only is not written at all: the chat says so once, when it
starts (`read_only_notice`), rather than failing on every save.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import TYPE_CHECKING

from tui_chat.history import HistoryError, HistoryStore, SchemaTooNewError, conversation_settings
from tui_chat.history.models import EarlierVersion, MessageStatus, StoredConversation
from tui_chat.settings.config import Settings

if TYPE_CHECKING:  # the reply runner is loaded after the first frame (ui/screens/chat.py)
    from tui_chat.core.metrics import ReplyMetrics
    from tui_chat.core.runner import Ended, ReplySink

_STORAGE_ERRORS = (HistoryError, sqlite3.Error, OSError)
_NOT_A_DATABASE = ("SQLITE_NOTADB", "SQLITE_CORRUPT")


def history_off_notice(error: HistoryError) -> str:
    """What the chat says when the history could not be opened at all: why, and what to do."""
    if isinstance(error, SchemaTooNewError):  # its message already says what to do
        return f"History is off for this run: {error}."
    cause = error.__cause__
    if getattr(cause, "sqlite_errorname", "").startswith(_NOT_A_DATABASE):
        advice = "It is left as it is: move it aside to start a new history"
    else:
        advice = "Make that place writable or set XDG_DATA_HOME to another directory"
    return f"History is off for this run: {error}. {advice}, or run with --no-history."


def read_only_notice(store: HistoryStore) -> str | None:
    """What the chat says when the history can be read but not written (else None)."""
    if store.read_only_reason is None:
        return None
    return (
        f"History is read-only ({store.path}: {store.read_only_reason}). Saved chats can "
        "be opened, but this chat will not be saved."
    )


class HistorySaver:
    def __init__(self, store: HistoryStore | None, on_error: Callable[[str], None]) -> None:
        self.store = store
        self.conversation_id: int | None = None
        self._on_error = on_error
        self._reported = False
        self._saved_length: dict[int, int] = {}

    @property
    def enabled(self) -> bool:
        return self.store is not None

    def _guard(self, action: Callable[[HistoryStore], object], *, writes: bool = True) -> object:
        if self.store is None or (writes and self.store.read_only):
            return None
        try:
            return action(self.store)
        except _STORAGE_ERRORS as error:
            if not self._reported:
                self._reported = True
                self._on_error(f"History is not being saved: {error}")
            return None

    def new_chat(self) -> None:
        self.conversation_id = None

    def begin_turn(self, settings: Settings, prompt: str) -> int | None:
        """Save the prompt before it is sent, and an empty reply to fill; returns its id."""

        def begin(store: HistoryStore) -> int:
            if self.conversation_id is None:
                self.conversation_id = store.new_conversation(**conversation_settings(settings))
            store.add_message(self.conversation_id, "user", prompt)
            return store.add_message(self.conversation_id, "assistant", "", status="streaming")

        reply_id = self._guard(begin)
        return reply_id if isinstance(reply_id, int) else None

    def save_partial(self, reply_id: int | None, text: str) -> None:
        """Called on a timer while streaming; writes only when there is new text."""
        if reply_id is None or self._saved_length.get(reply_id) == len(text):
            return
        self._saved_length[reply_id] = len(text)
        self._guard(lambda store: store.update_message(reply_id, text))

    def finish(
        self,
        reply_id: int | None,
        text: str,
        status: MessageStatus,
        *,
        error: str | None = None,
        metrics: ReplyMetrics | dict[str, object] | None = None,
    ) -> None:
        if reply_id is None:
            return
        self._saved_length.pop(reply_id, None)
        self._guard(
            lambda store: store.update_message(
                reply_id, text, status=status, error=error, metrics=metrics
            )
        )

    def turn(self, reply_id: int | None) -> ReplySink | None:
        """The reply runner's sink for one reply: saved while it streams, settled at the end."""
        return None if reply_id is None else _TurnSink(self, reply_id)

    def discard_turn(self, reply_id: int | None) -> None:
        """Forget a turn stopped before its first word; a chat it emptied is forgotten too."""
        if reply_id is None:
            return
        self._saved_length.pop(reply_id, None)
        if self._guard(lambda store: store.delete_turn(reply_id)) is True:
            self.conversation_id = None

    def replace_last_turn(self) -> None:
        """A retry or an edit: the last turn stays in history as an earlier version."""
        if self.conversation_id is None:
            return
        conversation_id = self.conversation_id
        self._guard(lambda store: store.replace_last_turn(conversation_id))

    def earlier_versions(self, message_id: int | None) -> list[EarlierVersion]:
        """The turns a retry or an edit replaced with the one holding `message_id`."""
        if message_id is None:
            return []
        found = self._guard(lambda store: store.earlier_versions(message_id), writes=False)
        return found if isinstance(found, list) else []

    def settings_changed(self, settings: Settings) -> None:
        if self.conversation_id is None:
            return
        conversation_id = self.conversation_id
        self._guard(
            lambda store: store.update_settings(conversation_id, **conversation_settings(settings))
        )

    def load(self, conversation_id: int) -> StoredConversation | None:
        found = self._guard(lambda store: store.get_conversation(conversation_id), writes=False)
        if isinstance(found, StoredConversation):
            self.conversation_id = conversation_id
            return found
        return None


class _TurnSink:
    def __init__(self, saver: HistorySaver, reply_id: int) -> None:
        self._saver = saver
        self._reply_id = reply_id

    def on_progress(self, text: str) -> None:
        self._saver.save_partial(self._reply_id, text)

    def on_end(self, ended: Ended) -> None:
        self._saver.finish(
            self._reply_id, ended.text, ended.status, error=ended.error, metrics=_record(ended)
        )


def _record(ended: Ended) -> ReplyMetrics | dict[str, object]:
    """The reply's metrics JSON, carrying its reasoning and refusal too: saved with the
    reply without a schema change (old databases and readers ignore the extra keys), and
    kept out of `content`, so reasoning is never sent back as context."""
    if not ended.reasoning and not ended.refusal:
        return ended.metrics
    record = ended.metrics.as_record()
    if ended.reasoning:
        record["reasoning"] = ended.reasoning
    if ended.refusal:
        record["refusal"] = True
    return record
