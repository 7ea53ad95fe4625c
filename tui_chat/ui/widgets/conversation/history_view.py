"""Widgets for a conversation opened from history, and the mark under a turn that
history keeps earlier versions of (a retry or an edit replaced them)."""

from __future__ import annotations

from collections.abc import Sequence

from textual.widget import Widget
from textual.widgets import Button, Static

from tui_chat.core.attachments import typed_form
from tui_chat.core.metrics import ReplyMetrics
from tui_chat.core.status import ReplyStatus
from tui_chat.history.models import StoredMessage
from tui_chat.ui.widgets.conversation.message import AssistantMessage, UserMessage
from tui_chat.ui.widgets.conversation.notices import ErrorNotice


class EarlierMessages(Button):
    """Stands in for the oldest messages of a long chat until asked for: opening stays quick."""

    def __init__(self, count: int) -> None:
        super().__init__(f"Show {count} earlier messages", id="earlier", compact=True)


class VersionsMark(Static):
    """Under a turn that replaced earlier ones: which version it is, and the key that
    lists the others. Not a message (the cursor steps over it); it goes with its turn."""

    DEFAULT_CSS = """
    VersionsMark { color: $text-muted; height: auto; padding: 0 1 0 2; }
    """

    def __init__(self, message_id: int, earlier: int) -> None:
        # "↑", not "↺": the Linux console's fonts have arrows, not that one.
        super().__init__(
            f"version {earlier + 1} of {earlier + 1} · Alt+↑, v: the earlier ones",
            markup=False,
        )
        #: The turn's prompt or reply in history, to read its earlier versions by.
        self.message_id = message_id
        self.earlier = earlier


def versions_mark_of(children: Sequence[Widget], widget: Widget) -> VersionsMark | None:
    """The mark of the turn `widget` belongs to (its prompt, its reply, a notice of it)."""
    if widget not in children:
        return None
    at = list(children).index(widget)
    start = next((i for i in range(at, -1, -1) if isinstance(children[i], UserMessage)), 0)
    for child in children[start + 1 :]:
        if isinstance(child, UserMessage):
            return None
        if isinstance(child, VersionsMark):
            return child
    return None


def history_widgets(messages: Sequence[StoredMessage]) -> list[Widget]:
    widgets: list[Widget] = []
    mark: VersionsMark | None = None  # the last prompt's, to go under its reply
    for message in messages:
        if message.role == "user":
            if mark is not None:  # a prompt whose reply was never saved
                widgets.append(mark)
            # As typed: a sent file goes back to its `/file` line, not its whole text.
            widgets.append(UserMessage(typed_form(message.content)))
            earlier = message.earlier_versions
            mark = VersionsMark(message.id, earlier) if earlier else None
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
        reply = AssistantMessage(
            settled=message.content,
            status=status,
            meta=" · ".join(notes),
            reasoning=message.reasoning,
        )
        reply.metrics = metrics  # F4 works on reopened chats too
        widgets.append(reply)
        if mark is not None:
            widgets.append(mark)
            mark = None
        if status == "error" and message.error:
            widgets.append(ErrorNotice(message.error))
    if mark is not None:
        widgets.append(mark)
    return widgets
