"""The conversation so far, and the request it turns into.

Only settled turns are context: a prompt whose reply failed is taken back out (it
returns to the prompt box), while a reply the user stopped keeps its partial text. A
retried or edited turn leaves the context whole, so the model never sees the reply it
replaces.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tui_chat.core.protocol import ChatMessage, ChatRequest


@dataclass
class Conversation:
    """The context sent with each request: the turns so far, in step with the log."""

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

    def last_prompt(self) -> str | None:
        """The prompt of the last settled turn (a prompt and the reply after it)."""
        if len(self.messages) >= 2 and self.messages[-1].role == "assistant":
            before = self.messages[-2]
            return before.content if before.role == "user" else None
        return None

    def drop_last_turn(self) -> str | None:
        """Take the last prompt and its reply out of the context (retry, edit); returns
        the prompt, or None (and changes nothing) when the last turn is not settled."""
        prompt = self.last_prompt()
        if prompt is not None:
            del self.messages[-2:]
        return prompt

    def request(
        self,
        *,
        model: str,
        system: str | None,
        stream: bool,
        temperature: float | None = None,
        reasoning_summary: bool = False,
    ) -> ChatRequest:
        return ChatRequest(
            messages=tuple(self.messages),
            model=model,
            system=system,
            stream=stream,
            temperature=temperature,
            reasoning_summary=reasoning_summary,
        )
