"""The earlier versions of one turn (replaced by a retry or an edit), read-only.

Every text here is untrusted (model output, or a prompt back from history): it is
cleaned and never parsed as markup. Shown as plain text, not Markdown: this is for
reading what was said before, and plain text cannot be made to look like something else.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Label, Static

from tui_chat.core.attachments import typed_form
from tui_chat.core.sanitize import clean
from tui_chat.history.models import EarlierVersion

_ENDED = {"stopped": "stopped", "error": "failed", "interrupted": "cut off", "streaming": "cut off"}


def version_heading(number: int, total: int, version: EarlierVersion) -> str:
    """ "Version 1 of 3 · stopped · replaced 14:02" (the time in local time)."""
    parts = [f"Version {number} of {total}"]
    if version.reply is not None and version.reply.status in _ENDED:
        parts.append(_ENDED[version.reply.status])
    parts.append(f"replaced {version.replaced_at.astimezone():%Y-%m-%d %H:%M}")
    return " · ".join(parts)


class EarlierVersions(ModalScreen[None]):
    """Lists a turn's earlier versions, oldest first; the one in the chat is the last."""

    DEFAULT_CSS = """
    EarlierVersions { align: center middle; }
    EarlierVersions > .dialog { max-height: 100%; }
    EarlierVersions #versions { height: auto; max-height: 65vh; }
    EarlierVersions .version-heading { text-style: bold; margin-top: 1; }
    EarlierVersions .version-prompt {
        border-left: thick $primary; background: $boost; padding: 0 1;
    }
    EarlierVersions .version-reasoning { color: $text-muted; padding: 0 1 0 2; }
    EarlierVersions .version-reply { border-left: solid $secondary; padding: 0 1; }
    EarlierVersions .version-error { color: $text-error; padding: 0 1 0 2; }
    """

    BINDINGS = [Binding("escape,q,v", "close", "Close")]
    AUTO_FOCUS = "#versions"

    def __init__(self, versions: Sequence[EarlierVersion]) -> None:
        super().__init__()
        self._versions = tuple(versions)

    def compose(self) -> ComposeResult:
        earlier = len(self._versions)
        with Vertical(classes="dialog"):
            yield Label(
                f"Earlier versions of this turn: {earlier} (the chat shows version {earlier + 1})",
                classes="title",
                markup=False,
            )
            with VerticalScroll(id="versions"):
                for number, version in enumerate(self._versions, start=1):
                    yield from self._version(number, earlier + 1, version)
            yield Label("↑ ↓ PgUp PgDn scroll · Esc closes", classes="hint", markup=False)

    def _version(self, number: int, total: int, version: EarlierVersion) -> Iterator[Widget]:
        yield Static(
            version_heading(number, total, version), classes="version-heading", markup=False
        )
        if version.prompt is not None:
            prompt = clean(typed_form(version.prompt.content))
            yield Static(prompt, classes="version-prompt", markup=False)
        reply = version.reply
        if reply is None:
            yield Static("no reply was saved", classes="version-reasoning", markup=False)
            return
        if reply.reasoning:
            thought = f"thought: {clean(reply.reasoning)}"
            yield Static(thought, classes="version-reasoning", markup=False)
        answer = clean(reply.content) or "∅ no answer"
        yield Static(answer, classes="version-reply", markup=False)
        if reply.status == "error" and reply.error:
            yield Static(f"! {clean(reply.error)}", classes="version-error", markup=False)

    def action_close(self) -> None:
        self.dismiss(None)
