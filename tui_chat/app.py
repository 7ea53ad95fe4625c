"""The Textual app: wires the prompt, the log, the provider and one reply worker."""

from __future__ import annotations

import asyncio
from pathlib import Path

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.reactive import reactive
from textual.widgets import Footer
from textual.worker import Worker

from tui_chat.config import Settings
from tui_chat.conversation import Conversation
from tui_chat.metrics import ReplyTimer
from tui_chat.providers.base import Done, Provider, ProviderError, TextDelta
from tui_chat.widgets.chat_log import ChatLog
from tui_chat.widgets.message import AssistantMessage, ErrorNotice, UserMessage
from tui_chat.widgets.prompt import PromptInput
from tui_chat.widgets.status_line import StatusLine

STYLESHEET = Path(__file__).with_name("styles.tcss")


class ChatApp(App[None]):
    CSS_PATH = STYLESHEET
    TITLE = "tui-chat"
    AUTO_FOCUS = "#prompt"

    BINDINGS = [
        Binding("escape", "stop", "Stop reply"),
        Binding("ctrl+t", "toggle_stream", "Streaming on/off"),
        Binding("ctrl+q", "quit", "Quit", priority=True),
        # The prompt keeps focus, so the log scrolls from anywhere; scrolling up lets
        # go of the bottom, scrolling back down to it follows new text again.
        Binding("pageup", "scroll_log(-1)", "Scroll up", show=False, priority=True),
        Binding("pagedown", "scroll_log(1)", "Scroll down", show=False, priority=True),
    ]

    streaming: reactive[bool] = reactive(True)
    replying: reactive[bool] = reactive(False)

    def __init__(self, settings: Settings, provider: Provider | None = None) -> None:
        super().__init__()
        self.settings = settings
        if provider is None:
            from tui_chat.providers import make_provider

            provider = make_provider(settings)
        self.provider = provider
        self.conversation = Conversation()
        self.set_reactive(ChatApp.streaming, settings.stream)
        self._reply: Worker[None] | None = None

    def compose(self) -> ComposeResult:
        status = StatusLine(id="status")
        status.provider = self.provider.name
        status.model = self.settings.model
        status.streaming = self.streaming
        yield status
        yield ChatLog(id="log")
        yield PromptInput(id="prompt")
        yield Footer()

    async def on_unmount(self) -> None:
        await self.provider.aclose()

    # -- state ---------------------------------------------------------------

    def watch_streaming(self, streaming: bool) -> None:
        self.query_one(StatusLine).streaming = streaming

    def watch_replying(self, replying: bool) -> None:
        self.query_one(StatusLine).busy = replying
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "stop":
            return True if self.replying else None
        return True

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

    def action_toggle_stream(self) -> None:
        self.streaming = not self.streaming
        self.notify(f"Streaming {'on' if self.streaming else 'off'}", timeout=2)

    @on(PromptInput.Submitted)
    async def send(self, event: PromptInput.Submitted) -> None:
        if self.replying:
            self.notify(
                "A reply is still coming — press Esc to stop it, then send again.",
                severity="warning",
                timeout=4,
            )
            return
        text = event.text.strip("\n")
        event.prompt.clear()
        self.conversation.add_user(text)
        request = self.conversation.request(
            model=self.settings.model,
            system=self.settings.system,
            stream=self.streaming,
            temperature=self.settings.temperature,
        )
        log = self.query_one(ChatLog)
        reply = AssistantMessage("thinking" if self.streaming else "waiting for the whole reply")
        await log.mount_all([UserMessage(text), reply])
        log.anchor()
        self.replying = True
        self._reply = self._run_reply(request, reply)

    # -- the reply worker ----------------------------------------------------

    @work(exclusive=True, group="reply", exit_on_error=False)
    async def _run_reply(self, request: object, reply: AssistantMessage) -> None:
        """Consume provider events into the reply widget; end in one of three states."""
        from tui_chat.providers.base import ChatRequest

        assert isinstance(request, ChatRequest)
        timer = ReplyTimer()
        done: Done | None = None
        try:
            async for event in self.provider.stream(request):
                if isinstance(event, TextDelta):
                    timer.on_text()
                    await reply.append(event.text)
                else:
                    done = event
        except asyncio.CancelledError:
            await reply.finish("stopped", timer.finish())
            self.conversation.add_assistant(reply.text)
            self.replying = False
            raise
        except ProviderError as error:
            await self._fail(reply, error.message, error.partial, timer)
        except Exception as error:  # a fault must never crash the app
            await self._fail(reply, f"Unexpected error: {type(error).__name__}: {error}", "", timer)
        else:
            usage = done.usage if done is not None else None
            await reply.finish("complete", timer.finish(usage.output_tokens if usage else None))
            self.conversation.add_assistant(reply.text)
            self.replying = False

    async def _fail(
        self, reply: AssistantMessage, message: str, partial: str, timer: ReplyTimer
    ) -> None:
        await reply.finish("error", timer.finish())
        prompt = self.conversation.drop_last_user()
        log = self.query_one(ChatLog)
        await log.mount(
            ErrorNotice(f"{message}\nYour prompt is back in the box: press Enter to retry.")
        )
        if prompt is not None:
            self.query_one(PromptInput).restore(prompt)
        self.replying = False
