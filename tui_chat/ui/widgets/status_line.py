"""One line naming provider, model and streaming mode, driven by reactives."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from tui_chat.core.sanitize import clean


class StatusLine(Widget):
    DEFAULT_CSS = """
    StatusLine { height: 1; }
    """

    provider: reactive[str] = reactive("")
    model: reactive[str] = reactive("")
    #: Where requests go ("api.openai.com", "127.0.0.1:8000"); "" when nothing leaves
    #: the machine. A `.env` can point the app at a server: the user sees which.
    host: reactive[str] = reactive("")
    streaming: reactive[bool] = reactive(True)
    busy: reactive[bool] = reactive(False)

    def render(self) -> Text:
        mode = "streaming on" if self.streaming else "streaming off"
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(" tui-chat ", style="bold")
        where = f" · {self.host}" if self.host else ""
        text.append(clean(f"│ {self.provider} · {self.model}{where} │ {mode}"))
        if self.busy:
            text.append(" │ replying…")
        return text
