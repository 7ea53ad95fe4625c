"""The multi-line prompt box: Enter sends, Ctrl+J inserts a newline, Up/Down and Ctrl+R
recall earlier prompts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.widgets import TextArea


class PromptInput(TextArea):
    """A TextArea whose Enter submits instead of breaking the line.

    It never clears itself: the app decides whether a prompt is accepted (a reply
    may still be running), so refused text stays where the user typed it.

    Earlier prompts: Up on the first line goes back through them, Down on the last line
    forward, and Down past the newest gives back the draft that was in the box. They are
    this session's (`remember`) and then `history_source`'s (every saved conversation),
    newest first, each text once. A recalled prompt that is edited becomes the draft.
    """

    BINDINGS = [Binding("ctrl+r", "search_prompts", "Search earlier prompts", show=False)]

    @dataclass
    class Submitted(Message):
        """Enter in the box: the screen decides whether it is sent; the box keeps the text until
        it is taken."""

        prompt: PromptInput
        text: str
        #: How many sent prompts the box had given up (`take`) when this was made.
        taken: int = 0

        @property
        def control(self) -> PromptInput:
            return self.prompt

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(
            id=id,
            soft_wrap=True,
            show_line_numbers=False,
            tab_behavior="focus",
            placeholder="Message  (Enter sends · Ctrl+J new line)",
            compact=True,
        )
        #: Earlier prompts from history, newest first (set by the screen; None: none).
        self.history_source: Callable[[], list[str]] | None = None
        self._session: list[str] = []  # this run's prompts, oldest first
        #: While recalling: the prompts being walked, which one is shown (-1: the draft),
        #: the draft, and the text as recalled (an edit ends the recall).
        self._recall: list[str] | None = None
        self._index = -1
        self._draft = ""
        self._recalled = ""
        self._taken = 0  # sent prompts taken out of the box, and the last of them
        self._last_taken: str | None = None

    async def _on_key(self, event: events.Key) -> None:
        if event.key == "enter":
            event.stop()
            event.prevent_default()
            if self.text.strip():
                self._recall = None
                self.post_message(self.Submitted(self, self.text, self._taken))
            return
        if event.key == "ctrl+j":
            event.stop()
            event.prevent_default()
            start, end = self.selection
            self._replace_via_keyboard("\n", start, end)
            return
        await super()._on_key(event)

    def restore(self, text: str) -> bool:
        """Put a failed prompt back, but only into an empty box: a draft typed while the
        reply ran is the user's newer thought and is never merged or replaced."""
        if self.text.strip():
            return False
        self.load_text(text)
        self.move_cursor(self.document.end)
        return True

    # -- earlier prompts -------------------------------------------------------

    def take(self, sent: str) -> None:
        """Empty the box of a prompt that was sent, keeping what was typed after it.

        Called once its request is out (the clear cost up to a millisecond before it),
        so keys may have landed since Enter; a prompt edited meanwhile is left as it is.
        """
        self._taken, self._last_taken = self._taken + 1, sent
        if self.text == sent:
            self.clear()
        elif self.text.startswith(sent):
            self.delete((0, 0), self.document.get_location_from_index(len(sent)))

    def unsent(self, event: Submitted) -> str:
        """What of a submitted text is not sent yet. The box empties once a request is
        out, so an Enter pressed before that submits the sent prompt again, with
        whatever was typed after it."""
        last = self._last_taken
        if event.taken < self._taken and last is not None and event.text.startswith(last):
            return event.text[len(last) :]
        return event.text

    def remember(self, text: str) -> None:
        """A prompt that was sent: recalled first, even with no history (`--no-history`)."""
        if text in self._session:
            self._session.remove(text)
        self._session.append(text)

    def earlier_prompts(self) -> list[str]:
        """Newest first, each text once: this session's, then history's."""
        stored = self.history_source() if self.history_source is not None else []
        return list(dict.fromkeys([*reversed(self._session), *stored]))

    def _recalling(self) -> bool:
        return self._recall is not None and self.text == self._recalled

    def action_cursor_up(self, select: bool = False) -> None:
        at_top = self.navigator.is_first_wrapped_line(self.cursor_location)
        if select or not at_top or not self.selection.is_empty or not self._step(1):
            super().action_cursor_up(select)

    def action_cursor_down(self, select: bool = False) -> None:
        at_bottom = self.navigator.is_last_wrapped_line(self.cursor_location)
        if select or not at_bottom or not self.selection.is_empty or not self._step(-1):
            super().action_cursor_down(select)

    def _step(self, older: int) -> bool:
        """Show the next older (1) or newer (-1) prompt; False if there is none to show."""
        if not self._recalling():
            if older < 0:
                return False
            self._start_recall()
        assert self._recall is not None
        index = self._index + older
        if index >= len(self._recall):
            return False
        if index < 0:
            self._show(self._draft, at_start=False)
            self._recall = None
            return True
        self._index = index
        self._show(self._recall[index], at_start=older > 0)
        return True

    def _start_recall(self) -> None:
        self._draft = self._recalled = self.text
        # The draft itself is not an earlier prompt to step onto (an unsent copy of one).
        self._recall = [p for p in self.earlier_prompts() if p != self._draft]
        self._index = -1

    def _show(self, text: str, *, at_start: bool) -> None:
        """Going back, the cursor goes to the start so Up keeps going back; going
        forward, to the end so Down keeps going forward."""
        self.load_text(text)
        self._recalled = text
        self.move_cursor(self.document.start if at_start else self.document.end)

    def action_search_prompts(self) -> None:
        from tui_chat.ui.screens.prompt_search import PromptSearch  # only when asked for

        if not self._recalling():
            self._start_recall()
        assert self._recall is not None
        prompts = self._recall

        def chosen(prompt: str | None) -> None:
            if prompt is None or prompt not in prompts:
                return
            self._recall = prompts
            self._index = prompts.index(prompt)
            self._show(prompt, at_start=False)
            self.focus()

        self.app.push_screen(PromptSearch(prompts), chosen)

    def attach(self, path: str) -> None:
        """Add a `/file PATH` line after the draft: the file goes with the next prompt,
        and the line can still be seen and deleted before sending."""
        text = self.text.rstrip("\n")
        self.load_text(f"{text}\n/file {path}" if text.strip() else f"/file {path}\n")
        self.move_cursor(self.document.end)
        self.focus()
