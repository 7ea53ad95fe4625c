"""Message widgets for the log: the user's prompt, the assistant's growing reply, errors.

All model and server text is untrusted: it is stripped of control characters and
never parsed as Rich markup (Markdown is rendered from its own parser).
"""

from __future__ import annotations

import asyncio
import time
from typing import ClassVar

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.geometry import Region
from textual.strip import Strip
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Static

from tui_chat.core.metrics import ReplyMetrics
from tui_chat.core.protocol import Retrying, seconds
from tui_chat.core.sanitize import clean
from tui_chat.core.status import ReplyStatus
from tui_chat.ui import gc_tuning
from tui_chat.ui.widgets.conversation.indicator import (
    STALL_NOTICE_SECONDS,
    TICK_SECONDS,
    WaitingLine,
)
from tui_chat.ui.widgets.conversation.one_layout import OneLayout
from tui_chat.ui.widgets.conversation.reasoning import ReasoningBlock
from tui_chat.ui.widgets.conversation.reply_body import ReplyBody

#: How often streamed text is handed to the reply's body (a token that comes later than
#: this after the last hand-over goes at once). 24 Hz: at 100 tok/s, 30 Hz cost 1.46-1.63
#: CPU s per 1k tokens against 20 Hz's 1.23-1.34 (benchmarks/streaming_render.py). With
#: the stream read once a frame (`next_draw`) a frame is also how late a reply's last
#: token can be, and the render issue asks for 50 ms at most at 100 tok/s.
FLUSH_SECONDS = 1 / 24
#: How long before its next hand-over a reply lets the stream be read again, so that
#: the read finds the hand-over due (a timer can fire a little early): see `next_draw`.
READ_AHEAD_SECONDS = 0.002
#: How often a streaming reply checks whether its text has stopped coming.
STALL_CHECK_SECONDS = 1.0
#: Said under a reply that completed without any text.
EMPTY_REPLY = "∅ empty reply"
#: Said under a reply that is the model's refusal.
REFUSED = "✗ refused"


class UserMessage(Static):
    def __init__(self, text: str) -> None:
        # Cleaned too: a prompt can come back from history or a pasted terminal dump.
        super().__init__(clean(text), markup=False, classes="message")


