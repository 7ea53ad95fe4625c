"""F4: every figure of the last reply, for when the one-line summary under it is not enough."""

from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from tui_chat.core.metrics import ReplyMetrics


class ReplyDetails(ModalScreen[None]):
    BINDINGS = [Binding("escape,f4,q", "close", "Close")]

    def __init__(self, metrics: ReplyMetrics) -> None:
        super().__init__()
        self._metrics = metrics

    def compose(self) -> ComposeResult:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold")
        table.add_column()
        for label, value in self._metrics.details():
            table.add_row(label, value)
        with Vertical(classes="dialog"):
            yield Label("The last reply, in figures", classes="title")
            yield Static(table, id="details")
            yield Label("Esc closes", classes="hint")

    def action_close(self) -> None:
        self.dismiss(None)
