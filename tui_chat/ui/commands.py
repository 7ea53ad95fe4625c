"""The chat's commands in the palette (Ctrl+P), as a Textual command provider.

The app only answers the actions; what the palette offers, and when, is decided here.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.app import App, SystemCommand
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.screen import Screen

from tui_chat.core.private_files import write_private

if TYPE_CHECKING:
    from tui_chat.ui.app import ChatApp
    from tui_chat.ui.screens.chat import ChatScreen

#: Textual's own commands that do not fit this app: its "Keys" panel (ours, F1, lists
#: every key and closes with Esc), "Maximize" (the focused widget is the one-line prompt:
#: it filled the screen with hatching) and a "Screenshot" that saves to ~/Downloads,
#: which a server often has not got (ours saves next to the exports).
REPLACED_SYSTEM_COMMANDS = frozenset({"Keys", "Maximize", "Minimize", "Screenshot"})

Command = tuple[str, str, Callable[[], Any]]


def chat_commands(chat: ChatScreen, app: ChatApp) -> Iterator[Command]:
    """(title, help, callback) for each command that makes sense right now."""
    yield "New chat", "Start a new conversation", chat.action_new_chat
    yield "Toggle streaming", "Streamed replies on/off", chat.action_toggle_stream
    yield (
        "Toggle event inspector",
        "The raw wire events of the current reply (F3)",
        chat.action_toggle_inspector,
    )
    yield (
        "Details of the last reply",
        "Chunks, gaps between them, tokens (F4)",
        chat.action_reply_details,
    )
    yield "Copy last reply", "Copy via OSC 52 (works over SSH)", chat.action_copy_reply
    yield "Copy code block…", "Pick a code block from the replies", chat.action_copy_code
    yield "Retry last reply", "Ask again for the last reply, in its place (F5)", chat.action_retry
    yield (
        "Edit last prompt",
        "Put it back in the box; Enter resends it in its place (F8)",
        chat.action_edit_last,
    )
    yield (
        "Select messages",
        "A cursor in the log: c copy, b code block, q quote, Esc back (Alt+Up)",
        chat.action_select_messages,
    )
    if chat.history.enabled:
        yield (
            "Earlier versions",
            "What a retry or an edit replaced, of the selected or last such turn (v on the cursor)",
            chat.action_earlier_versions,
        )
    yield "Switch model…", "Use another model from now on", chat.action_switch_model
    if chat.config.profiles:
        yield "Switch profile…", "Use another config.toml profile", chat.action_switch_profile
    yield "Set system prompt…", "Instructions sent with every request", chat.action_system_prompt
    yield (
        "Attach a file…",
        "Send a text file with the next prompt (or type /file PATH on a line)",
        chat.action_attach_file,
    )
    if chat.history.enabled:
        yield "Toggle chat list", "Show or hide saved chats (Ctrl+B)", chat.action_toggle_sidebar
    yield (
        "Export chat as Markdown",
        "Write it to a .md file here",
        partial(chat.action_export, "md"),
    )
    yield (
        "Export chat as JSON",
        "Write it to a .json file here",
        partial(chat.action_export, "json"),
    )
    yield (
        "Compare streaming vs non-streaming",
        "Same prompt, two panes side by side, with timings",
        chat.action_compare,
    )
    yield "Keys", "Every key the app answers to (F1)", app.action_help


def system_commands(app: App[Any], screen: Screen[Any]) -> Iterator[SystemCommand]:
    """Textual's palette commands (Theme, Quit), less the ones replaced above."""
    for command in App.get_system_commands(app, screen):
        if command.title not in REPLACED_SYSTEM_COMMANDS:
            yield command
    yield SystemCommand(
        "Screenshot",
        "Save an SVG picture of the screen in the working directory",
        lambda: app.set_timer(0.1, partial(save_screenshot, app)),  # once the palette closed
    )


def save_screenshot(app: App[Any], directory: Path | None = None) -> Path | None:
    """The screen as SVG in the working directory, private like an export (it holds the
    chat), and a toast saying where, or why not."""
    path = (directory or Path.cwd()) / f"tui-chat-screen-{time.strftime('%Y%m%d-%H%M%S')}.svg"
    try:
        write_private(path, app.export_screenshot())
    except OSError as error:
        app.notify(f"Could not save the screenshot: {error}", severity="error", markup=False)
        return None
    app.notify(f"Screenshot saved to {path}", timeout=6, markup=False)
    return path


class ChatCommands(Provider):
    """Offers `chat_commands`; on another screen (help, compare mode) it offers none."""

    def _commands(self) -> list[Command]:
        from tui_chat.ui.app import ChatApp

        app = self.app
        # `self.screen` is the screen the palette was opened over: the chat, or not.
        if not isinstance(app, ChatApp) or self.screen is not app.chat:
            return []
        return list(chat_commands(app.chat, app))

    async def discover(self) -> Hits:
        for title, help_text, callback in self._commands():
            yield DiscoveryHit(title, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, callback in self._commands():
            if (score := matcher.match(title)) > 0:
                yield Hit(score, matcher.highlight(title), callback, help=help_text)