class AssistantMessage(Vertical, OneLayout):
    """A reply that grows in place.

    Until the first words the body's first row says it is waiting (dots, seconds,
    retries, stalls); the first fragment takes that row's place and is drawn at once. After
    that, fragments are handed to the body at once if the last hand-over was at least
    `FLUSH_SECONDS` (a frame) ago, else at the end of that frame, so a
    fast server costs one render per frame rather than one per token; the body repaints
    only the lines a flush changed.

    While it streams, a 1 Hz check (the only cost: one clock read per fragment) says on
    the meta line how long no text has come, once that passes `stall_notice_after`.

    A reasoning model's thinking goes in a `ReasoningBlock` above the body, mounted on
    its first fragment and folded to one line when the answer starts.
    """

    #: Seconds without data before the reply says so; a class attribute so tests (and
    #: the waiting line it hands it to) can use a small one.
    stall_notice_after: ClassVar[float] = STALL_NOTICE_SECONDS

    DEFAULT_CSS = """
    AssistantMessage { height: auto; }
    """

    def render_lines(self, crop: Region) -> list[Strip]:
        """A reply's own rows all look alike (a bar at its side and padding, nothing
        above or below: its text is its children's), so one is rendered and repeated.
        Each runway jump changes its size, after which Textual renders every row of it
        again (80 µs each, behind the rows its body draws anyway): a millisecond or more
        of each jump."""
        if crop.height > 1 and _rows_alike(self):
            (row,) = super().render_lines(Region(crop.x, crop.y, crop.width, 1))
            return [row] * crop.height
        return super().render_lines(crop)

    def __init__(
        self,
        label: str = "thinking",
        *,
        settled: str | None = None,
        status: ReplyStatus = "waiting",
        meta: str = "",
        reasoning: str = "",
    ) -> None:
        super().__init__(classes="message")
        self._reasoning = reasoning
        self._thinking: ReasoningBlock | None = None
        self._thinking_shown_whole = False
        self._waiting = (
            None if settled is not None else WaitingLine(label, stall_after=self.stall_notice_after)
        )
        self._waiting_timer: Timer | None = None
        self._holds_gc = False  # counted in `gc_tuning` as a reply streaming
        #: The reply is the model's refusal (set when it finishes).
        self.refusal = False
        self._label = label
        self._from_history = settled is not None
        self._parts: list[str] = [clean(settled)] if settled else []
        #: Kept, not queried: it is handed text up to 20 times a second.
        self._body = ReplyBody(self.text, id="body") if settled else ReplyBody(live=True, id="body")
        self._pending: list[str] = []
        self._started = False  # the first words came
        self._receiving = False  # the first text of either kind came
        self._flush_timer: asyncio.Handle | None = None
        self._stall_timer: Timer | None = None
        self._last_data = 0.0
        self._flushed_at = 0.0
        self._flush_due = 0.0  # when the hand-over on a timer is due (past once it ran)
        self._stalled = False
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
    def shown_source(self) -> str:
        """The Markdown source the body shows (what has been flushed to it)."""
        return self._body.source

    @property
    def reasoning(self) -> str:
        """The model's thinking shown above the answer ("" for none)."""
        blocks = self.query(ReasoningBlock)
        return blocks.first().text if blocks else self._reasoning

    def compose(self) -> ComposeResult:
        if self._from_history:
            if self._reasoning:
                yield ReasoningBlock(self._reasoning, folded=True)
        yield self._body
        yield Static(self._meta, id="meta", markup=False)

    async def append_reasoning(self, fragment: str, *, whole: bool = False) -> None:
        """The model's thinking, before (or, rarely, between) its words. `whole`: it came
        all at once with the answer (a reply not streamed), so it is shown folded, with
        no thinking time: there was none to see."""
        fragment = clean(fragment)
        if not fragment:
            return
        if self._thinking is not None:
            self._thinking.append(fragment)  # per token: no DOM query
        else:
            self._thinking_shown_whole = whole
            self._thinking = ReasoningBlock(fragment, folded=whole)
            await self.mount(self._thinking, before="#body")
        await self._data()

    def on_mount(self) -> None:
        if self._waiting is not None and not self._holds_gc:
            self._holds_gc = True
            gc_tuning.reply_started()  # no full collection pass while it streams
        if self._waiting is not None:
            self._body.show_waiting(self._waiting.line)  # before the first layout: room kept
            self._waiting_timer = self.set_interval(TICK_SECONDS, self._tick_waiting)

    def on_unmount(self) -> None:
        self._release_gc()
        if not getattr(self.app, "_exit", False):  # Textual's flag: the app is quitting
            gc_tuning.forget()  # what was frozen of this turn may be garbage now

    def _release_gc(self) -> None:
        if self._holds_gc:
            self._holds_gc = False
            gc_tuning.reply_ended()

    @property
    def waiting(self) -> str:
        """What the reply says while it waits for its first text ("" after)."""
        return self._body.waiting

    def _tick_waiting(self) -> None:
        if self._waiting is not None:
            self._body.show_waiting(self._waiting.tick())

    def _stop_waiting(self, *, redraw: bool) -> None:
        if self._waiting_timer is not None:
            self._waiting_timer.stop()
            self._waiting_timer = None
        self._waiting = None
        self._body.show_waiting("", redraw=redraw)

    async def _data(self, *, answer: bool = False) -> None:
        """Text of either kind came: the wait is over, and no stall is shown."""
        self._last_data = time.monotonic()
        if self._stalled:
            self._show_stall(None)
        if not self._receiving:
            self._receiving = True
            self.status = "streaming"
            self._stall_timer = self.set_interval(STALL_CHECK_SECONDS, self._check_stall)
            self._stop_waiting(redraw=not answer)  # the first words redraw its row anyway

    async def append(self, fragment: str) -> None:
        fragment = clean(fragment)
        if not fragment:
            return
        self._parts.append(fragment)
        self._pending.append(fragment)
        await self._data(answer=True)
        if not self._started:
            self._started = True
            if self._thinking is not None:
                self._thinking.fold()  # the answer begins: the thinking folds to one line
            self._flush()  # the first words go on screen at once
        elif self._flush_timer is None:
            # Bare loop callbacks, not Textual Timers (a task each): they run per frame.
            loop = asyncio.get_running_loop()
            wait = self._flushed_at + FLUSH_SECONDS - self._last_data
            if wait <= READ_AHEAD_SECONDS:
                # Due: a slow model's token is drawn as it comes, and a frame's tokens
                # read at once (see `next_draw`) are drawn as soon as all are taken in,
                # in the same wake-up, not a timer's wake-up later. It counts as done
                # from now: the stream's next read, made before it runs, waits a frame.
                self._flushed_at = self._last_data
                self._flush_timer = loop.call_soon(self._flush)
            else:
                self._flush_due = self._last_data + wait
                self._flush_timer = loop.call_later(wait, self._flush)

    def next_draw(self) -> float:
        """When the stream is next worth reading (monotonic; 0: now), for
        `providers.read_pacing`: text that comes before the next hand-over waits for it
        anyway, so until just before then the kernel keeps it, and the frame's tokens
        come in one read instead of a wake-up each. Before the first words, and once the
        reply has ended, it is 0: those are drawn at once. With a hand-over already on
        its timer, that one takes what comes before it (a read held until just before it
        woke for it), so the next read waits for the frame after it: read any sooner, and
        it would wake once more per frame for the token or two in between."""
        if not self._started or self.status != "streaming":
            return 0.0
        return max(self._flushed_at, self._flush_due) + FLUSH_SECONDS - READ_AHEAD_SECONDS

    def show_retry(self, retry: Retrying) -> None:
        """The provider waits to try again (only ever before the first words)."""
        if self._waiting is not None:
            self._waiting.show_retry(retry)
            self._body.show_waiting(self._waiting.line)

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

    def _flush(self) -> None:
        self._flush_timer = None
        if not self._pending or not self.is_attached:
            return
        self._flushed_at = time.monotonic()
        fragment = "".join(self._pending)
        self._pending.clear()
        self._body.append(fragment)

    async def finish(
        self,
        status: ReplyStatus,
        metrics: ReplyMetrics | None = None,
        *,
        refusal: bool = False,
    ) -> None:
        """Show everything received, give back the runway, and say how the reply ended."""
        if self._flush_timer is not None:
            self._flush_timer.cancel()
        if self._stall_timer is not None:
            self._stall_timer.stop()
            self._stall_timer = None
        self._stalled = False
        self._flush()
        self._stop_waiting(redraw=False)  # the body's finish lays it out again
        self._release_gc()
        self._body.finish()
        took = None if metrics is None or self._thinking_shown_whole else metrics.thought_for
        for block in self.query(ReasoningBlock):
            block.fold(took)
        self.status = status
        self.metrics = metrics
        self.refusal = refusal
        self.set_class(status == "stopped", "-stopped")
        self.set_class(status == "error", "-error")
        self.set_class(refusal, "-refusal")
        notes = []
        if refusal:
            notes.append(REFUSED)
        if status == "stopped":
            notes.append("■ stopped")
        if status == "complete" and not self.text.strip():
            notes.append(EMPTY_REPLY)
        if metrics is not None:
            notes.append(metrics.summary())
        self.query_one("#meta", Static).update(" · ".join(notes))


def _rows_alike(widget: Widget) -> bool:
    """Every row of `widget`'s own drawing is the same: no edge above or below it (a
    border, an outline, vertical padding), no hatch, no scrollbar."""
    styles = widget.styles
    top, _right, bottom, _left = styles.padding
    return (
        not top
        and not bottom
        and styles.border_top[0] in ("", "none")
        and styles.border_bottom[0] in ("", "none")
        and not any(edge for edge, _ in styles.outline)
        and styles.hatch in (None, "none")
        and not any(widget.scrollbars_enabled)
    )
