"""A small modal that asks for one piece of text (a model name, a system prompt, a title)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from tui_chat.core.sanitize import clean


class AskText(ModalScreen[str | None]):
    """Enter accepts, Esc cancels; returns the text (possibly empty) or None."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]
    AUTO_FOCUS = "#answer"

    def __init__(self, title: str, value: str = "", placeholder: str = "") -> None:
        super().__init__()
        # Titles and values can come from a server or a saved chat: never raw to the terminal.
        self._title = clean(title)
        self._value = clean(value).replace("\n", " ")
        self._placeholder = clean(placeholder)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self._title, markup=False)
            yield Input(self._value, placeholder=self._placeholder, id="answer")
            yield Label("Enter to accept · Esc to cancel", classes="hint")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class Confirm(ModalScreen[bool]):
    """A yes/no question: y says yes, n or Esc says no, and Enter gives the default.

    A destructive question defaults to No, so an Enter typed for something else (a
    search, a prompt) cannot say yes to it.
    """

    BINDINGS = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n,escape", "answer(False)", "No"),
        Binding("enter", "default", "Default", show=False),
    ]

    def __init__(self, question: str, *, default: bool = True) -> None:
        super().__init__()
        self._question = clean(question)
        self._default = default

    def compose(self) -> ComposeResult:
        hint = "y / Enter: yes · n / Esc: no" if self._default else "y: yes · n / Esc / Enter: no"
        with Vertical(classes="dialog"):
            yield Label(self._question, markup=False)
            yield Label(hint, classes="hint")

    def action_default(self) -> None:
        self.dismiss(self._default)

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
