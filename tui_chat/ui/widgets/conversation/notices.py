"""Lines from the app itself in the conversation: errors, and what is running.

Apart from the replies' module (Markdown, Pygments: 40-50 ms to import), so that a
notice shown at start, like the no-key one on a fresh machine, does not import it
before the first frame.
"""

from __future__ import annotations

from textual.widgets import Static

from tui_chat.core.sanitize import clean


class ErrorNotice(Static):
    """An error in the conversation: what went wrong and what to do about it."""

    def __init__(self, message: str) -> None:
        # "!", not ⚠: the Linux console's fonts have no ⚠ (the red bar says it too).
        super().__init__(f"! {clean(message)}", markup=False, classes="message")


class InfoNotice(Static):
    """A line from the app itself (not the model): what is running, what to do instead."""

    def __init__(self, message: str) -> None:
        super().__init__(message, markup=False, classes="message")
