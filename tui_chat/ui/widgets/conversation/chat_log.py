"""The scrolling message log, anchored to the bottom while the user is there.

It also holds the message cursor: with the log focused, Up and Down move it through the
messages, and keys act on the one it is on. The log only says what was asked for (copy,
copy a code block, quote); the screen, which owns the clipboard and the prompt, does it.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import events
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.scrollbar import ScrollBar
from textual.widget import Widget

from tui_chat.ui.widgets.conversation.folding import FoldsFarAbove
from tui_chat.ui.widgets.conversation.log_scrollbar import LogScrollBar
from tui_chat.ui.widgets.conversation.one_layout import OneLayout
from tui_chat.ui.widgets.conversation.selection import SELECTED, is_message, message_text


class ChatLog(VerticalScroll, OneLayout, FoldsFarAbove, can_focus=True):
    """Follows new text; lets go when the user scrolls up to read (Textual's anchor).
    What lies far above the view is folded away (`FoldsFarAbove`)."""

    #: The message the cursor is on; None when it is put away.
    _selected: Widget | None = None

    BINDINGS = [
        Binding("up,alt+up,k", "move(-1)", "Previous message", show=False),
        Binding("down,alt+down,j", "move(1)", "Next message", show=False),
        Binding("home", "move_to(0)", "First message", show=False),
        Binding("end", "move_to(-1)", "Last message", show=False),
        Binding("c", "ask('copy')", "Copy message"),
        Binding("b", "ask('code')", "Copy code block"),
        Binding("q,greater_than_sign", "ask('quote')", "Quote in prompt"),
        Binding("escape", "leave", "Back to prompt"),
    ]

    @dataclass
    class Chosen(Message):
        """A key asked for something done with the selected message's text."""

        log: ChatLog
        #: "copy", "code" or "quote".
        what: str
        text: str

    @dataclass
    class Left(Message):
        """The cursor was put away (Esc): the prompt should have the keys again."""

        log: ChatLog

    def on_mount(self) -> None:
        self.anchor()

    @property
    def vertical_scrollbar(self) -> ScrollBar:
        """Textual's own, made as Textual makes it, but drawn by look (log_scrollbar.py)."""
        if self._vertical_scrollbar is None:
            bar = LogScrollBar(
                vertical=True, name="vertical", thickness=self.scrollbar_size_vertical
            )
            bar.display = False
            self._vertical_scrollbar = bar
            self.app._start_widget(self, bar)
        return self._vertical_scrollbar

    @property
    def selected(self) -> Widget | None:
        """The message the cursor is on (None when it is put away or that one is gone)."""
        if self._selected is not None and self._selected.parent is not self:
            self._selected = None
        return self._selected

    async def add_turn(self, widgets: list[Widget]) -> None:
        """Show a new turn at the bottom and follow it; the turns it pushes far up
        leave the layout."""
        await self.mount_all(widgets)
        self.anchor()
        await self.fold_far_above()

    def messages(self) -> list[Widget]:
        folded = set(self.folded)
        return [
            c for c in self.children if is_message(c) or (c in folded and c.has_class("message"))
        ]

    def select(self, widget: Widget | None) -> None:
        if self._selected is not None:
            self._selected.remove_class(SELECTED)
        self._selected = widget
        if widget is not None:
            widget.add_class(SELECTED)
            if widget is not self.messages()[-1]:
                self.release_anchor()  # a reply still streaming must not pull the view away
            top = widget.outer_size.height > self.size.height
            if self.reveal(widget):  # it has a place to scroll to after the next layout
                self.call_after_refresh(self.scroll_to_widget, widget, animate=False, top=top)
            else:
                self.scroll_to_widget(widget, animate=False, top=top)

    def start_cursor(self) -> bool:
        """Focus the log with the cursor on the last message; False when there is none."""
        messages = self.messages()
        if not messages:
            return False
        if self.selected not in messages:
            self.select(messages[-1])
        self.focus()
        return True

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Without a selected message these keys are not the log's: Esc goes on to the
        # screen (stop the reply), and the footer does not offer copy or quote.
        if action in ("ask", "leave"):
            return self.selected is not None
        return True

    def on_blur(self, event: events.Blur) -> None:
        # Focus going elsewhere puts the cursor away; a screen over the chat (the code
        # block chooser, a toast's dialog) does not, so it is still there afterwards.
        if self.app.screen is self.screen:
            self.select(None)

    def action_move(self, step: int) -> None:
        messages = self.messages()
        if not messages:
            return
        current = self.selected
        if current not in messages:
            self.select(messages[-1])
            return
        index = min(max(messages.index(current) + step, 0), len(messages) - 1)
        self.select(messages[index])

    def action_move_to(self, index: int) -> None:
        messages = self.messages()
        if messages:
            self.select(messages[index])

    def action_ask(self, what: str) -> None:
        if self.selected is not None:
            self.post_message(self.Chosen(self, what, message_text(self.selected)))

    def action_leave(self) -> None:
        self.select(None)
        self.post_message(self.Left(self))
