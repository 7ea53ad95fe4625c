"""One line naming provider, model and streaming mode, driven by reactives.

On a narrow terminal the model name gives way, never the state: "replying…" and
"streaming on/off" are what a person glances up for, so they are kept whole and the
provider and model are cut with "…" to fit.
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from tui_chat.core.sanitize import clean

NAME = " tui-chat "


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
        width = self.size.width or 80
        mode = "streaming on" if self.streaming else "streaming off"
        state = f" │ {mode}" + (" │ replying…" if self.busy else "")
        where = f" · {self.host}" if self.host else ""
        middle = clean(f"│ {self.provider} · {self.model}{where}")
        name = NAME if cell_len(NAME) + cell_len(state) + 8 <= width else ""
        room = width - cell_len(name) - cell_len(state)
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(name, style="bold")
        if room > 2:
            shown = Text(middle)
            shown.truncate(room, overflow="ellipsis")
            text.append_text(shown)
        text.append(state.removeprefix(" │ ") if room <= 2 else state)
        return text
