"""Ctrl+R in the prompt box: find an earlier prompt by a few words of it.

A dialog rather than an inline reverse-search: the draft in the box is not touched
until a prompt is chosen, so Esc has nothing to restore, and the matches are all in view.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList

from tui_chat.core.sanitize import clean

#: Matches listed at once: enough to scroll through, few enough to filter per key.
SHOWN_MATCHES = 200
_PREVIEW_CHARS = 200


def matches(prompts: list[str], query: str) -> list[str]:
    """The prompts holding every word of `query` (any case), in the order given."""
    words = query.casefold().split()
    return [p for p in prompts if all(word in p.casefold() for word in words)]


def _preview(prompt: str) -> str:
    """One line per prompt; "·" stands for a line break (it is in the console fonts)."""
    one_line = " · ".join(line.strip() for line in prompt.splitlines() if line.strip())
    return clean(one_line[:_PREVIEW_CHARS])


class PromptSearch(ModalScreen[str | None]):
    """Type to filter, Up/Down (or Ctrl+R again) to choose, Enter to take it, Esc to go
    back with the box as it was. Returns the chosen prompt or None."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("down,ctrl+r", "move(1)", "Older match", show=False),
        Binding("up", "move(-1)", "Newer match", show=False),
    ]
    AUTO_FOCUS = "#prompt-search-query"

    def __init__(self, prompts: list[str]) -> None:
        super().__init__()
        self._prompts = prompts
        self._shown: list[str] = []

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="prompt-search"):
            yield Label("Earlier prompts", markup=False)
            yield Input(placeholder="type words of the prompt", id="prompt-search-query")
            yield OptionList(id="prompt-search-matches", markup=False)  # prompts are not markup
            yield Label("Enter takes it · Up/Down choose · Esc cancels", classes="hint")

    def on_mount(self) -> None:
        self._filter("")

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        self._filter(event.value)

    def _filter(self, query: str) -> None:
        self._shown = matches(self._prompts, query)[:SHOWN_MATCHES]
        options = self.query_one(OptionList)
        options.set_options(_preview(p) for p in self._shown)
        options.highlighted = 0 if self._shown else None

    def action_move(self, step: int) -> None:
        options = self.query_one(OptionList)
        if step > 0:
            options.action_cursor_down()
        else:
            options.action_cursor_up()

    @on(Input.Submitted)
    def _take(self) -> None:
        index = self.query_one(OptionList).highlighted
        if index is not None and index < len(self._shown):
            self.dismiss(self._shown[index])

    @on(OptionList.OptionSelected)
    def _clicked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self._shown[event.option_index])

    def action_cancel(self) -> None:
        self.dismiss(None)
