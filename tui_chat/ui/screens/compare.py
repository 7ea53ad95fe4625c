"""Compare mode: one prompt, two replies side by side, with the numbers that tell them apart.

By default the same provider and model stream on the left and answer in one piece on
the right, which is the demo of why streaming matters; either side can instead run
another model or profile to race the two.

When both sides run on the embedded model they take turns: run together they would split
this machine's cores, and the verdict would blame one side for time the other took.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer, Static
from textual.worker import Worker

from tui_chat.core.conversation import Conversation
from tui_chat.core.metrics import ReplyMetrics, ReplyTimer, verdict
from tui_chat.core.protocol import Provider, Retrying
from tui_chat.core.runner import Delta, Ended, ReplyEvent, ReplyRunner, Started
from tui_chat.core.sanitize import clean
from tui_chat.settings.config import Settings
from tui_chat.ui.widgets.compare.pane import ComparePane
from tui_chat.ui.widgets.conversation.message import EMPTY_REPLY, AssistantMessage
from tui_chat.ui.widgets.prompt import PromptInput

SIDES = ("left", "right")


@dataclass
class Contender:
    """What one side runs. The screen owns the provider and closes it when it goes."""

    label: str
    settings: Settings
    provider: Provider
    conversation: Conversation = field(default_factory=Conversation)
    metrics: ReplyMetrics | None = None
    timer: ReplyTimer | None = None

    @property
    def title(self) -> str:
        mode = "streaming" if self.settings.stream else "non-streaming"
        return clean(f"{self.label} — {self.provider.name} · {self.settings.model} · {mode}")


class CompareScreen(Screen[None]):
    AUTO_FOCUS = "#compare-prompt"
    BINDINGS = [
        Binding("escape", "stop", "Stop both"),
        Binding("f2", "close", "Leave compare"),
    ]

    def __init__(self, left: Contender, right: Contender) -> None:
        super().__init__()
        self.contenders = {"left": left, "right": right}
        if self.in_turn:
            # Each side from a cold prompt: the second would otherwise reuse the first's
            # KV cache, and win on first words by that alone (and greedy text drifts).
            for contender in (left, right):
                if hasattr(contender.provider, "reuse_prompt"):
                    contender.provider.reuse_prompt = False  # type: ignore[attr-defined]
        self._racing: set[str] = set()

    @property
    def in_turn(self) -> bool:
        """Both sides on the local model, which shares the CPU: one runs after the other."""
        return all(c.provider.name == "local" for c in self.contenders.values())

    def compose(self) -> ComposeResult:
        banner = "Compare mode: one prompt, two replies. F2 returns to the chat."
        if self.in_turn:
            banner = (
                "Compare mode: both sides run on this machine's CPU, so they take turns"
                " (the right starts when the left is done) and each is timed alone."
                " F2 returns to the chat."
            )
        yield Static(banner, id="compare-banner", markup=False)
        with Horizontal(id="compare-panes"):
            for side in SIDES:
                yield ComparePane(self.contenders[side].title, id=f"pane-{side}")
        yield Static("", id="verdict", markup=False)
        yield PromptInput(id="compare-prompt")
        yield Footer()

    def on_mount(self) -> None:
        self.set_interval(0.1, self._tick)

    async def on_unmount(self) -> None:
        for contender in self.contenders.values():
            await contender.provider.aclose()

    @property
    def busy(self) -> bool:
        return bool(self._racing)

    def _tick(self) -> None:
        for side in self._racing:
            timer = self.contenders[side].timer
            if timer is not None:
                self.query_one(f"#pane-{side}", ComparePane).show_live(timer)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        report = getattr(self.app, "report_worker_failure", None)
        if report is not None:
            report(event)

    @on(PromptInput.Submitted)
    async def _send(self, event: PromptInput.Submitted) -> None:
        event.stop()
        if self.busy:
            self.notify(
                "Both replies must finish (or Esc) before the next prompt.", severity="warning"
            )
            return
        text = event.text.strip("\n")
        event.prompt.clear()
        self.query_one("#verdict", Static).update("")
        in_turn = self.in_turn
        replies: dict[str, AssistantMessage] = {}
        for side in SIDES:
            contender = self.contenders[side]
            contender.conversation.add_user(text)
            contender.metrics = None
            pane = self.query_one(f"#pane-{side}", ComparePane)
            label = "thinking" if contender.settings.stream else "waiting for the whole reply"
            if in_turn and side != SIDES[0]:
                label = "waiting for its turn on the CPU"
            replies[side] = await pane.begin(text, label)
            self._racing.add(side)
            contender.timer = None  # the runner's, from its Started event
            if not in_turn:
                self._race(side, replies[side])
        if in_turn:
            self._race_in_turn(replies)

    @work(group="compare", exit_on_error=False)
    async def _race(self, side: str, reply: AssistantMessage) -> None:
        await self._run_side(side, reply)

    @work(group="compare", exit_on_error=False)
    async def _race_in_turn(self, replies: dict[str, AssistantMessage]) -> None:
        pending = list(SIDES)
        try:
            while pending:
                await self._run_side(pending[0], replies[pending[0]])
                pending.pop(0)
        finally:  # stopped: a side that never ran ends as stopped, with nothing to time
            for side in pending[1:]:
                await self._ended(side, replies[side], Ended("stopped", "", ReplyTimer().finish()))

    async def _run_side(self, side: str, reply: AssistantMessage) -> None:
        contender = self.contenders[side]
        settings = contender.settings
        request = contender.conversation.request(
            model=settings.model,
            system=settings.system,
            stream=settings.stream,
            temperature=settings.temperature,
            reasoning_summary=settings.reasoning_summary,
        )

        async def show(event: ReplyEvent) -> None:
            if isinstance(event, Started):
                contender.timer = event.timer
            elif isinstance(event, Delta):
                await reply.append(event.text)
            elif isinstance(event, Retrying):
                reply.show_retry(event)
            elif isinstance(event, Ended):
                await self._ended(side, reply, event)

        await ReplyRunner(contender.provider).run(request, show)

    async def _ended(self, side: str, reply: AssistantMessage, ended: Ended) -> None:
        """Where a side's reply ends, however it ends: the race is then settled."""
        contender = self.contenders[side]
        pane = self.query_one(f"#pane-{side}", ComparePane)
        contender.metrics = ended.metrics
        await reply.finish(ended.status, ended.metrics)
        if ended.status == "error":
            contender.conversation.drop_last_user()
            await pane.fail(ended.error or "The reply failed.")
            pane.show_final(ended.metrics, "failed")
        else:
            contender.conversation.add_assistant(ended.text)
            if ended.status == "stopped":
                pane.show_final(ended.metrics, "■ stopped")
            else:
                pane.show_final(ended.metrics, "" if ended.text.strip() else EMPTY_REPLY)
        self._settle(side)

    def _settle(self, side: str) -> None:
        self._racing.discard(side)
        if self._racing:
            return
        left, right = self.contenders["left"], self.contenders["right"]
        if left.metrics is not None and right.metrics is not None:
            line = verdict((left.label, left.metrics), (right.label, right.metrics))
            self.query_one("#verdict", Static).update(f"→ {line}")

    def action_stop(self) -> None:
        self.workers.cancel_group(self, "compare")

    def action_close(self) -> None:
        self.action_stop()
        self.dismiss(None)
