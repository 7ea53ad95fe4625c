"""What a reply says from send until its first words: dots, seconds, retries, stalls.

It is a line of text, not a widget: the reply's body draws it in its first row, so the
first words replace it in place (one line repainted) instead of a widget leaving the
log and the screen being laid out again before they can show.
"""

from __future__ import annotations

import time
from dataclasses import replace

from tui_chat.core.protocol import Retrying, seconds

_FRAMES = ("●  ", "●● ", "●●●", " ●●", "  ●", "   ")
#: Seconds without data before the indicator says so (and that Esc stops).
STALL_NOTICE_SECONDS = 10.0
#: How often the line is drawn again (5 Hz: cheap over SSH).
TICK_SECONDS = 0.2


class WaitingLine:
    """Dots plus elapsed seconds.

    Its clock is the "still waiting" clock: once `stall_after` seconds have passed since
    the send (or the last retry) it says so, and while the provider waits to retry it
    counts that down instead, so a silent server never looks like a slow one. Bytes that
    carry no text (a Responses stream's opening events) are not seen here; they do hold
    off the provider's idle timeout.
    """

    def __init__(
        self, label: str = "thinking", *, stall_after: float = STALL_NOTICE_SECONDS
    ) -> None:
        self._label = label
        self._stall_after = stall_after
        self._started = time.monotonic()
        #: When the current wait for data began: the send, or the end of a retry's pause.
        self._waiting_since = self._started
        self._retry: Retrying | None = None
        self._frame = 0

    def show_retry(self, retry: Retrying) -> None:
        """Count down to the retry; the wait for data starts again when it is made."""
        self._retry = retry
        self._waiting_since = time.monotonic() + retry.delay

    def tick(self) -> str:
        """The next frame's line."""
        self._frame = (self._frame + 1) % len(_FRAMES)
        return self.line

    @property
    def line(self) -> str:
        """What the indicator says now."""
        now = time.monotonic()
        dots = _FRAMES[self._frame]
        retry = self._retry
        if retry is not None and now < self._waiting_since:
            return f"{dots} {replace(retry, delay=self._waiting_since - now).describe()}"
        parts = [f"{dots} {self._label}… {now - self._started:.1f}s"]
        if retry is not None:
            parts.append(f"retry {retry.attempt}/{retry.of}")
        idle = now - self._waiting_since
        if idle >= self._stall_after:
            parts.append(f"no data for {seconds(idle)} · Esc stops")
        return " · ".join(parts)
