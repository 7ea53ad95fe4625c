"""The conversation so far, and the request it turns into.

Only settled turns are context: a prompt whose reply failed is taken back out (it
returns to the prompt box), while a reply the user stopped keeps its partial text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from tui_chat.core.protocol import ChatMessage, ChatRequest
from tui_chat.history.models import Conversation as StoredConversation
from tui_chat.history.models import StoredMessage, make_title
from tui_chat.settings.config import Settings


@dataclass
class Conversation:
    messages: list[ChatMessage] = field(default_factory=list)

    def add_user(self, text: str) -> None:
        self.messages.append(ChatMessage("user", text))

    def add_assistant(self, text: str) -> None:
        self.messages.append(ChatMessage("assistant", text))

    def drop_last_user(self) -> str | None:
        """Undo a prompt whose reply failed; returns its text."""
        if self.messages and self.messages[-1].role == "user":
            return self.messages.pop().content
        return None

    def request(
        self,
        *,
        model: str,
        system: str | None,
        stream: bool,
        temperature: float | None = None,
    ) -> ChatRequest:
        return ChatRequest(
            messages=tuple(self.messages),
            model=model,
            system=system,
            stream=stream,
            temperature=temperature,
        )


def live_conversation(conversation: Conversation, settings: Settings) -> StoredConversation:
    """The conversation on screen in history's shape, to export it without a database."""
    now = datetime.now(UTC)
    messages = tuple(
        StoredMessage(
            id=seq,
            conversation_id=0,
            seq=seq,
            role=message.role,
            content=message.content,
            status="complete",
            error=None,
            created_at=now,
        )
        for seq, message in enumerate(conversation.messages, start=1)
    )
    first = next((m.content for m in conversation.messages if m.role == "user"), "")
    return StoredConversation(
        id=0,
        title=make_title(first),
        created_at=now,
        updated_at=now,
        api=settings.api,
        base_url=settings.base_url,
        model=settings.model,
        system=settings.system,
        messages=messages,
    )
