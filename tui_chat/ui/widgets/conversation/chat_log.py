"""The scrolling message log, anchored to the bottom while the user is there."""

from __future__ import annotations

from textual.containers import VerticalScroll


class ChatLog(VerticalScroll, can_focus=True):
    """Follows new text; lets go when the user scrolls up to read (Textual's anchor)."""

    def on_mount(self) -> None:
        self.anchor()

    async def settle_replies(self) -> None:
        """Collapse the last reply's Markdown tree before a new one starts streaming,
        so the cost of streaming does not grow with the conversation."""
        from tui_chat.ui.widgets.conversation.message import AssistantMessage

        replies = self.query_children(AssistantMessage)
        if replies:
            await replies.last().settle()
