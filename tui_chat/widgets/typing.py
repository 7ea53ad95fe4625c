"""The typing indicator shown from send until the first words arrive."""

from __future__ import annotations

import time

from textual.widgets import Static

_FRAMES = ("●  ", "●● ", "●●●", " ●●", "  ●", "   ")


class TypingIndicator(Static):
    """Dots plus elapsed seconds; ticks at 5 Hz so it stays cheap over SSH."""

    DEFAULT_CSS = """
    TypingIndicator { height: 1; }
    """

    def __init__(self, label: str = "thinking", *, id: str | None = None) -> None:
        super().__init__("", id=id, markup=False)
        self._label = label
        self._started = time.monotonic()
        self._frame = 0

    def on_mount(self) -> None:
        self._tick()
        self.set_interval(0.2, self._tick)

    def _tick(self) -> None:
        elapsed = time.monotonic() - self._started
        self._frame = (self._frame + 1) % len(_FRAMES)
        self.update(f"{_FRAMES[self._frame]} {self._label}… {elapsed:.1f}s")
