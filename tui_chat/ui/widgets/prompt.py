"""The multi-line prompt box: Enter sends, Ctrl+J inserts a newline."""

from __future__ import annotations

from dataclasses import dataclass

from textual import events
from textual.message import Message
from textual.widgets import TextArea


class PromptInput(TextArea):
    """A TextArea whose Enter submits instead of breaking the line.

    It never clears itself: the app decides whether a prompt is accepted (a reply
    may still be running), so refused text stays where the user typed it.
    """

    @dataclass
    class Submitted(Message):
        prompt: PromptInput
        text: str

        @property
        def control(self) -> PromptInput:
            return self.prompt

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(
            id=id,
            soft_wrap=True,
            show_line_numbers=False,
            tab_behavior="focus",
            placeholder="Message  (Enter sends · Ctrl+J new line)",
            compact=True,
        )

    async def _on_key(self, event: events.Key) -> None:
        if event.key == "enter":
            event.stop()
            event.prevent_default()
            if self.text.strip():
                self.post_message(self.Submitted(self, self.text))
            return
        if event.key == "ctrl+j":
            event.stop()
            event.prevent_default()
            start, end = self.selection
            self._replace_via_keyboard("\n", start, end)
            return
        await super()._on_key(event)

    def restore(self, text: str) -> bool:
        """Put a failed prompt back, but only into an empty box: a draft typed while the
        reply ran is the user's newer thought and is never merged or replaced."""
        if self.text.strip():
            return False
        self.load_text(text)
        self.move_cursor(self.document.end)
        return True
