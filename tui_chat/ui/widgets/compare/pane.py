"""One side of compare mode: what it runs, live figures, and the replies as they grow."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from tui_chat.core.metrics import ReplyMetrics, ReplyTimer
from tui_chat.ui.widgets.conversation.chat_log import ChatLog
from tui_chat.ui.widgets.conversation.message import AssistantMessage, ErrorNotice, UserMessage


class ComparePane(Vertical):
    def __init__(self, title: str, *, id: str) -> None:
        super().__init__(id=id, classes="compare-pane")
        self._title = title

    def compose(self) -> ComposeResult:
        yield Static(self._title, classes="pane-title", markup=False)
        yield Static("ready", classes="pane-stats", markup=False)
        yield ChatLog(classes="pane-log")

    async def begin(self, prompt: str, label: str) -> AssistantMessage:
        reply = AssistantMessage(label)
        log = self.query_one(ChatLog)
        await log.mount_all([UserMessage(prompt), reply])
        log.anchor()
        return reply

    async def fail(self, message: str) -> None:
        await self.query_one(ChatLog).mount(ErrorNotice(message))

    def show_live(self, timer: ReplyTimer) -> None:
        """Elapsed, first words, chunks so far and their rate; ticks while the reply runs."""
        elapsed = timer.elapsed()
        parts = [f"{elapsed:.1f}s"]  # no ⏱: the Linux console fonts lack it
        if timer.first_at is None:
            parts.append("waiting for the first words…")
        else:
            first = timer.first_at - timer.started
            parts.append(f"first words {first:.2f}s")
            parts.append(f"~{timer.chunks} tokens")
            if elapsed > first and timer.chunks > 1:
                parts.append(f"~{(timer.chunks - 1) / (elapsed - first):.1f} tok/s")
        self.query_one(".pane-stats", Static).update(" · ".join(parts))

    def show_final(self, metrics: ReplyMetrics, ending: str = "") -> None:
        text = f"{ending} · {metrics.summary()}" if ending else f"done · {metrics.summary()}"
        self.query_one(".pane-stats", Static).update(text)
