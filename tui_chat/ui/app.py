"""The Textual app: what is app-wide (keys, the palette, the theme, toasts, the clipboard,
worker failures). The chat itself is a screen (`ui/screens/chat.py`)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import events
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.widgets import TextArea
from textual.worker import Worker, WorkerState

from tui_chat.core.protocol import Provider
from tui_chat.core.sanitize import clean
from tui_chat.history import HistoryStore
from tui_chat.settings.config import Settings
from tui_chat.settings.preferences import load_state, save_state
from tui_chat.settings.profiles import ConfigFile
from tui_chat.ui.commands import ChatCommands, system_commands
from tui_chat.ui.render import install
from tui_chat.ui.screens.chat import SHOWN_WHEN_OPENING, WIDE_ENOUGH_FOR_SIDEBAR, ChatScreen
from tui_chat.ui.theme import (
    LINUX_CONSOLE_CLASS,
    is_linux_console,
    theme_for_terminal,
    use_console_glyphs,
)

if TYPE_CHECKING:
    from tui_chat.ui.clipboard import TmuxCopy  # imported after the first frame

__all__ = ["SHOWN_WHEN_OPENING", "WIDE_ENOUGH_FOR_SIDEBAR", "ChatApp"]

STYLESHEET = Path(__file__).with_name("styles.tcss")


def typed_text(
    held: list[events.Key | events.Paste],
) -> tuple[str, list[events.Key | events.Paste]]:
    """The text that what was typed ahead starts with (characters and pastes, a
    Backspace taking back the last one), and the keys from the first other one on.

    The text goes into the box at once. Keys go through Textual's path, where a bound
    key (Backspace, the arrows) acts only once it has bubbled back up to the app:
    handed on in a burst, it would act after the keys behind it."""
    text = ""
    for index, event in enumerate(held):
        if isinstance(event, events.Paste):
            text += event.text
        elif event.key == "backspace" and text:
            text = text[:-1]
        elif event.is_printable and event.character:
            text += event.character
        else:
            return text, held[index:]
    return text, []


class ChatApp(App[None]):
    CSS_PATH = STYLESHEET
    COMMANDS = App.COMMANDS | {ChatCommands}
    TITLE = "tui-chat"

    BINDINGS = [
        Binding("f1", "help", "Help"),
        # "?" reaches the app only when the prompt is not focused (the prompt types it).
        Binding("question_mark", "help", "Help", show=False),
        Binding("ctrl+q", "quit", "Quit", priority=True),
    ]

    #: Run once the first frame is drawn: start-up work nobody waits for (the console
    #: script's GC tuning: a full collection costs 20 ms before the prompt otherwise).
    after_first_frame: Callable[[], None] | None = None

    def __init__(
        self,
        settings: Settings,
        provider: Provider | None = None,
        *,
        config: ConfigFile | None = None,
        remember_ui: bool = True,
        store: HistoryStore | None = None,
        resume: int | None = None,
        compare: tuple[tuple[str, Settings], tuple[str, Settings]] | None = None,
        history_notice: str | None = None,
    ) -> None:
        super().__init__()
        #: The chat screen, the app's default screen; everything about the chat is there.
        self.chat = ChatScreen(
            settings,
            provider,
            config=config,
            store=store,
            resume=resume,
            compare=compare,
            history_notice=history_notice,
        )
        self._remember_ui = remember_ui
        #: Keys and pastes that came before the chat's prompt was in place (typed as the
        #: app started), handed on in order once it is; None from then on.
        self._typeahead: list[events.Key | events.Paste] | None = []
        self._remembered_theme = load_state().get("theme") if remember_ui else None
        if self._remembered_theme in self.available_themes:
            self.theme = self._remembered_theme
        if is_linux_console(os.environ):  # styles.tcss draws borders the console can show
            self.add_class(LINUX_CONSOLE_CLASS)
        # Frames reach the terminal as a cell diff against what it already shows, held
        # while the link has not drained: a fraction of the bytes over SSH. The escape
        # hatch is for telling a rendering bug from the layer's.
        if os.environ.get("TUI_CHAT_RENDER") != "textual":
            install(self)

    def get_default_screen(self) -> Screen[None]:
        return self.chat

    def on_mount(self) -> None:
        if self.after_first_frame is not None:
            self.call_after_refresh(self.after_first_frame)

    def run(self, **kwargs: Any) -> Any:  # type: ignore[override]
        """In a real terminal (not the tests' headless one): a theme that holds at 16
        colours, and scrollbars the Linux console's fonts can draw."""
        if not kwargs.get("headless"):
            self.theme = theme_for_terminal(
                self.console.color_system, self.theme, self._remembered_theme
            )
            if self.has_class(LINUX_CONSOLE_CLASS):
                use_console_glyphs()
        return super().run(**kwargs)

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        return system_commands(self, screen)

    def watch_app_focus(self, focus: bool) -> None:
        """A browser tab (`tui-chat web`) starts the app blurred, and Textual skips
        AUTO_FOCUS while blurred: so when focus comes and nothing has it, give it to the
        screen's AUTO_FOCUS widget (the prompt), as a terminal start would have."""
        if focus:
            self._focus_default()

    def _focus_default(self) -> None:
        screen = self.screen
        selector = screen.AUTO_FOCUS or self.AUTO_FOCUS
        if screen.focused is not None or not selector:
            return
        for widget in screen.query(selector):
            if widget.focusable:
                screen.set_focus(widget)
                return

    async def on_event(self, event: events.Event) -> None:
        """Hold what is typed before the prompt is there: Textual hands a key that
        comes while the screen is still being composed to the screen itself, with
        nothing focused, and it is lost (a fast typist's first words on a slow start)."""
        held = self._typeahead
        if held is not None and isinstance(event, (events.Key, events.Paste)):
            if not event.is_forwarded:
                if isinstance(event, events.Key) and event.key == "ctrl+j":
                    # Enter typed before Textual set the terminal raw came through the
                    # tty's cooked mode as a line feed (ICRNL), which reads as Ctrl+J.
                    event = events.Key("enter", "\r")
                held.append(event)
                return
        await super().on_event(event)

    async def on_chat_screen_prompt_ready(self, _message: ChatScreen.PromptReady) -> None:
        """Hand on what was held (keys typed later queue behind this message)."""
        held, self._typeahead = self._typeahead, None
        if not held:
            return
        self._focus_default()  # typing says the terminal has focus
        text, keys = typed_text(held)
        if text and isinstance(self.focused, TextArea):
            self.focused.insert(text)
        for event in keys:
            await super().on_event(event)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        self.report_worker_failure(event)

    def report_worker_failure(self, event: Worker.StateChanged) -> None:
        """The one place a worker's failure surfaces (screens forward theirs here): every
        worker runs with `exit_on_error=False`, so without this an error would vanish."""
        worker = event.worker
        if event.state is not WorkerState.ERROR or worker.error is None:
            return
        error = worker.error
        self.log.error(f"worker {worker.name!r} failed", error)
        self.notify(
            f"Something went wrong ({worker.group or worker.name}): "
            f"{type(error).__name__}: {error}",
            severity="error",
            timeout=10,
            markup=False,
        )
        if worker.group == "reply":
            self.chat.replying = False  # never leave the prompt locked behind a dead reply

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Every toast, ours or Textual's, goes through the one cleaner: toasts are built
        from server text (model ids, error reasons) that may carry escape sequences."""
        super().notify(
            clean(message), title=clean(title), severity=severity, timeout=timeout, markup=markup
        )

    def _watch_theme(self, theme: str) -> None:
        super()._watch_theme(theme)
        if self._remember_ui and self.is_running:
            save_state({**load_state(), "theme": theme})

    #: What the last copy inside tmux did (see `ui/clipboard.py`); None outside tmux.
    last_tmux_copy: TmuxCopy | None = None

    def copy_to_clipboard(self, text: str) -> None:
        """OSC 52, so it works over SSH; inside tmux also a tmux buffer (`load-buffer -w`,
        which tmux passes on to the terminal), as tmux drops the wrapped OSC 52 by default."""
        from tui_chat.ui.clipboard import in_tmux, osc52, tmux_copy

        self._clipboard = text
        tmux = in_tmux()
        self.last_tmux_copy = tmux_copy(text) if tmux else None
        if self._driver is not None:
            self._driver.write(osc52(text, tmux=tmux))

    def action_help(self) -> None:
        from tui_chat.ui.screens.help import HelpScreen  # not needed before the first frame

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen([*self.chat.BINDINGS, *self.BINDINGS]))
