"""The chat screen: prompt, log, chat list and inspector, and one reply worker."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import sys
import time
from functools import partial
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.command import SimpleCommand
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.screen import ModalScreen, Screen
from textual.widget import Widget
from textual.widgets import Button, TextArea
from textual.worker import Worker

from tui_chat.core.attachments import (
    Attachment,
    AttachmentError,
    compose,
    prepare,
    read_attachment,
    typed_form,
)
from tui_chat.core.conversation import Conversation
from tui_chat.core.private_files import write_private
from tui_chat.core.protocol import ChatRequest, Provider, ProviderError, Retrying
from tui_chat.core.sanitize import clean
from tui_chat.history import HistoryError, HistoryStore, export_json, export_markdown
from tui_chat.history.models import StoredConversation, StoredMessage, live_conversation
from tui_chat.history.saver import HistorySaver
from tui_chat.providers import make_provider, request_sent, tells_when_sent
from tui_chat.providers.read_pacing import hold_reads
from tui_chat.settings.config import (
    ConfigError,
    Settings,
    auto_choice_notice,
    endpoint_host,
    load_environment,
    origin,
)
from tui_chat.settings.profiles import ConfigFile
from tui_chat.ui.markup import shown
from tui_chat.ui.widgets.conversation.chat_log import ChatLog
from tui_chat.ui.widgets.conversation.notices import ErrorNotice, InfoNotice
from tui_chat.ui.widgets.conversation.selection import quoted
from tui_chat.ui.widgets.footer import KeyFooter
from tui_chat.ui.widgets.history.sidebar import Sidebar
from tui_chat.ui.widgets.prompt import PromptInput
from tui_chat.ui.widgets.status_line import StatusLine

if TYPE_CHECKING:
    from tui_chat.core.runner import Ended, ReplyEvent, ReplySink  # see _LATE_MODULES
    from tui_chat.recordings.recording import Recording, ReplyRecorder  # only with --record
    from tui_chat.ui.widgets.conversation.history_view import (  # see _message_widgets
        EarlierMessages,
        VersionsMark,
        versions_mark_of,
    )
    from tui_chat.ui.widgets.conversation.history_view import history_widgets as _history_widgets
    from tui_chat.ui.widgets.conversation.message import AssistantMessage, UserMessage
    from tui_chat.ui.widgets.inspector import EventInspector  # after the first frame

#: Where the message widgets live: they import Markdown, Pygments and Rich's syntax
#: highlighting, 30 ms that the first frame (which shows no message) does not wait for.
_MESSAGE_MODULES = (
    "tui_chat.ui.widgets.conversation.message",
    "tui_chat.ui.widgets.conversation.history_view",
)
#: All the first frame leaves out (the inspector: see `_inspector`), imported on a thread
#: once it is drawn: with the reply runner and its metrics, the dialogs, the clipboard
#: and HTML's entities (for attached files), 10-15 ms of imports it does not use.
_LATE_MODULES = (
    *_MESSAGE_MODULES,
    "tui_chat.ui.widgets.inspector",
    "tui_chat.core.runner",
    "tui_chat.ui.screens.dialogs",
    "tui_chat.ui.clipboard",
    "html",
)


def _dialogs() -> ModuleType:
    """The dialogs' module, imported by the first that is asked for if not yet."""
    from tui_chat.ui.screens import dialogs

    return dialogs


def _message_widgets() -> None:
    """Bind the message widgets' names in this module, importing them if nobody has:
    the chat screen calls it on mount when they are already imported, else once the
    first frame is out (imported on a thread), and whatever shows a message first."""
    global AssistantMessage, UserMessage
    global EarlierMessages, VersionsMark, versions_mark_of, _history_widgets
    from tui_chat.ui.widgets.conversation.history_view import (
        EarlierMessages,
        VersionsMark,
        versions_mark_of,
    )
    from tui_chat.ui.widgets.conversation.history_view import history_widgets as _history_widgets
    from tui_chat.ui.widgets.conversation.message import AssistantMessage, UserMessage


#: Below this many columns the conversation list starts hidden (80x24 over SSH).
WIDE_ENOUGH_FOR_SIDEBAR = 110
#: Replies shown at once when opening a long conversation; older ones on request.
SHOWN_WHEN_OPENING = 60
#: Seconds between asks to the provider to keep a connection open while a prompt is typed.
WARM_EVERY = 1.0
#: Seconds after the SDK's import begins before the code highlighters are made.
WARM_HIGHLIGHTERS_AFTER = 1.5


def _remote_host(settings: Settings) -> str:
    """The host for the status line; nothing for the local model or a replay."""
    return "" if settings.api in ("local", "replay") else endpoint_host(settings)


class _Turn:
    """One reply's UI and history, made once its request is on the wire: the worker
    shows nothing until `shown` is set, and what history hears before the turn is saved
    is kept and handed on then (a sink for the reply runner)."""

    def __init__(self) -> None:
        #: The request is on the wire (or the reply got further, or failed before it).
        self.sent = asyncio.Event()
        #: The widgets are mounted and `reply` is set.
        self.shown = asyncio.Event()
        self.reply: AssistantMessage | None = None
        self.reply_id: int | None = None
        self._sink: ReplySink | None = None
        self._progress: str | None = None
        self._ended: Ended | None = None

    def saved(self, reply_id: int | None, sink: ReplySink | None) -> None:
        self.reply_id, self._sink = reply_id, sink
        if sink is not None and self._ended is not None:
            sink.on_end(self._ended)
        elif sink is not None and self._progress is not None:
            sink.on_progress(self._progress)

    def next_draw(self) -> float:
        """When the reply is next drawn (see `AssistantMessage.next_draw`)."""
        return 0.0 if self.reply is None else self.reply.next_draw()

    def on_progress(self, text: str) -> None:
        if self._sink is not None:
            self._sink.on_progress(text)
        else:
            self._progress = text

    def on_end(self, ended: Ended) -> None:
        if self._sink is not None:
            self._sink.on_end(ended)
        else:
            self._ended = ended


