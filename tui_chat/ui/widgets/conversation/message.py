"""Message widgets for the log: the user's prompt, the assistant's growing reply, errors.

All model and server text is untrusted: it is stripped of control characters and
never parsed as Rich markup (Markdown is rendered from its own parser).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import ClassVar

from markdown_it import MarkdownIt
from rich.markdown import Markdown as RichMarkdown
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Markdown, Static
from textual.widgets._markdown import MarkdownStream

from tui_chat.core.metrics import ReplyMetrics
from tui_chat.core.protocol import Retrying, seconds
from tui_chat.core.sanitize import clean
from tui_chat.core.status import ReplyStatus
from tui_chat.ui.widgets.conversation.indicator import STALL_NOTICE_SECONDS, TypingIndicator
from tui_chat.ui.widgets.conversation.markdown_segments import settle_point

#: How often streamed text is handed to the Markdown widget: about one frame.
FLUSH_SECONDS = 1 / 30
#: Lines a live Markdown segment may grow to before its finished part is settled.
SEGMENT_LINES = 40
#: Room kept below streaming text, as a share of the screen's height. Textual redraws a
#: container whole when its content grows, and a scrolled log whole; with room kept,
#: the streaming Markdown keeps its size while text fills the room, so only the changed
#: lines are redrawn and the log grows (and scrolls) in jumps of this many rows rather
#: than at every new line. At 100 tokens/s this cut the bytes sent per character by a
#: third (benchmarks/streaming_render.py).
RUNWAY_SHARE = 1 / 4
#: Code highlighting for settled text, close to Textual's Markdown fences.
CODE_THEME = "monokai"
#: How often a streaming reply checks whether its text has stopped coming.
STALL_CHECK_SECONDS = 1.0
#: Said under a reply that completed without any text.
EMPTY_REPLY = "∅ empty reply"


class UserMessage(Static):
    def __init__(self, text: str) -> None:
        # Cleaned too: a prompt can come back from history or a pasted terminal dump.
        super().__init__(clean(text), markup=False, classes="message")


class ErrorNotice(Static):
    """An error in the conversation: what went wrong and what to do about it."""

    def __init__(self, message: str) -> None:
        super().__init__(f"⚠ {clean(message)}", markup=False, classes="message")


class InfoNotice(Static):
    """A line from the app itself (not the model): what is running, what to do instead."""

    def __init__(self, message: str) -> None:
        super().__init__(message, markup=False, classes="message")


class SettledMarkdown(Static):
    """Finished Markdown as one widget (Rich's renderer), instead of a widget per block.

    Textual lays out every widget on screen on every change, so text that will not
    change again is kept as a single widget: the cost of each new token then does not
    grow with the length of the reply or of the conversation.
    """

    DEFAULT_CSS = """
    SettledMarkdown { height: auto; margin: 0 0 1 0; }
    """

    def __init__(self, source: str) -> None:
        super().__init__(RichMarkdown(source, code_theme=CODE_THEME), classes="settled")
        self.source = source


class AssistantMessage(Vertical):
    """A reply that grows in place.

    The Markdown stream is opened on the first fragment, which is also when the typing
    indicator goes away. After that, fragments are handed to the stream at most every
    `FLUSH_SECONDS` (a frame), so a fast server costs one render per frame rather than
    one per token; and every `SEGMENT_LINES` lines the finished part above the last
    block boundary is settled into one widget while the tail keeps streaming.

    While it streams, a 1 Hz check (the only cost: one clock read per fragment) says on
    the meta line how long no text has come, once that passes `stall_notice_after`.
    """

    #: Seconds without data before the reply says so; a class attribute so tests (and
    #: the typing indicator it hands it to) can use a small one.
    stall_notice_after: ClassVar[float] = STALL_NOTICE_SECONDS

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
        self._from_history = settled is not None
        self._parts: list[str] = [clean(settled)] if settled else []
        self._pending: list[str] = []
        self._live = ""  # the source now in the streaming Markdown widget
        self._stream: MarkdownStream | None = None
        self._flush_timer: Timer | None = None
        self._stall_timer: Timer | None = None
        self._last_data = 0.0
        self._stalled = False
        self._lock = asyncio.Lock()
        self._meta = meta
        self.status: ReplyStatus = status
        #: The figures of a finished reply (for the details view); None until then.
        self.metrics: ReplyMetrics | None = None
        self.set_class(status == "stopped", "-stopped")
        self.set_class(status == "error", "-error")

    @property
    def text(self) -> str:
        return "".join(self._parts)

    @property
    def live_source(self) -> str:
        """What the streaming Markdown widget holds (the unsettled tail)."""
        return self._live

    def compose(self) -> ComposeResult:
        if self._from_history:
            yield SettledMarkdown(self.text)
        else:
            yield TypingIndicator(self._label, stall_after=self.stall_notice_after)
            yield _live_markdown()
        yield Static(self._meta, id="meta", markup=False)

    async def append(self, fragment: str) -> None:
        fragment = clean(fragment)
        if not fragment:
            return
        self._parts.append(fragment)
        self._pending.append(fragment)
        self._last_data = time.monotonic()
        if self._stalled:
            self._show_stall(None)
        if self._stream is None:
            self.status = "streaming"
            self._stall_timer = self.set_interval(STALL_CHECK_SECONDS, self._check_stall)
            await self.query_one(TypingIndicator).remove()
            self._stream = Markdown.get_stream(self.query_one("#body", Markdown))
            await self._flush()  # the first words go on screen at once
        elif self._flush_timer is None:
            self._flush_timer = self.set_timer(FLUSH_SECONDS, self._flush)

    def show_retry(self, retry: Retrying) -> None:
        """The provider waits to try again (only ever before the first words)."""
        for indicator in self.query(TypingIndicator):
            indicator.show_retry(retry)

    def _check_stall(self) -> None:
        idle = time.monotonic() - self._last_data
        if idle >= self.stall_notice_after:
            self._show_stall(idle)
        elif self._stalled:
            self._show_stall(None)

    def _show_stall(self, idle: float | None) -> None:
        self._stalled = idle is not None
        note = "" if idle is None else f"no data for {seconds(idle)} · Esc stops"
        self.query_one("#meta", Static).update(note)

    async def _flush(self) -> None:
        self._flush_timer = None
        async with self._lock:
            if not self._pending or self._stream is None:
                return
            fragment = "".join(self._pending)
            self._pending.clear()
            self._live += fragment
            cut = settle_point(self._live, SEGMENT_LINES)
            if cut is None:
                await self._stream.write(fragment)
            else:
                await self._settle_until(cut)

    def on_live_markdown_grown(self, message: LiveMarkdown.Grown) -> None:
        """Once the text has grown into the reserved room, reserve the next stretch."""
        message.stop()
        body = message.markdown
        if self._stream is None or not body.is_attached:
            return
        blocks = body.children
        if not blocks:
            return
        content = blocks[-1].virtual_region_with_margin.bottom
        if body.styles.min_height is not None and content < body.size.height:
            return
        room = max(3, int(self.screen.size.height * RUNWAY_SHARE))
        body.styles.min_height = content + room

    async def _settle_until(self, cut: int) -> None:
        """Move the live source before `cut` into a settled widget; stream the rest anew."""
        assert self._stream is not None
        settled, rest = self._live[:cut], self._live[cut:]
        await self._stream.stop()
        old = self.query_one("#body", Markdown)
        new = _live_markdown()
        with self.app.batch_update():
            await old.remove()
            await self.mount_all([SettledMarkdown(settled), new], before=self.query_one("#meta"))
        self._live = rest
        self._stream = Markdown.get_stream(new)
        if rest:
            await self._stream.write(rest)

    async def finish(
        self,
        status: ReplyStatus,
        metrics: ReplyMetrics | None = None,
    ) -> None:
        """Show everything received, close the stream, and say how the reply ended."""
        if self._flush_timer is not None:
            self._flush_timer.stop()
        if self._stall_timer is not None:
            self._stall_timer.stop()
            self._stall_timer = None
        self._stalled = False
        await self._flush()
        if self._stream is not None:
            await self._stream.stop()
            self._stream = None
        for body in self.query("#body"):
            body.styles.min_height = None  # give back the room kept for more text
        for indicator in self.query(TypingIndicator):
            await indicator.remove()
        self.status = status
        self.metrics = metrics
        self.set_class(status == "stopped", "-stopped")
        self.set_class(status == "error", "-error")
        notes = []
        if status == "stopped":
            notes.append("■ stopped")
        if status == "complete" and not self.text.strip():
            notes.append(EMPTY_REPLY)
        if metrics is not None:
            notes.append(metrics.summary())
        self.query_one("#meta", Static).update(" · ".join(notes))

    async def settle(self) -> None:
        """Turn a finished reply's last Markdown tree into one widget (when it is old news)."""
        if self._stream is not None or self._from_history:
            return
        bodies = self.query("#body")
        if not bodies or not self._live:
            return
        live = bodies.first(Markdown)
        with self.app.batch_update():
            await live.remove()
            await self.mount(SettledMarkdown(self._live), before=self.query_one("#meta"))
        self._live = ""


class LiveMarkdown(Markdown):
    """The streaming part of a reply; says when it has grown, so room can be kept below it."""

    @dataclass
    class Grown(Message):
        markdown: LiveMarkdown

    def on_resize(self) -> None:
        self.post_message(self.Grown(self))


def _live_markdown() -> LiveMarkdown:
    return LiveMarkdown(id="body", parser_factory=_shared_parser)


_PARSER = MarkdownIt("gfm-like")


def _shared_parser() -> MarkdownIt:
    """One parser for every append: building a MarkdownIt per append costs ~0.25 ms."""
    return _PARSER
