"""Message widgets for the log: the user's prompt, the assistant's growing reply, errors.

All model and server text is untrusted: it is stripped of control characters and
never parsed as Rich markup (Markdown is rendered from its own parser).
"""

from __future__ import annotations

from typing import Literal

from rich.markdown import Markdown as RichMarkdown
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Markdown, Static
from textual.widgets._markdown import MarkdownStream

from tui_chat.metrics import ReplyMetrics
from tui_chat.sanitize import clean
from tui_chat.widgets.typing import TypingIndicator

ReplyStatus = Literal["waiting", "streaming", "complete", "stopped", "error"]


class UserMessage(Static):
    def __init__(self, text: str) -> None:
        super().__init__(text, markup=False, classes="message")


class ErrorNotice(Static):
    """An error in the conversation: what went wrong and what to do about it."""

    def __init__(self, message: str) -> None:
        super().__init__(f"⚠ {clean(message)}", markup=False, classes="message")


class AssistantMessage(Vertical):
    """A reply that grows in place.

    The Markdown stream is opened lazily on the first fragment, which is also when
    the typing indicator goes away; each delta is appended, never re-rendering the
    whole message.
    """

    DEFAULT_CSS = """
    AssistantMessage { height: auto; }
    AssistantMessage > Markdown { margin: 0; padding: 0; }
    """

    def __init__(
        self,
        label: str = "thinking",
        *,
        settled: str | None = None,
        status: ReplyStatus = "waiting",
        meta: str = "",
    ) -> None:
        super().__init__(classes="message")
        self._label = label
        self._settled = settled is not None
        self._parts: list[str] = [clean(settled)] if settled else []
        self._stream: MarkdownStream | None = None
        self._meta = meta
        self.status: ReplyStatus = status
        self.set_class(status == "stopped", "-stopped")
        self.set_class(status == "error", "-error")

    @property
    def text(self) -> str:
        return "".join(self._parts)

    def compose(self) -> ComposeResult:
        if self._settled:
            # A reply from history: one Static with Rich's Markdown renderable is far
            # lighter than a Markdown widget tree, so long conversations open quickly.
            yield Static(RichMarkdown(self.text), id="settled")
        else:
            yield TypingIndicator(self._label)
            yield Markdown(id="body")
        yield Static(self._meta, id="meta", markup=False)

    async def append(self, fragment: str) -> None:
        fragment = clean(fragment)
        if not fragment:
            return
        if self._stream is None:
            self.status = "streaming"
            await self.query_one(TypingIndicator).remove()
            self._stream = Markdown.get_stream(self.query_one("#body", Markdown))
        self._parts.append(fragment)
        await self._stream.write(fragment)

    async def finish(
        self,
        status: ReplyStatus,
        metrics: ReplyMetrics | None = None,
    ) -> None:
        """Close the stream and show how the reply ended, with its timings."""
        if self._stream is not None:
            await self._stream.stop()
            self._stream = None
        for indicator in self.query(TypingIndicator):
            await indicator.remove()
        self.status = status
        self.set_class(status == "stopped", "-stopped")
        self.set_class(status == "error", "-error")
        notes = []
        if status == "stopped":
            notes.append("■ stopped")
        if metrics is not None:
            notes.append(metrics.summary())
        self.query_one("#meta", Static).update(" · ".join(notes))