class ChatScreen(Screen[None]):
    """The chat: it owns the conversation, its provider, history saving, the recording,
    the widgets, and the worker that runs each reply."""

    AUTO_FOCUS = "#prompt"

    class PromptReady(Message):
        """The prompt is in place (and focused, if the terminal has focus): what was
        typed while the app started can go to it now (`ChatApp.on_event`)."""

    #: Screen classes for styles.tcss: below WIDE_ENOUGH_FOR_SIDEBAR the chat list is an
    #: overlay over the chat instead of a column beside it.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (WIDE_ENOUGH_FOR_SIDEBAR, "-wide")]

    BINDINGS = [
        Binding("escape", "stop", "Stop reply"),
        Binding("ctrl+t", "toggle_stream", "Streaming on/off"),
        Binding("ctrl+n", "new_chat", "New chat"),
        Binding("ctrl+o", "copy_reply", "Copy reply"),
        Binding("ctrl+b", "toggle_sidebar", "Chats"),
        Binding("f3", "toggle_inspector", "Raw wire events", show=False),
        Binding("f4", "reply_details", "Figures of the last reply", show=False),
        Binding("f5", "retry", "Retry the last reply", show=False),
        Binding("f8", "edit_last", "Edit the last prompt and resend it", show=False),
        Binding("alt+up", "select_messages", "Select messages (copy, quote)", show=False),
        # With the message cursor in the log (the prompt box keeps a typed "v"). No
        # description: it belongs on F1's "after Alt+Up" line, not in a row of its own.
        Binding("v", "earlier_versions(True)", "", show=False),
        # The prompt keeps focus, so the log scrolls from anywhere; scrolling up lets
        # go of the bottom, scrolling back down to it follows new text again.
        Binding("pageup", "scroll_log(-1)", "Scroll up", show=False, priority=True),
        Binding("pagedown", "scroll_log(1)", "Scroll down", show=False, priority=True),
    ]

    streaming: reactive[bool] = reactive(True)
    replying: reactive[bool] = reactive(False)
    #: Longest the UI waits for a request to be on the wire before drawing it anyway
    #: (an SDK still loading, a slow connect): the request goes first, the UI follows.
    ui_waits_for_request: float = 0.1

    def __init__(
        self,
        settings: Settings,
        provider: Provider | None = None,
        *,
        config: ConfigFile | None = None,
        store: HistoryStore | None = None,
        resume: int | None = None,
        compare: tuple[tuple[str, Settings], tuple[str, Settings]] | None = None,
        history_notice: str | None = None,
    ) -> None:
        super().__init__(id="chat-screen")
        #: Why history is off or read-only this run, said in the chat (not only on stderr).
        self._history_notice = history_notice
        self._compare_at_start = compare
        self.history = HistorySaver(store, on_error=self._history_fault)
        self._resume = resume
        self.settings = settings
        self.provider = provider if provider is not None else make_provider(settings)
        self.config = config or ConfigFile()
        self.conversation = Conversation()
        self.set_reactive(ChatScreen.streaming, settings.stream)
        self._reply: Worker[None] | None = None
        #: The prompt caret's blink before a reply began (it pauses while one streams).
        self._caret_blinked: bool | None = None
        self._warmed_at = -WARM_EVERY  # when the provider was last asked to warm up
        self._inspector_pane: EventInspector | None = None  # mounted after the first frame
        #: `--record FILE.jsonl`: every reply's wire events, opened on mount.
        self.recording: Recording | None = None
        self._pending_earlier: tuple[StoredMessage, ...] = ()
        #: The prompt F8 put back in the box: sending then replaces its turn.
        self._editing: str | None = None

    def compose(self) -> ComposeResult:
        # The breakpoint class before the widgets are styled: left to the first resize,
        # it restyled every widget once more just after the first frame.
        wide = self.app.size.width >= WIDE_ENOUGH_FOR_SIDEBAR
        self.set_class(wide, "-wide").set_class(not wide, "-narrow")
        status = StatusLine(id="status")
        status.provider = self.provider.name
        status.model = self.settings.model
        status.host = _remote_host(self.settings)
        status.streaming = self.streaming
        yield status
        with Horizontal(id="main"):
            if self.history.enabled:
                yield Sidebar(id="sidebar")
            with Vertical(id="chat"):
                yield ChatLog(id="log")  # and the F3 inspector, after the first frame
                prompt = PromptInput(id="prompt")
                prompt.history_source = self._earlier_prompts
                yield prompt
        yield KeyFooter()

    async def on_mount(self) -> None:
        self.post_message(self.PromptReady())
        # What the first frame does not show loads once it is out, so the prompt is drawn
        # without waiting for it and keys typed meanwhile still land (`_after_first_frame`).
        imported = all(name in sys.modules for name in _LATE_MODULES)
        if imported:  # already (by an earlier chat screen, say)
            _message_widgets()
            self.call_later(self._inspector)
        self.call_after_refresh(self._after_first_frame, imported)
        if self.settings.record is not None:
            self._open_recording(self.settings.record)
        if self.history.enabled:
            sidebar = self.query_one(Sidebar)
            sidebar.display = self.app.size.width >= WIDE_ENOUGH_FOR_SIDEBAR
            self._refresh_sidebar()  # listed once the sidebar fills, after the first frame
        if self._resume is not None:  # first: opening a chat clears the log
            await self.open_conversation(self._resume)
        log = self.query_one(ChatLog)
        if notice := auto_choice_notice(self.settings):
            await log.mount(InfoNotice(notice))
        if withheld := self.settings.key_withheld:
            await log.mount(ErrorNotice(withheld))
        if self._history_notice:
            await log.mount(ErrorNotice(self._history_notice))
        if self._compare_at_start is not None:
            self.open_compare(*self._compare_at_start)

    async def _after_first_frame(self, imported: bool) -> None:
        """The chat list's search box and list first, then the imports' threads: drawn
        behind them, the list came 150-270 ms after the prompt, not one frame."""
        if self.history.enabled:
            await self.query_one(Sidebar).fill()
        if imported:
            self.call_after_refresh(self._prepare_provider)
        else:
            self.call_after_refresh(self._warm_up)

    @work(group="warm-up", exit_on_error=False)
    async def _warm_up(self) -> None:
        """Import the message widgets and the inspector on a thread, then have the
        provider import the SDK (0.4 s) on another: one import at a time, so keys typed
        just after the first frame share the CPU with one thread, not three. Last, the
        common code highlighters are made, so a reply's first code block does not stall."""
        await asyncio.to_thread(lambda: [importlib.import_module(m) for m in _LATE_MODULES])
        _message_widgets()
        self._inspector()
        self._prepare_provider()
        from tui_chat.ui.widgets.conversation.reply_body import warm_highlighters

        # Once the SDK has had its moment: compiling patterns holds the interpreter, and
        # a prompt sent at once should not wait behind that for its request to go out.
        await asyncio.sleep(WARM_HIGHLIGHTERS_AFTER)
        await asyncio.to_thread(warm_highlighters)

    def _prepare_provider(self) -> None:
        """Build the provider's client ahead of the first request, and warm the
        connection if a prompt is typed already (a warm-up before the build does nothing)."""
        prepare = getattr(self.provider, "prepare", None)
        if prepare is not None:
            prepare()
        if self.query_one(PromptInput).text:
            self._warmed_at = -WARM_EVERY
            self._warm_connection()

    def _inspector(self) -> EventInspector:
        """The F3 pane (hidden until asked for), mounted once the first frame is out, or
        now if needed before: its import (RichLog, Rich's pretty-printer, attrs) cost
        8 ms before the prompt was drawn."""
        from tui_chat.ui.widgets.inspector import EventInspector

        if self._inspector_pane is None:  # kept: a query walked every message, twice a send
            inspector = EventInspector(id="inspector")
            self.query_one("#chat").mount(inspector, before=self.query_one(PromptInput))
            self._inspector_pane = inspector
        return self._inspector_pane

    async def on_unmount(self) -> None:
        await self.provider.aclose()
        if self.recording is not None:
            self.recording.close()

    def _open_recording(self, path: Path) -> None:
        """A recording that cannot be written is reported, and the chat goes on without it."""
        from tui_chat.recordings.recording import Recording  # only with --record

        try:
            self.recording = Recording.open(
                path, secret=self.settings.api_key, on_error=self._recording_fault
            )
        except OSError as error:
            self._recording_fault(f"Not recording: cannot write {path}: {error.strerror or error}")

    def _recording_fault(self, message: str) -> None:
        self.notify(message, severity="error", timeout=10, markup=False)

    def _history_fault(self, message: str) -> None:
        self.notify(message, severity="error", timeout=10, markup=False)

    # -- state ---------------------------------------------------------------

    def watch_streaming(self, streaming: bool) -> None:
        self.query_one(StatusLine).streaming = streaming

    def watch_replying(self, replying: bool) -> None:
        self.query_one(StatusLine).busy = replying
        # A blinking caret repaints twice a second; while a reply streams over a slow
        # link that was a fifth of the bytes at 20 tok/s. It stays, steady, until the end.
        prompt = self.query_one(PromptInput)
        if replying:
            self._caret_blinked, prompt.cursor_blink = prompt.cursor_blink, False
        elif self._caret_blinked is not None:
            prompt.cursor_blink, self._caret_blinked = self._caret_blinked, None
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "stop":
            return True if self.replying else None
        if action in ("new_chat", "switch_profile", "retry", "edit_last"):
            return None if self.replying else True
        if action == "earlier_versions" and parameters:  # the key: only on the cursor
            return True if self.query_one(ChatLog).selected is not None else None
        if action == "toggle_sidebar":
            return True if self.history.enabled else None
        return True

    def _set_settings(self, settings: Settings, provider: Provider | None = None) -> None:
        """Apply new settings; requests after this use them (a new provider if given)."""
        old = self.provider
        self.settings = settings
        if provider is not None and provider is not old:
            self.provider = provider
            self.run_worker(old.aclose(), group="close", exit_on_error=False)
            self._prepare_provider()  # else a prompt typed now warms no connection
        status = self.query_one(StatusLine)
        status.provider = self.provider.name
        status.model = settings.model
        status.host = _remote_host(settings)
        self.history.settings_changed(settings)
        if self.recording is not None:
            self.recording.mask(settings.api_key)

    # -- actions -------------------------------------------------------------

    def action_stop(self) -> None:
        if self._reply is not None:
            self._reply.cancel()

    def action_scroll_log(self, direction: int) -> None:
        log = self.query_one(ChatLog)
        if direction < 0:
            log.scroll_page_up(animate=False)
        else:
            log.scroll_page_down(animate=False)

    def action_reply_details(self) -> None:
        finished = [reply.metrics for reply in self._replies() if reply.metrics is not None]
        if not finished:
            self.notify("No finished reply yet.", severity="warning")
            return
        from tui_chat.ui.screens.details import ReplyDetails  # not needed before the first frame

        self.app.push_screen(ReplyDetails(finished[-1]))

    def action_toggle_inspector(self) -> None:
        inspector = self._inspector()
        inspector.display = not inspector.display

    async def action_new_chat(self) -> None:
        if self.replying:
            self.notify("Stop the reply first (Esc).", severity="warning")
            return
        self.conversation = Conversation()
        self.history.new_chat()
        await self.query_one(ChatLog).remove_children()
        self.query_one(PromptInput).focus()
        self._refresh_sidebar()

    def _replies(self) -> list[AssistantMessage]:
        _message_widgets()
        return [r for r in self.query(AssistantMessage) if r.text]

    def action_copy_reply(self) -> None:
        replies = self._replies()
        if not replies:
            self.notify("No reply to copy yet.", severity="warning")
            return
        self.copy_text(replies[-1].text, "the last reply")

    def action_copy_code(self) -> None:
        from tui_chat.core.code_blocks import code_blocks  # not needed before the first frame

        blocks = [block for reply in reversed(self._replies()) for block in code_blocks(reply.text)]
        if not blocks:
            self.notify("No code blocks in the replies.", severity="warning")
            return
        self.app.search_commands(
            [
                SimpleCommand(
                    shown(block.label), partial(self.copy_text, block.code, "the code block")
                )
                for block in blocks
            ],
            placeholder="Copy which code block?",
        )

    def copy_text(self, text: str, what: str) -> None:
        """Copy, or offer a file when the text is too large for a terminal clipboard."""
        from tui_chat.ui.clipboard import copy_notice, too_large  # see _LATE_MODULES

        if not too_large(text):
            self.app.copy_to_clipboard(text)
            tmux = getattr(self.app, "last_tmux_copy", None)  # says what tmux did with it
            message, severity = copy_notice(what, text, tmux)
            self.notify(message, severity=severity, timeout=3 if tmux is None else 10, markup=False)
            return

        def answer(save: bool | None) -> None:
            if save:
                path = Path.cwd() / f"tui-chat-copy-{time.strftime('%Y%m%d-%H%M%S')}.md"
                try:
                    write_private(path, text)
                except OSError as error:
                    self.notify(f"Could not save: {error}", severity="error", markup=False)
                else:
                    self.notify(f"Saved to {path}", timeout=6, markup=False)

        size = len(text.encode("utf-8")) // 1024
        self.app.push_screen(
            _dialogs().Confirm(
                f"That is {size:,} kB, too large for the terminal clipboard. Save it to a file instead?"
            ),
            answer,
        )

    @work(group="models", exclusive=True, exit_on_error=False)
    async def action_switch_model(self) -> None:
        if self.settings.api == "local" and self.settings.replay is None:
            await self._switch_local_model()
            return
        list_models = getattr(self.provider, "list_models", None)
        models: list[str] = []
        if list_models is not None:
            try:
                models = await asyncio.wait_for(list_models(), timeout=10)
            except (ProviderError, TimeoutError) as error:
                reason = error.message if isinstance(error, ProviderError) else "timed out"
                self.notify(f"Could not list models: {reason}", severity="warning", markup=False)
        commands = [
            SimpleCommand(
                shown(model),
                partial(self.set_model, model),
                "current" if model == self.settings.model else None,
            )
            for model in models
        ]
        commands.append(SimpleCommand("Type a model name…", self._ask_model_name))
        if len(commands) == 1:
            self._ask_model_name()
        else:
            await self.app.search_commands(commands, placeholder="Switch to which model?")

    def _ask_model_name(self) -> None:
        def chosen(name: str | None) -> None:
            if name and name.strip():
                self.set_model(name.strip())

        self.app.push_screen(_dialogs().AskText("Model name", self.settings.model), chosen)

    def set_model(self, model: str) -> None:
        self._set_settings(self.settings.with_(model=model, model_defaulted=False))
        self.notify(f"Model: {model}", timeout=3, markup=False)

    async def _switch_local_model(self) -> None:
        """A local model is a file: offer the ones this machine can run, or a path to one.
        A typed name would change nothing (the engine has no file by that name)."""
        from tui_chat.local_model.catalog import runnable_models

        current = self.settings.local_model
        choices = await asyncio.to_thread(runnable_models, current)
        commands = [
            SimpleCommand(
                shown(choice.label),
                partial(self.use_local_model, choice.path, choice.label),
                "current" if choice.path == current else shown(choice.detail),
            )
            for choice in choices
        ]
        commands.append(SimpleCommand("Open a GGUF file…", self._ask_local_model_path))
        await self.app.search_commands(commands, placeholder="Switch to which local model?")

    def _ask_local_model_path(self) -> None:
        def chosen(text: str | None) -> None:
            if text and text.strip():
                self._open_local_model(Path(text.strip()).expanduser())

        self.app.push_screen(_dialogs().AskText("Path to a chat GGUF file", ""), chosen)

    @work(group="models", exclusive=True, exit_on_error=False)
    async def _open_local_model(self, path: Path) -> None:
        from tui_chat.local_model.common import ModelLoadError
        from tui_chat.local_model.gguf_meta import read_chat_model_info

        try:
            await asyncio.to_thread(read_chat_model_info, path)
        except ModelLoadError as error:
            self.notify(str(error), severity="error", markup=False)
            return
        self.use_local_model(path, path.name)

    def use_local_model(self, path: Path | None, label: str) -> None:
        """Run the local provider on `path` (None: the bundled model) from now on."""
        settings = self.settings.with_(local_model=path, model=label, model_defaulted=False)
        self._set_settings(settings, make_provider(settings))
        self.notify(f"Model: {label}", timeout=3, markup=False)

    def action_switch_profile(self) -> None:
        self.app.search_commands(
            [
                SimpleCommand(
                    shown(name),
                    partial(self.use_profile, name),
                    shown(f"{p.api or ''} {p.model or ''}".strip()) or None,
                )
                for name, p in sorted(self.config.profiles.items())
            ],
            placeholder="Switch to which profile?",
        )

    def use_profile(self, name: str) -> None:
        if self.replying:
            self.notify("Stop the reply first (Esc).", severity="warning")
            return
        profile = self.config.profile(name)
        try:
            env = load_environment()  # .env is read, never merged into os.environ
        except ConfigError as error:
            self.notify(str(error), severity="error", markup=False)
            return
        # Start from the environment's key, never the previous profile's: a key goes
        # only where its profile (or OPENAI_API_KEY's default endpoint) says.
        base = self.settings.with_(
            api_key=env.get("OPENAI_API_KEY") or None,
            api_key_env="OPENAI_API_KEY",
            api_key_from=origin(env, "OPENAI_API_KEY"),
        )
        settings = base.with_(profile=name, **profile.settings_changes(env))
        self._set_settings(settings, make_provider(settings))
        self.notify(f"Profile: {name}", timeout=3, markup=False)

    def action_system_prompt(self) -> None:
        def chosen(text: str | None) -> None:
            if text is not None:
                self._set_settings(self.settings.with_(system=text.strip() or None))
                self.notify(
                    "System prompt set." if text.strip() else "System prompt cleared.", timeout=3
                )

        self.app.push_screen(
            _dialogs().AskText(
                "System prompt (empty clears it)",
                self.settings.system or "",
                "e.g. Answer briefly.",
            ),
            chosen,
        )

    def action_attach_file(self) -> None:
        """Ask for a path, check the file now (a typo is said at once, not at send), and
        put its `/file` line in the prompt box."""

        def chosen(path: str | None) -> None:
            if not path or not path.strip():
                return
            try:
                file = read_attachment(path.strip())
            except AttachmentError as error:
                self.notify(str(error), severity="error", timeout=6, markup=False)
                return
            self.query_one(PromptInput).attach(file.path)
            self.notify(f"{file.label} goes with the next prompt", timeout=3, markup=False)

        self.app.push_screen(
            _dialogs().AskText("Attach a file (path)", "", "e.g. notes/todo.txt"), chosen
        )

    def action_compare(self) -> None:
        self.open_compare(
            ("streaming", self.settings.with_(stream=True)),
            ("non-streaming", self.settings.with_(stream=False)),
        )

    def open_compare(self, left: tuple[str, Settings], right: tuple[str, Settings]) -> None:
        """Race two contenders; each gets its own provider, closed when compare mode ends."""
        from tui_chat.ui.screens.compare import CompareScreen, Contender  # after first frame

        if isinstance(self.app.screen, CompareScreen):
            return
        contenders = [
            Contender(label, settings, make_provider(settings)) for label, settings in (left, right)
        ]
        self.app.push_screen(CompareScreen(*contenders))

    def action_toggle_stream(self) -> None:
        self.streaming = not self.streaming
        self.notify(f"Streaming {'on' if self.streaming else 'off'}", timeout=2)

    @on(TextArea.Changed, "#prompt")
    def _warm_connection(self) -> None:
        """The user is writing a prompt: have the provider open the connection its
        request will use, so Enter does not wait for a handshake (at most once a
        second; the provider keeps one connection fresh, see providers/preconnect.py)."""
        now = time.monotonic()
        warm = getattr(self.provider, "warm", None)
        if warm is None or self.replying or now - self._warmed_at < WARM_EVERY:
            return
        self._warmed_at = now
        self.run_worker(warm(), group="preconnect", exit_on_error=False)

    @on(PromptInput.Submitted)
    async def send(self, event: PromptInput.Submitted) -> None:
        submitted = event.prompt.unsent(event)
        if not submitted.strip():
            return  # Enter again before the box gave up the prompt it sent
        if self.replying:
            self.notify(
                "A reply is still coming — press Esc to stop it, then send again.",
                severity="warning",
                timeout=4,
            )
            return
        try:  # `/file PATH` lines: a file that cannot be attached keeps the prompt in the box
            typed, files = prepare(submitted.strip("\n"))
        except AttachmentError as error:
            self.notify(str(error), severity="error", timeout=6, markup=False)
            return
        text = compose(typed, files)  # what is sent, and saved in history
        event.prompt.remember(typed_form(text))
        editing, self._editing = self._editing, None
        if editing is not None and self.conversation.last_prompt() == editing:
            await self._replace_last_turn()  # F8: sent in place of the turn it edits
        await self._send_text(text, typed, files, typed_in=(event.prompt, submitted))

    async def _send_text(
        self,
        text: str,
        typed: str,
        files: list[Attachment],
        *,
        again: bool = False,
        typed_in: tuple[PromptInput, str] | None = None,
    ) -> None:
        """Send a prompt and show its reply as it comes; `again` (a retry): the prompt
        is on screen already, only the reply is new. `typed_in`: the box it was typed
        in, and its text there, taken out of it once the request is out."""
        _message_widgets()
        self.conversation.add_user(text)
        request = self.conversation.request(
            model=self.settings.model,
            system=self.settings.system,
            stream=self.streaming,
            temperature=self.settings.temperature,
            reasoning_summary=self.settings.reasoning_summary,
        )
        # The request first: mounting widgets and writing history took tens of ms
        # that the request used to wait behind. The worker shows nothing until `shown`.
        # `replying` is set now (a second Enter must see it) but drawn once the request
        # is out: the footer's and status line's redraws ran while it connected.
        self.set_reactive(ChatScreen.replying, True)
        self._inspector().begin(time.monotonic())
        wire = self.recording.reply(request, self.provider.name) if self.recording else None
        turn = _Turn()
        # Both read in the worker's task, which copies this context.
        said, held = request_sent.set(turn.sent.set), hold_reads.set(turn.next_draw)
        try:
            self._reply = self._run_reply(request, turn, wire)
        finally:
            request_sent.reset(said)
            hold_reads.reset(held)
        if tells_when_sent(self.provider):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(turn.sent.wait(), self.ui_waits_for_request)
        else:
            await asyncio.sleep(0)  # the worker starts its request before the UI's work
        if typed_in is not None:
            typed_in[0].take(typed_in[1])
        self.watch_replying(True)
        reply_id = self.history.begin_turn(self.settings, text)
        turn.saved(reply_id, self.history.turn(reply_id))
        log = self.query_one(ChatLog)
        reply = AssistantMessage("thinking" if self.streaming else "waiting for the whole reply")
        attached = [InfoNotice(clean(f.label)).set_class(True, "attachment") for f in files]
        prompt_shown = [] if again else [UserMessage(typed), *attached]
        await log.add_turn([*prompt_shown, reply])
        turn.reply = reply
        turn.shown.set()
        self._refresh_sidebar()  # the turn is saved: a new chat appears, a count grows

    # -- retry, edit, and the message cursor --------------------------------

    def _last_turn_widgets(self) -> tuple[list[Widget], list[Widget]] | None:
        """The log's widgets from the last prompt on, split at its reply, when that turn
        is settled context (a reply that failed, or was taken back, is not); else None."""
        children = list(self.query_one(ChatLog).children)
        turns = [w for w in children if isinstance(w, UserMessage | AssistantMessage)]
        if len(turns) < 2 or self.conversation.last_prompt() is None:
            return None
        prompt, reply = turns[-2], turns[-1]
        if not isinstance(prompt, UserMessage) or not isinstance(reply, AssistantMessage):
            return None
        if reply.status in ("error", "waiting", "streaming") or (
            reply.status != "complete" and not reply.text  # stopped while thinking: no context
        ):
            return None
        start, split = children.index(prompt), children.index(reply)
        return children[start:split], children[split:]

    async def _replace_last_turn(self, *, keep_prompt: bool = False) -> str | None:
        """The last turn leaves the context, and the screen (its prompt stays there for a
        retry); history keeps it, marked replaced. Returns its prompt, or None."""
        widgets = self._last_turn_widgets()
        if widgets is None:
            return None
        prompt_widgets, reply_widgets = widgets
        prompt = self.conversation.drop_last_turn()
        self.history.replace_last_turn()
        gone = reply_widgets if keep_prompt else prompt_widgets + reply_widgets
        await self.query_one(ChatLog).remove_children(gone)
        return prompt

    async def action_retry(self) -> None:
        if self.replying:
            self.notify("Stop the reply first (Esc).", severity="warning")
            return
        prompt = await self._replace_last_turn(keep_prompt=True)
        if prompt is None:
            self.notify("No finished reply to retry.", severity="warning")
            return
        self._editing = None
        await self._send_text(prompt, "", [], again=True)

    def action_edit_last(self) -> None:
        if self.replying:
            self.notify("Stop the reply first (Esc).", severity="warning")
            return
        prompt = self.conversation.last_prompt()
        if prompt is None or self._last_turn_widgets() is None:
            self.notify("No finished turn to edit.", severity="warning")
            return
        box = self.query_one(PromptInput)
        if not box.restore(typed_form(prompt)):
            self.notify("Your draft is in the box: send or clear it first.", severity="warning")
            return
        self._editing = prompt
        box.focus()
        self.notify("Editing the last prompt: Enter resends it in its place.", timeout=4)

    def action_earlier_versions(self, on_cursor: bool = False) -> None:
        """List the earlier versions of the turn the cursor is on; from the palette,
        with no cursor, of the last turn that has any."""
        _message_widgets()
        log = self.query_one(ChatLog)
        selected = log.selected
        if selected is not None:
            mark = versions_mark_of(list(log.children), selected)
        else:
            marks = list(log.query_children(VersionsMark))
            mark = marks[-1] if marks and not on_cursor else None
        versions = self.history.earlier_versions(mark.message_id if mark else None)
        if not versions:
            what = "that turn" if selected is not None else "this chat"
            self.notify(f"No earlier versions of {what}.", severity="warning", timeout=3)
            return
        from tui_chat.ui.screens.versions import EarlierVersions  # not needed before then

        self.app.push_screen(EarlierVersions(versions))

    def action_select_messages(self) -> None:
        if not self.query_one(ChatLog).start_cursor():
            self.notify("No messages yet.", severity="warning")

    @on(ChatLog.Left)
    def _cursor_left(self, event: ChatLog.Left) -> None:
        self.query_one(PromptInput).focus()

    @on(ChatLog.Chosen)
    def _message_chosen(self, event: ChatLog.Chosen) -> None:
        if event.what == "copy":
            self.copy_text(event.text, "the message")
        elif event.what == "code":
            self._copy_code_of(event.text)
        elif event.what == "quote":
            box = self.query_one(PromptInput)
            box.insert(("\n\n" if box.text.strip() else "") + quoted(event.text), box.document.end)
            box.focus()

    def _copy_code_of(self, markdown: str) -> None:
        from tui_chat.core.code_blocks import code_blocks  # not needed before the first frame

        blocks = code_blocks(markdown)
        if not blocks:
            self.notify("No code blocks in that message.", severity="warning")
        elif len(blocks) == 1:
            self.copy_text(blocks[0].code, "the code block")
        else:
            self.app.search_commands(
                [
                    SimpleCommand(
                        shown(block.label), partial(self.copy_text, block.code, "the code block")
                    )
                    for block in blocks
                ],
                placeholder="Copy which code block?",
            )

    # -- history: the conversation list, opening, renaming, deleting, export ---

    def action_toggle_sidebar(self) -> None:
        """Show the list and put the cursor in its search box ("type to search"); from
        inside the list, hide it again and go back to the prompt."""
        sidebar = self.query_one(Sidebar)
        if sidebar.display and sidebar.has_focus_within:
            sidebar.display = False
            self.query_one(PromptInput).focus()
            return
        if not sidebar.display:
            sidebar.display = True
            self._refresh_sidebar()
        sidebar.focus_search()

    def _earlier_prompts(self) -> list[str]:
        """Every saved conversation's prompts for Up and Ctrl+R, as they were typed."""
        store = self.history.store
        if store is None:
            return []
        try:
            return [typed_form(prompt) for prompt in store.recent_prompts()]
        except HistoryError as error:
            self._history_fault(f"History cannot be read: {error}")
            return []

    def _refresh_sidebar(self, search: str | None = None) -> None:
        """Redraw the list from the store; `search` defaults to what the box holds."""
        store = self.history.store
        if store is None:
            return
        sidebar = self.query_one(Sidebar)
        if search is None:
            search = sidebar.search_text
        try:
            if search.strip():
                sidebar.show_hits(store.search(search))
            else:
                sidebar.show_conversations(store.list_conversations(), self.history.conversation_id)
        except HistoryError as error:
            self._history_fault(f"History cannot be read: {error}")

    @on(Sidebar.Search)
    def _sidebar_search(self, event: Sidebar.Search) -> None:
        self._refresh_sidebar(event.text)

    @on(Sidebar.Open)
    async def _sidebar_open(self, event: Sidebar.Open) -> None:
        await self.open_conversation(event.conversation_id)

    async def open_conversation(self, conversation_id: int) -> None:
        """Show a saved conversation; the next request sends it as context."""
        if self.replying:
            self.notify("Stop the reply first (Esc).", severity="warning")
            return
        stored = self.history.load(conversation_id)
        if stored is None:
            self.notify(f"No conversation {conversation_id}.", severity="error")
            return
        _message_widgets()
        self.conversation = Conversation(list(stored.chat_messages()))
        if stored.api == self.settings.api:
            # Same protocol: continue on the conversation's own model and system prompt.
            self._set_settings(self.settings.with_(model=stored.model, system=stored.system))
        log = self.query_one(ChatLog)
        await log.remove_children()
        hidden = max(0, len(stored.messages) - SHOWN_WHEN_OPENING)
        if hidden:
            await log.mount(EarlierMessages(hidden))
        await log.mount_all(_history_widgets(stored.messages[hidden:]))
        log.anchor()
        log.call_after_refresh(log.fold_far_above)  # once it is laid out
        self._pending_earlier = stored.messages[:hidden]
        self._refresh_sidebar()
        self.query_one(PromptInput).focus()

    @on(Button.Pressed, "#earlier")  # EarlierMessages: imported after the first frame
    async def _show_earlier(self, event: EarlierMessages.Pressed) -> None:
        log = self.query_one(ChatLog)
        widgets = _history_widgets(self._pending_earlier)
        self._pending_earlier = ()
        await log.mount_all(widgets, after=event.button)
        await event.button.remove()

    def _dialog_open(self) -> bool:
        """One modal at a time: keys typed fast must not stack a rename over a delete."""
        return isinstance(self.app.screen, ModalScreen)

    @on(Sidebar.Delete)
    def _sidebar_delete(self, event: Sidebar.Delete) -> None:
        store = self.history.store
        if store is None or self._dialog_open():
            return
        conversation_id = event.conversation_id
        if conversation_id == self.history.conversation_id and self.replying:
            self.notify("That chat is replying: stop it first (Esc).", severity="warning")
            return

        async def answer(yes: bool | None) -> None:
            if not yes:
                return
            try:
                store.delete(conversation_id)
            except HistoryError as error:
                self._history_fault(f"Could not delete: {error}")
                return
            if conversation_id == self.history.conversation_id:
                await self.action_new_chat()
            self._refresh_sidebar()
            self.notify("Chat deleted.", timeout=3)

        self.app.push_screen(
            _dialogs().Confirm(
                f"Delete chat {conversation_id}? This cannot be undone.", default=False
            ),
            answer,
        )

    @on(Sidebar.Rename)
    def _sidebar_rename(self, event: Sidebar.Rename) -> None:
        store = self.history.store
        if store is None or self._dialog_open():
            return
        conversation_id = event.conversation_id
        current = next((c.title for c in store.list_conversations() if c.id == conversation_id), "")

        def answer(title: str | None) -> None:
            if title and title.strip():
                try:
                    store.rename(conversation_id, title)
                except HistoryError as error:
                    self._history_fault(f"Could not rename: {error}")
                self._refresh_sidebar()

        self.app.push_screen(_dialogs().AskText("Rename chat", clean(current or "")), answer)

    def action_export(self, fmt: str) -> None:
        """Write the conversation to a file in the working directory."""
        conversation = self._exportable()
        if conversation is None:
            self.notify("Nothing to export yet.", severity="warning")
            return
        text = export_markdown(conversation) if fmt == "md" else export_json(conversation)
        stamp = conversation.id or time.strftime("%Y%m%d-%H%M%S")
        path = Path.cwd() / f"tui-chat-{stamp}.{fmt}"
        try:
            write_private(path, text)
        except OSError as error:
            self.notify(f"Could not export: {error}", severity="error", markup=False)
            return
        self.notify(f"Exported to {path}", timeout=6, markup=False)

    def _exportable(self) -> StoredConversation | None:
        if self.history.conversation_id is not None and self.history.store is not None:
            try:
                return self.history.store.get_conversation(self.history.conversation_id)
            except HistoryError:
                pass  # fall back to what is on screen
        if not self.conversation.messages:
            return None
        return live_conversation(self.conversation, self.settings)

    # -- the reply worker ----------------------------------------------------

    @work(exclusive=True, group="reply", exit_on_error=False)
    async def _run_reply(
        self, request: ChatRequest, turn: _Turn, wire: ReplyRecorder | None = None
    ) -> None:
        """Run one reply and show it: the runner streams, saves and records; this only
        forwards what it hears to the reply widget, once `send` has made it. Cancelling
        the worker is Esc."""
        from tui_chat.core.runner import Delta, Ended, Reasoning, ReplyRunner, Started

        inspector = self._inspector()

        async def show(event: ReplyEvent) -> None:
            if isinstance(event, Started):
                return
            turn.sent.set()  # past the wire (or failed before it): the UI waits no more
            await turn.shown.wait()  # at once, once set: no yield per token
            reply, reply_id = turn.reply, turn.reply_id
            assert reply is not None
            if isinstance(event, Delta):
                await reply.append(event.text)
            elif isinstance(event, Reasoning):
                await reply.append_reasoning(event.text, whole=not request.stream)
            elif isinstance(event, Retrying):
                reply.show_retry(event)
            elif isinstance(event, Ended):
                await self._reply_ended(reply, reply_id, event)

        sinks = [sink for sink in (turn, wire) if sink is not None]
        # Tapped even while hidden (a bounded deque append), so F3 after a reply shows it.
        taps = (inspector.add, wire.tap if wire else None)
        await ReplyRunner(self.provider).run(request, show, sinks=sinks, taps=taps)

    async def _reply_ended(
        self, reply: AssistantMessage, reply_id: int | None, ended: Ended
    ) -> None:
        """The one place a chat reply ends."""
        if ended.status == "stopped" and not ended.text:
            if ended.reasoning:
                await self._stopped_thinking(reply, reply_id, ended)
            else:
                await self._take_back(reply, reply_id)
            return
        await reply.finish(ended.status, ended.metrics, refusal=ended.refusal)
        await self._mark_versions(reply, reply_id)
        if ended.status == "error":
            await self._fail(ended.error or "The reply failed.")
        else:
            self.conversation.add_assistant(ended.text)
        self.replying = False
        self._refresh_sidebar()  # the reply is saved: its chat moves to the top

    async def _mark_versions(self, reply: AssistantMessage, reply_id: int | None) -> None:
        """Under a reply that stands where a retry or an edit replaced others: say so."""
        if earlier := len(self.history.earlier_versions(reply_id)):
            await self.query_one(ChatLog).mount(VersionsMark(reply_id or 0, earlier), after=reply)

    async def _stopped_thinking(
        self, reply: AssistantMessage, reply_id: int | None, ended: Ended
    ) -> None:
        """Esc while the model thought, before its first word: the thinking stays on
        screen and in history, as a stopped reply, but an empty answer is no context, so
        the prompt leaves it and goes back in the box (unless a draft is there)."""
        await reply.finish("stopped", ended.metrics)
        await self._mark_versions(reply, reply_id)
        prompt = self.conversation.drop_last_user()
        if prompt is not None and self.query_one(PromptInput).restore(typed_form(prompt)):
            self.notify("Stopped while thinking: Enter sends the prompt again.", timeout=4)
        self.replying = False
        self._refresh_sidebar()

    async def _take_back(self, reply: AssistantMessage, reply_id: int | None) -> None:
        """Esc before the first word: as if the prompt was never sent. The turn leaves
        the screen, the context and history, and the prompt goes back in the box."""
        prompt = self.conversation.drop_last_user()
        self.history.discard_turn(reply_id)
        log = self.query_one(ChatLog)
        shown_prompt = [w for w in log.query(UserMessage) if w.is_attached]
        with self.app.batch_update():
            await reply.remove()
            if shown_prompt:
                await shown_prompt[-1].remove()
        if prompt is not None:
            self.query_one(PromptInput).restore(typed_form(prompt))
        self.replying = False
        self._refresh_sidebar()

    async def _fail(self, message: str) -> None:
        """A failed reply: its prompt leaves the context and goes back in the box (unless
        a draft is there), with what went wrong and what to do."""
        prompt = self.conversation.drop_last_user()
        restored = prompt is not None and self.query_one(PromptInput).restore(typed_form(prompt))
        where = (
            "Your prompt is back in the box: press Enter to retry."
            if restored
            else "Your draft stays in the box; the prompt that failed is shown above."
        )
        await self.query_one(ChatLog).mount(ErrorNotice(f"{message}\n{where}"))
