"""The scrolling message log, anchored to the bottom while the user is there."""

from __future__ import annotations

from textual.containers import VerticalScroll


class ChatLog(VerticalScroll, can_focus=True):
    """Follows new text; lets go when the user scrolls up to read (Textual's anchor)."""

    def on_mount(self) -> None:
        self.anchor()
