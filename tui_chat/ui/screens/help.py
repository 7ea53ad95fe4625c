"""F1: every key the app answers to, generated from the live bindings so it cannot go stale.

One line per key, so the list fits 120x40 whole; below that it scrolls, and every key
that scrolls a page elsewhere (PageDown, Down, End, Tab) scrolls it too: help that
hides its last rows hides "Esc closes this help".

Keys no binding says (the prompt's Enter, the cursor's letters) are fixed rows, one set
per screen: compare mode's help lists only what works in compare mode.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

Row = tuple[str, str]

#: The chat's fixed rows.
CHAT_KEYS: tuple[Row, ...] = (
    ("Enter", "send the prompt"),
    ("Ctrl+J", "new line in the prompt"),
    ("Up / Down", "on the prompt's first / last line: earlier prompts, from every chat"),
    ("Ctrl+R", "in the prompt: search earlier prompts (Esc leaves the draft as it was)"),
    ("/file PATH", "a line of its own in the prompt: send that text file with it"),
    ("Ctrl+P", "command palette: model, profile, system prompt, copy, export, theme"),
    (
        "Up Down c b q v",
        "after Alt+Up: move, copy message, copy code block, quote, earlier versions; Esc back",
    ),
    ("F2 / Del", "in the chat list (Ctrl+B): rename / delete the chosen chat"),
    ("F2", "in compare mode: back to the chat (Esc stops both replies)"),
)
#: Compare mode's fixed rows: its prompt has no earlier prompts, files or cursor, and
#: its palette no chat commands.
COMPARE_KEYS: tuple[Row, ...] = (
    ("Enter", "send the prompt to both sides"),
    ("Ctrl+J", "new line in the prompt"),
    ("Ctrl+P", "command palette: theme, screenshot, quit"),
)
#: Key names Textual spells out that people know by another spelling or a symbol.
SYMBOLS = {
    "question_mark": "?",
    "pageup": "PageUp",
    "pagedown": "PageDown",
    "escape": "Esc",
}


def _display(key: str) -> str:
    return "+".join(
        SYMBOLS.get(part) or (part.capitalize() if len(part) > 1 else part.upper())
        for part in key.split("+")
    )


def help_rows(bindings: Sequence[Binding], extra_rows: Sequence[Row] = CHAT_KEYS) -> list[Row]:
    """(key, what it does) for every key, the fixed ones first, each key once."""
    rows = list(extra_rows)
    seen = set()
    for binding in bindings:
        for key in binding.key.split(","):
            if binding.description and (key, binding.description) not in seen:
                seen.add((key, binding.description))
                rows.append((_display(key), binding.description))
    return rows


class HelpBody(VerticalScroll):
    """The scrolling list; Tab and Shift+Tab page through it (there is nothing else to
    focus here, so they would do nothing)."""

    BINDINGS = [
        Binding("tab", "page_down", "Next page", show=False),
        Binding("shift+tab", "page_up", "Previous page", show=False),
    ]


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,f1,q", "dismiss", "Close")]
    AUTO_FOCUS = "#help-body"

    def __init__(self, bindings: Sequence[Binding], extra_rows: Sequence[Row] = CHAT_KEYS) -> None:
        super().__init__()
        self._keys = bindings
        self._extra_rows = extra_rows

    def compose(self) -> ComposeResult:
        rows = [f"| {key} | {what} |" for key, what in help_rows(self._keys, self._extra_rows)]
        table = "\n".join(["| key | does |", "|---|---|", *rows])
        body = HelpBody(id="help-body")
        body.border_title = "tui-chat keys"
        body.border_subtitle = "Esc closes"
        with body:
            yield Markdown(f"{table}\n\nEsc closes this help.")

    def action_dismiss(self) -> None:  # type: ignore[override]
        self.dismiss(None)
