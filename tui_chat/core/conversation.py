"""The conversation so far, and the request it turns into.

Only settled turns are context: a prompt whose reply failed is taken back out (it
returns to the prompt box), while a reply the user stopped keeps its partial text.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tui_chat.core.protocol import ChatMessage, ChatRequest


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
