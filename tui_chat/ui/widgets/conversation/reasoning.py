"""The model's thinking, above its answer: live while it thinks, one line once it answers.

Reasoning can run to thousands of words that nobody wants to scroll past, so while it
streams only its last few lines are drawn (dim, as an aside), and when the answer starts
it folds to "▸ thought for 12 s". A click, or Enter when focused, opens it again. Its
text is the model's: cleaned and drawn as plain `Text`, never as markup.
"""

from __future__ import annotations

import asyncio
import time

from rich.text import Text
from textual.binding import Binding
from textual.events import Click
from textual.widgets import Static

from tui_chat.core.protocol import seconds
from tui_chat.core.sanitize import clean

#: Lines of the live tail shown while the model thinks.
TAIL_LINES = 6
#: How often the live tail is redrawn at most (tokens in between are batched).
REDRAW_SECONDS = 1 / 10


class ReasoningBlock(Static, can_focus=True):
    """Reasoning text with a live tail, folded once the answer begins."""

    DEFAULT_CSS = """
    ReasoningBlock { height: auto; color: $text-muted; text-style: italic; }
    ReasoningBlock.-folded { text-style: none; }
    ReasoningBlock:focus { text-style: bold; }
    """

    BINDINGS = [Binding("enter,space", "toggle", "show/hide thinking", show=False)]

    def __init__(self, text: str = "", *, folded: bool = False, took: float | None = None) -> None:
        super().__init__("", markup=False, classes="-folded" if folded else "")
        self._parts: list[str] = [clean(text)] if text else []
        self._started = time.monotonic()
        self._took = took
        self.folded = folded
        self.expanded = False
        self._redraw: asyncio.TimerHandle | None = None

    @property
    def text(self) -> str:
        return "".join(self._parts)

    @property
    def line(self) -> str:
        """The folded line: "▸ thought for 12 s" (or "▾ …" while opened)."""
        mark = "▾" if self.expanded else "▸"
        took = "" if self._took is None else f" for {seconds(self._took)}"
        return f"{mark} thought{took}"

    def on_mount(self) -> None:
        self.call_later(self._draw)  # `is_mounted` is only true once on_mount has run

    def append(self, fragment: str) -> None:
        """More reasoning; drawn at most `REDRAW_SECONDS` after it came."""
        fragment = clean(fragment)
        if not fragment:
            return
        self._parts.append(fragment)
        if self._redraw is None and self.is_mounted:
            self._redraw = asyncio.get_running_loop().call_later(REDRAW_SECONDS, self._draw)

    def fold(self, took: float | None = None) -> None:
        """The answer has begun (or the reply ended): keep one line that says how long."""
        if self.folded:
            if took is not None:
                self._took = took
                self._draw()
            return
        self._took = took if took is not None else time.monotonic() - self._started
        self.folded = True
        self.add_class("-folded")
        self._draw()

    def action_toggle(self) -> None:
        if self.folded:
            self.expanded = not self.expanded
            self._draw()

    def on_click(self, event: Click) -> None:
        event.stop()
        self.action_toggle()

    def _draw(self) -> None:
        if self._redraw is not None:
            self._redraw.cancel()
            self._redraw = None
        if not self.is_mounted:
            return
        text = self.text.strip()
        if not self.folded:
            tail = "\n".join(text[-4000:].splitlines()[-TAIL_LINES:])
            self.update(Text(f"thinking…\n{tail}" if tail else "thinking…"))
        elif self.expanded:
            self.update(Text(f"{self.line}\n{text}"))
        else:
            self.update(Text(self.line))
