"""Widgets for a conversation opened from history."""

from __future__ import annotations

from collections.abc import Sequence

from textual.widget import Widget
from textual.widgets import Button

from tui_chat.core.attachments import typed_form
from tui_chat.core.metrics import ReplyMetrics
from tui_chat.core.status import ReplyStatus
from tui_chat.history.models import StoredMessage
from tui_chat.ui.widgets.conversation.message import AssistantMessage, ErrorNotice, UserMessage


class EarlierMessages(Button):
    """Stands in for the oldest messages of a long chat until asked for: opening stays quick."""

    def __init__(self, count: int) -> None:
        super().__init__(f"Show {count} earlier messages", id="earlier", compact=True)


def history_widgets(messages: Sequence[StoredMessage]) -> list[Widget]:
    widgets: list[Widget] = []
    for message in messages:
        if message.role == "user":
            # As typed: a sent file goes back to its `/file` line, not its whole text.
            widgets.append(UserMessage(typed_form(message.content)))
            continue
        if message.role != "assistant":
            continue
        # A reply still "streaming" (or marked interrupted) was cut off when tui-chat ended.
        status: ReplyStatus = (
            "stopped" if message.status in ("streaming", "interrupted") else message.status
        )
        notes = ["■ stopped"] if status == "stopped" else []
        metrics = ReplyMetrics.from_mapping(message.metrics) if message.metrics else None
        if metrics is not None:
            notes.append(metrics.summary())
        reasoning = str((message.metrics or {}).get("reasoning") or "")
        reply = AssistantMessage(
            settled=message.content, status=status, meta=" · ".join(notes), reasoning=reasoning
        )
        reply.metrics = metrics  # F4 works on reopened chats too
        widgets.append(reply)
        if status == "error" and message.error:
            widgets.append(ErrorNotice(message.error))
    return widgets
