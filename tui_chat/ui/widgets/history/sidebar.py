"""The conversation list with search. It only shows and asks: the app owns the store.

Everything it wants done (open, delete, rename, search) goes out as a message. No
letter key acts on the list: letters typed there go to the search box, so a search
word can never rename or delete a chat.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from tui_chat.core.sanitize import clean
from tui_chat.history.models import ConversationSummary, SearchHit


class Sidebar(Vertical):
    BINDINGS = [
        Binding("delete", "delete", "Delete chat", show=False),
        Binding("f2", "rename", "Rename chat", show=False),
    ]

    @dataclass
    class Open(Message):
        """Enter on a chat in the list: the screen opens it."""

        conversation_id: int

    @dataclass
    class Delete(Message):
        """Del on a chat: the screen asks, then deletes it."""

        conversation_id: int

    @dataclass
    class Rename(Message):
        """F2 on a chat: the screen asks for its new title."""

        conversation_id: int

    @dataclass
    class Search(Message):
        """The search box changed: the screen searches, the list only shows."""

        text: str

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        #: What was asked of the list before `fill`: shown once it is there.
        self._pending: list[Option] | None = None
        self._pending_empty = ""
        self._focus_when_filled = False
        self._filled = False

    def compose(self) -> ComposeResult:
        """Nothing yet: the box is drawn empty in the first frame and `fill` puts the
        search and the list in once it is out. Styling and drawing them there cost the
        first frame a third of what tui-chat adds to Textual's own start-up."""
        return iter(())

    @property
    def filled(self) -> bool:
        """The search box and the list are mounted (`fill` has run)."""
        return self._filled

    async def fill(self) -> None:
        """Mount the search box and the list, then show what was asked for meanwhile."""
        if self.filled or self.children:
            return
        await self.mount_all(
            [
                Input(placeholder="Search all chats…", id="search", select_on_focus=False),
                Label("Enter open · F2 rename · Del delete", id="sidebar-title", markup=False),
                OptionList(id="conversations"),
            ]
        )
        if not self.query(OptionList):  # removed meanwhile: the app is quitting
            return
        self._filled = True
        if self._pending is not None:
            self._replace(self._pending, self._pending_empty)
            self._pending = None
        if self._focus_when_filled:
            self.focus_search()

    def show_conversations(self, rows: Sequence[ConversationSummary], current: int | None) -> None:
        options = []
        for row in rows:
            title = Text(clean(row.title or "(untitled)"), no_wrap=True, overflow="ellipsis")
            if row.id == current:
                title.stylize("bold")
            title.append(
                f"\n{row.updated_at.astimezone():%b %d %H:%M} · {row.message_count} msgs",
                style="dim",
            )
            options.append(Option(title, id=f"c{row.id}"))
        self._replace(options, "No chats yet.")

    def show_hits(self, hits: Sequence[SearchHit]) -> None:
        """One row per chat, with its best snippet (hits come best first) and how many
        other messages of it matched."""
        best: dict[int, SearchHit] = {}
        more: dict[int, int] = {}
        for hit in hits:
            if hit.conversation_id in best:
                more[hit.conversation_id] += 1
            else:
                best[hit.conversation_id] = hit
                more[hit.conversation_id] = 0
        options = []
        for conversation_id, hit in best.items():
            text = Text(
                clean(hit.title or "(untitled)"), style="bold", no_wrap=True, overflow="ellipsis"
            )
            text.append("\n")
            for part, is_match in hit.parts():
                text.append(clean(part).replace("\n", " "), style="reverse" if is_match else "")
            if extra := more[conversation_id]:
                text.append(f"\n+{extra} more {'match' if extra == 1 else 'matches'}", style="dim")
            options.append(Option(text, id=f"c{conversation_id}"))
        self._replace(options, "No matches.")

    def focus_search(self) -> None:
        if not self.filled:
            self._focus_when_filled = True
            return
        self.query_one("#search", Input).focus()

    @property
    def search_text(self) -> str:
        """What the search box holds: a refresh keeps showing that search's hits."""
        return self.query_one("#search", Input).value if self.filled else ""

    def _replace(self, options: list[Option], empty: str) -> None:
        """New rows; the cursor stays on the chat it was on (the list refreshes as
        replies are saved, maybe while someone moves through it)."""
        if not self.filled:
            self._pending, self._pending_empty = options, empty
            return
        listing = self.query_one(OptionList)
        was = self._selected_id()
        listing.clear_options()
        if options:
            listing.add_options(options)
            ids = [option.id for option in options]
            listing.highlighted = ids.index(f"c{was}") if f"c{was}" in ids else 0
        else:
            listing.add_option(Option(Text(empty, style="dim"), disabled=True))

    def _selected_id(self) -> int | None:
        if not self.filled:
            return None
        listing = self.query_one(OptionList)
        if listing.highlighted is None:
            return None
        option_id = listing.get_option_at_index(listing.highlighted).id
        return int(option_id[1:]) if option_id else None

    @on(Input.Changed, "#search")
    def _search_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.post_message(self.Search(event.value))

    @on(Input.Submitted, "#search")
    def _to_results(self, event: Input.Submitted) -> None:
        event.stop()
        self.query_one(OptionList).focus()

    def on_key(self, event: events.Key) -> None:
        """A letter typed on the list goes on with the search instead of being lost."""
        if not self.filled:
            return
        search = self.query_one("#search", Input)
        if event.is_printable and event.character and not search.has_focus:
            event.stop()
            event.prevent_default()
            search.focus()
            search.insert_text_at_cursor(event.character)

    @on(OptionList.OptionSelected)
    def _option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id:
            self.post_message(self.Open(int(event.option.id[1:])))
            if self.screen.has_class("-narrow"):  # an overlay: get out of the chat's way
                self.display = False

    def action_delete(self) -> None:
        if (conversation_id := self._selected_id()) is not None:
            self.post_message(self.Delete(conversation_id))

    def action_rename(self) -> None:
        if (conversation_id := self._selected_id()) is not None:
            self.post_message(self.Rename(conversation_id))
