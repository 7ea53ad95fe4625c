"""F1: every key the app answers to, generated from the live bindings so it cannot go stale."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

EXTRA_KEYS = (
    ("Enter", "send the prompt"),
    ("Ctrl+J", "new line in the prompt"),
    ("Ctrl+P", "command palette: model, profile, system prompt, copy, export, theme"),
    ("F2 / Delete", "in the chat list (Ctrl+B): rename / delete the chosen chat"),
    ("F2", "in compare mode: back to the chat (Esc stops both replies)"),
)
#: Key names Textual spells out that people know by their symbol.
SYMBOLS = {"question_mark": "?"}


def _display(key: str) -> str:
    if key in SYMBOLS:
        return SYMBOLS[key]
    return "+".join(part.capitalize() if len(part) > 1 else part.upper() for part in key.split("+"))


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,f1,q", "dismiss", "Close")]

    def __init__(self, bindings: list[Binding]) -> None:
        super().__init__()
        self._keys = bindings

    def compose(self) -> ComposeResult:
        rows = [f"| {key} | {what} |" for key, what in EXTRA_KEYS]
        seen = set()
        for binding in self._keys:
            for key in binding.key.split(","):
                if binding.description and (key, binding.description) not in seen:
                    seen.add((key, binding.description))
                    rows.append(f"| {_display(key)} | {binding.description} |")
        table = "\n".join(["| key | does |", "|---|---|", *rows])
        with VerticalScroll(id="help-body"):
            yield Markdown(f"# tui-chat keys\n\n{table}\n\nEsc closes this help.")

    def action_dismiss(self) -> None:  # type: ignore[override]
        self.dismiss(None)
