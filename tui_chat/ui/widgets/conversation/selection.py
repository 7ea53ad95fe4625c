"""What the message cursor works on: which log children are messages, and their text.

Kept apart from the message widgets so the cursor needs nothing from them but the
`message` class and the text they already hold.
"""

from __future__ import annotations

from textual.content import Content
from textual.widget import Widget
from textual.widgets import Static

#: Set on the message the cursor is on (styles.tcss draws it without colour too).
SELECTED = "-selected"


def is_message(widget: Widget) -> bool:
    return widget.has_class("message") and widget.display


def message_text(widget: Widget) -> str:
    """The text a message holds: a reply's Markdown source, a notice's or prompt's text."""
    source = getattr(widget, "text", None)
    if isinstance(source, str):
        return source
    if isinstance(widget, Static):
        content = widget.content
        if isinstance(content, Content):
            return content.plain
        if isinstance(content, str):
            return content
        return str(widget.render())
    return ""


def quoted(text: str) -> str:
    """`text` as Markdown quote lines ("> "), ending in a blank line to write after."""
    lines = text.strip("\n").splitlines() or [""]
    return "\n".join(f"> {line}" if line.strip() else ">" for line in lines) + "\n\n"
