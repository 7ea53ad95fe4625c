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
    def __init__(self) -> None:
        super().__init__()
        #: What the keys drawn now were made from (`_hints`); None while there are none.
        self._drawn: tuple[object, ...] | None = None

    def compose(self) -> ComposeResult:
        widgets = list(super().compose())
        self._drawn = self._hints() if widgets else None
        if self.compact:
            for widget in widgets:
                if (short := SHORT.get(_action(widget))) and hasattr(widget, "description"):
                    widget.description = short
        # F1 first: the footer is cut at the right edge, and help leads to every key.
        yield from sorted(widgets, key=lambda widget: _action(widget) != "help")

    async def recompose(self) -> None:
        """Only when the keys to show have changed. Textual's Footer re-mounts every key
        for each change of the screen's bindings, and most (focus moving, a reactive
        set to what it was) change nothing shown: two of them, 15 ms each, came just
        after the first frame, ahead of the first key typed."""
        if self._drawn is not None and self._hints() == self._drawn:
            return
        await super().recompose()

    def _hints(self) -> tuple[object, ...]:
        """Everything about the screen's bindings that the footer draws."""
        shown = tuple(
            (
                binding.key,
                self.app.get_key_display(binding),
                binding.description,
                binding.action,
                binding.group,
                enabled,
                tooltip,
            )
            for key, (_, binding, enabled, tooltip) in self.screen.active_bindings.items()
            if binding.show or key == self.app.COMMAND_PALETTE_BINDING  # shown at the right
        )
        return (self.compact, self.show_command_palette, shown)

    def on_resize(self, event: events.Resize) -> None:
        compact = event.size.width < COMPACT_BELOW
        if compact != self.compact:
            self.compact = compact
            self.call_after_refresh(self.recompose)
