"""Conversation history: saved as it happens, searchable, exportable.

Plain modules, no widgets: `store` (the SQLite database), `models` (the values it
returns), `export` (Markdown / JSON), `cli` (`tui-chat history ...`). Importing this
package touches no file; only `HistoryStore.open()` creates the database, so a
`--no-history` run reads and writes nothing simply by never opening one.
"""

from __future__ import annotations

from tui_chat.history.export import export_json, export_markdown
from tui_chat.history.models import (
    MATCH_END,
    MATCH_START,
    ConversationSummary,
    EarlierVersion,
    MessageStatus,
    SearchHit,
    StoredConversation,
    StoredMessage,
    make_title,
)
from tui_chat.history.schema import SCHEMA_VERSION, HistoryError, SchemaTooNewError
from tui_chat.history.store import (
    HistoryStore,
    NotFoundError,
    ReadOnlyError,
    conversation_settings,
)
from tui_chat.settings.paths import data_dir, default_db_path

__all__ = [
    "MATCH_END",
    "MATCH_START",
    "SCHEMA_VERSION",
    "StoredConversation",
    "ConversationSummary",
    "EarlierVersion",
    "HistoryError",
    "HistoryStore",
    "MessageStatus",
    "NotFoundError",
    "ReadOnlyError",
    "SchemaTooNewError",
    "SearchHit",
    "StoredMessage",
    "conversation_settings",
    "data_dir",
    "default_db_path",
    "export_json",
    "export_markdown",
    "make_title",
]
