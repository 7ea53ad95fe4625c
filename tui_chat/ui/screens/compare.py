"""Compare mode: one prompt, two replies side by side, with the numbers that tell them apart.

By default the same provider and model stream on the left and answer in one piece on
the right, which is the demo of why streaming matters; either side can instead run
another model or profile to race the two.

When both sides run on the embedded model they take turns: run together they would split
this machine's cores, and the verdict would blame one side for time the other took.

A reasoning model's thinking is shown in each pane as the chat shows it: live and dim on
the streaming side, folded to one line when its answer starts; on the non-streaming side
it arrives whole with the answer, so it is shown folded from the start. The figures
tell the first reasoning token from the first answer token.

Keys: Tab / Shift+Tab move focus through the panes and the prompt, Left / Right jump
between the panes, and the cursor keys scroll the pane that has focus.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Static
from textual.worker import Worker

from tui_chat.core.conversation import Conversation
from tui_chat.core.metrics import ReplyMetrics, ReplyTimer, verdict
from tui_chat.core.protocol import Provider, Retrying
from tui_chat.core.runner import Delta, Ended, Reasoning, ReplyEvent, ReplyRunner, Started
from tui_chat.core.sanitize import clean
from tui_chat.providers.read_pacing import hold_reads
from tui_chat.settings.config import Settings
from tui_chat.ui.widgets.compare.pane import ComparePane, PaneLog
from tui_chat.ui.widgets.conversation.message import EMPTY_REPLY, AssistantMessage
from tui_chat.ui.widgets.footer import KeyFooter
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
        Binding("f1", "help", "Help"),
        Binding("question_mark", "help", "Help", show=False),  # off the prompt, as in the chat
        Binding("escape", "stop", "Stop both"),
        Binding("f2", "close", "Leave compare"),
        Binding("tab", "app.focus_next", "Next pane"),
        Binding("shift+tab", "app.focus_previous", "Previous pane", show=False),
        # Only reached from a pane: the prompt keeps Left and Right for its cursor.
        Binding("left", "focus_pane('left')", "Left pane", show=False),
        Binding("right", "focus_pane('right')", "Right pane", show=False),
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
        yield KeyFooter()

    def on_mount(self) -> None:
        self.set_interval(0.1, self._tick)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "focus_pane":  # from the prompt, Left and Right are its own
            return any(pane.has_focus_within for pane in self.query(ComparePane))
        return True

    def action_focus_pane(self, side: str) -> None:
        self.query_one(f"#pane-{side}", ComparePane).focus_log()

    def action_help(self) -> None:
        """F1 lists compare mode's keys, and only those (the app's F1 lists the chat's)."""
        from tui_chat.ui.screens.help import COMPARE_KEYS, HelpScreen  # not before the 1st frame

        keys = [*self.BINDINGS, *PaneLog.BINDINGS, *self.app.BINDINGS]
        self.app.push_screen(HelpScreen(keys, extra_rows=COMPARE_KEYS))

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

        whole: list[str] = []  # a non-streamed reply's reasoning, shown with its answer

        async def show(event: ReplyEvent) -> None:
            if isinstance(event, Started):
                contender.timer = event.timer
            elif isinstance(event, Reasoning):
                if settings.stream:
                    await reply.append_reasoning(event.text)
                else:
                    whole.append(event.text)
            elif isinstance(event, Delta):
                if whole:
                    await self._show_whole(reply, whole, event.text)
                else:
                    await reply.append(event.text)
            elif isinstance(event, Retrying):
                reply.show_retry(event)
            elif isinstance(event, Ended):
                if whole:  # reasoning and no answer
                    await self._show_whole(reply, whole, "")
                await self._ended(side, reply, event)

        held = hold_reads.set(reply.next_draw)  # the stream is read once a frame
        try:
            await ReplyRunner(contender.provider).run(request, show)
        finally:
            hold_reads.reset(held)

    async def _show_whole(self, reply: AssistantMessage, reasoning: list[str], text: str) -> None:
        """A non-streamed reply's reasoning and answer in one frame: the reasoning is
        never drawn as live thinking, only folded above the answer it came with."""
        with self.app.batch_update():
            await reply.append_reasoning("".join(reasoning), whole=True)
            reasoning.clear()
            await reply.append(text)

    async def _ended(self, side: str, reply: AssistantMessage, ended: Ended) -> None:
        """Where a side's reply ends, however it ends: the race is then settled."""
        contender = self.contenders[side]
        pane = self.query_one(f"#pane-{side}", ComparePane)
        contender.metrics = metrics = ended.metrics
        whole = not contender.settings.stream
        # A whole reply's reasoning came with its answer: it has no thinking time to show.
        shown = replace(metrics, first_reasoning=None) if whole else metrics
        await reply.finish(ended.status, shown, refusal=ended.refusal)
        if ended.status == "error":
            contender.conversation.drop_last_user()
            await pane.fail(ended.error or "The reply failed.")
            pane.show_final(metrics, "failed", whole=whole)
        else:
            contender.conversation.add_assistant(ended.text)
            if ended.status == "stopped":
                pane.show_final(metrics, "■ stopped", whole=whole)
            else:
                ending = "" if ended.text.strip() else EMPTY_REPLY
                pane.show_final(metrics, ending, whole=whole)
        self._settle(side)

    def _settle(self, side: str) -> None:
        self._racing.discard(side)
        if self._racing:
            return
        left, right = self.contenders["left"], self.contenders["right"]
        if left.metrics is not None and right.metrics is not None:
            line = verdict((left.label, left.metrics), (right.label, right.metrics))
            self.query_one("#verdict", Static).update(f"→ {line}{self._reasoning_verdict()}")

    def _reasoning_verdict(self) -> str:
        """When a side reasoned: when each showed its first reasoning, which the verdict
        on first (answer) words does not tell."""
        sides = [
            (c, c.metrics.first_reasoning if c.metrics else None) for c in self.contenders.values()
        ]
        if all(first is None for _, first in sides):
            return ""
        figures = []
        for contender, first in sides:
            if first is None:
                figures.append(f"{contender.label} none")
            elif contender.settings.stream:
                figures.append(f"{contender.label} {first:.2f}s")
            else:
                figures.append(f"{contender.label} {first:.2f}s (with its answer)")
        return f" First reasoning: {', '.join(figures)}."

    def action_stop(self) -> None:
        self.workers.cancel_group(self, "compare")

    def action_close(self) -> None:
        self.action_stop()
        self.dismiss(None)
