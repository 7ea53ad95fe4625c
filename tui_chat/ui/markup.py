"""Untrusted text for the places in Textual that always parse markup (the palette)."""

from __future__ import annotations

from textual.markup import escape

from tui_chat.core.sanitize import clean


def shown(text: str) -> str:
    """`text` made safe for places that parse markup (the command palette does, always):
    no control characters, and square brackets escaped so `[/]` is text, not a tag."""
    return escape(clean(text))
