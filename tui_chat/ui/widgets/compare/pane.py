"""One side of compare mode: what it runs, live figures, and the replies as they grow.

Each pane scrolls on its own from the keyboard: with focus in it (Tab, or Left/Right
from the other pane), the cursor keys scroll it, and its title is marked so a person
sees which one they move. Like the chat log, it follows new text until scrolled up,
and follows again once scrolled back to the bottom (End).
"""

from __future__ import annotations

from dataclasses import replace

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Static

from tui_chat.core.metrics import ReplyMetrics, ReplyTimer
from tui_chat.ui.widgets.conversation.chat_log import ChatLog
from tui_chat.ui.widgets.conversation.message import AssistantMessage, UserMessage
from tui_chat.ui.widgets.conversation.notices import ErrorNotice

#: Put before the title of the pane that has focus (a glyph too, not only a colour:
#: NO_COLOR and mono terminals; "»" is in every console font).
FOCUS_MARK = "» "


class PaneLog(ChatLog, inherit_bindings=False):
    """The chat log without its message cursor: here the cursor keys scroll.

    Compare mode has nothing to copy or quote a message into, so the keys a chat log
    gives its cursor go to scrolling; the anchor (follow the bottom, let go on a scroll
    up, follow again at the bottom) is the chat log's.
    """

    BINDINGS = [
        # One footer hint for both (a footer group draws its label against the next key).
        Binding("up", "line(-1)", "Scroll", key_display="↑↓"),
        Binding("down", "line(1)", "Scroll down", show=False),
        Binding("pageup", "page(-1)", "Scroll the pane a page up", show=False),
        Binding("pagedown", "page(1)", "Scroll the pane a page down", show=False),
        Binding("home", "top", "Top of the pane", show=False),
        Binding("end", "bottom", "Bottom of the pane (follows new text again)", show=False),
    ]

    # No animation: over SSH every frame of a glide costs bytes.
    def action_line(self, step: int) -> None:
        if step < 0:
            self.scroll_up(animate=False)
        else:
            self.scroll_down(animate=False)

    def action_page(self, step: int) -> None:
        if step < 0:
            self.scroll_page_up(animate=False)
        else:
            self.scroll_page_down(animate=False)

    def action_top(self) -> None:
        self.scroll_home(animate=False)

    def action_bottom(self) -> None:
        self.scroll_end(animate=False)  # at the bottom the anchor holds again


class ComparePane(Vertical):
    def __init__(self, title: str, *, id: str) -> None:
        super().__init__(id=id, classes="compare-pane")
        self._title = title

    def compose(self) -> ComposeResult:
        yield Static(self._title, classes="pane-title", markup=False)
        yield Static("ready", classes="pane-stats", markup=False)
        yield PaneLog(classes="pane-log")

    @property
    def log(self) -> PaneLog:
        return self.query_one(PaneLog)

    def focus_log(self) -> None:
        self.log.focus()

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        self._mark(True)

    def on_descendant_blur(self, event: events.DescendantBlur) -> None:
        # Focus may only have moved within the pane (its log to a reasoning line).
        self.call_after_refresh(lambda: self._mark(self.has_focus_within))

    def _mark(self, focused: bool) -> None:
        self.set_class(focused, "-focused")
        title = f"{FOCUS_MARK}{self._title}" if focused else self._title
        self.query_one(".pane-title", Static).update(title)

    async def begin(self, prompt: str, label: str) -> AssistantMessage:
        reply = AssistantMessage(label)
        await self.log.add_turn([UserMessage(prompt), reply])
        return reply

    async def fail(self, message: str) -> None:
        await self.log.mount(ErrorNotice(message))

    def show_live(self, timer: ReplyTimer) -> None:
        """Elapsed, first reasoning and first words apart, chunks so far and their rate;
        ticks while the reply runs."""
        elapsed = timer.elapsed()
        parts = [f"{elapsed:.1f}s"]  # no ⏱: the Linux console fonts lack it
        if timer.first_reasoning_at is not None:
            parts.append(f"first reasoning {timer.first_reasoning_at - timer.started:.2f}s")
        if timer.first_at is None:
            parts.append("waiting for the first words…")
        else:
            first = timer.first_at - timer.started
            parts.append(f"first words {first:.2f}s")
            parts.append(f"~{timer.chunks} tokens")
            if elapsed > first and timer.chunks > 1:
                parts.append(f"~{(timer.chunks - 1) / (elapsed - first):.1f} tok/s")
        self.query_one(".pane-stats", Static).update(" · ".join(parts))

    def show_final(self, metrics: ReplyMetrics, ending: str = "", *, whole: bool = False) -> None:
        """How the reply ended and its figures. A `whole` reply (not streamed) had its
        reasoning arrive with its answer, so it has no reasoning time of its own."""
        parts = [ending or "done"]
        if whole and metrics.first_reasoning is not None:
            parts.append("reasoning came with the answer")
            metrics = replace(metrics, first_reasoning=None)  # no "thought 0.0s"
        elif metrics.first_reasoning is not None:
            parts.append(f"first reasoning {metrics.first_reasoning:.2f}s")
        parts.append(metrics.summary())
        self.query_one(".pane-stats", Static).update(" · ".join(parts))
