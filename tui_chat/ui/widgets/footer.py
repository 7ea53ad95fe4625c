"""The key hints at the bottom: Textual's Footer, with F1 first and a compact form below
100 columns, so the one key that lists all the others is never the one cut off."""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.widget import Widget
from textual.widgets import Footer

#: Below this many columns the hints are compact: less padding and one-word labels.
COMPACT_BELOW = 100
#: The one-word label of each action in the compact footer.
SHORT = {
    "help": "help",
    "stop": "stop",
    "toggle_stream": "stream",
    "new_chat": "new",
    "copy_reply": "copy",
    "toggle_sidebar": "chats",
    "quit": "quit",
    "command_palette": "palette",
}


def _action(widget: Widget) -> str:
    """The action of one of the Footer's key widgets (FooterKey is not public), else ""."""
    action = getattr(widget, "action", None)
    return action.rpartition(".")[2] if isinstance(action, str) else ""


class KeyFooter(Footer):
    def compose(self) -> ComposeResult:
        widgets = list(super().compose())
        if self.compact:
            for widget in widgets:
                if (short := SHORT.get(_action(widget))) and hasattr(widget, "description"):
                    widget.description = short
        # F1 first: the footer is cut at the right edge, and help leads to every key.
        yield from sorted(widgets, key=lambda widget: _action(widget) != "help")

    def on_resize(self, event: events.Resize) -> None:
        compact = event.size.width < COMPACT_BELOW
        if compact != self.compact:
            self.compact = compact
            self.call_after_refresh(self.recompose)
