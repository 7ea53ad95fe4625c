"""What the main screens look like, at 80x24 and 120x40, as SVG snapshots.

Plain sync tests: `snap_compare` runs the app itself. Update the pictures after a
deliberate change with `pytest tests/ui/test_snapshots.py --snapshot-update`, and look at
them before committing. What changes from run to run is frozen: the cursor does not
blink, reply timings are fixed figures, the status line names a fixed URL (requests go
to the fake server all the same), the inspector's timestamps tick by a fixed step.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, OptionList, Static, TextArea

from tui_chat.core.metrics import ReplyMetrics, verdict
from tui_chat.core.protocol import WireEvent
from tui_chat.history import HistoryStore
from tui_chat.providers import make_provider
from tui_chat.settings.config import Settings
from tui_chat.ui.app import ChatApp
from tui_chat.ui.screens.compare import CompareScreen
from tui_chat.ui.widgets.compare.pane import ComparePane
from tui_chat.ui.widgets.conversation.message import AssistantMessage
from tui_chat.ui.widgets.conversation.notices import ErrorNotice
from tui_chat.ui.widgets.history.sidebar import Sidebar
from tui_chat.ui.widgets.inspector import EventInspector
from tui_chat.ui.widgets.prompt import PromptInput

from .app_factory import KEY, make_app, replies, send, wait_for
from fake_server import FakeLLMServer, Script

SIZES = pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
#: The URL the status line names; see `app_on`.
SHOWN_URL = "http://127.0.0.1:8000/v1"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
TOTAL, FIRST_TOKEN = 1.8, 0.42


def steady(metrics: ReplyMetrics) -> ReplyMetrics:
    """The same figures with fixed times: counts come from the script, times from the
    machine. A reply that arrived in one piece keeps its first token at the end."""
    first = None if metrics.first_token is None else TOTAL if metrics.chunks <= 1 else FIRST_TOKEN
    gaps = {"gap_median": 0.05, "gap_worst": 0.2} if metrics.gap_median is not None else {}
    return dataclasses.replace(metrics, first_token=first, total=TOTAL, **gaps)


MARKDOWN_REPLY = [
    "## Sorting in Python\n\n",
    "Use `sorted` for a new list:\n\n",
    "```python\nnumbers = [3, 1, 2]\nprint(sorted(numbers))\n```\n\n",
    "| Call | Returns | In place |\n",
    "| --- | --- | --- |\n",
    "| `sorted(xs)` | a new list | no |\n",
    "| `xs.sort()` | `None` | yes |\n",
]


@pytest.fixture(autouse=True)
def _steady_screen(monkeypatch: pytest.MonkeyPatch) -> None:
    """No cursor blink (a snapshot could catch either phase) and one time zone for dates."""
    monkeypatch.setattr(TextArea, "cursor_blink", False)
    monkeypatch.setattr(Input, "cursor_blink", False)
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()


@pytest.fixture(autouse=True)
def _steady_inspector(monkeypatch: pytest.MonkeyPatch) -> None:
    """The inspector draws the real wire events, a fixed 25 ms apart."""
    begin, add = EventInspector.begin, EventInspector.add
    count = {"n": 0}

    def steady_begin(self: EventInspector, started: float) -> None:
        count["n"] = 0
        begin(self, started)

    def steady_add(self: EventInspector, event: WireEvent) -> None:
        count["n"] += 1
        add(self, dataclasses.replace(event, at=self._started + 0.025 * count["n"]))

    monkeypatch.setattr(EventInspector, "begin", steady_begin)
    monkeypatch.setattr(EventInspector, "add", steady_add)


def app_on(server: FakeLLMServer, **changes: object) -> ChatApp:
    """An app whose requests go to `server`, while its settings name `SHOWN_URL`: the
    status line then shows no port that changes from run to run."""
    real = Settings(api="chat", base_url=server.openai_url, model="fake-model", api_key=KEY)
    provider = make_provider(real.with_(timeout=5), max_retries=0)
    return make_app(base_url=SHOWN_URL, provider=provider, **changes)


async def freeze_replies(app: ChatApp) -> None:
    """Every finished reply's meta line with `steady` times."""
    for reply in app.screen.query(AssistantMessage):
        if reply.metrics is not None:
            await reply.finish(reply.status, steady(reply.metrics))


async def ready(pilot: Pilot[None]) -> None:
    """Wait for the chat screen: `snap_compare` runs `run_before` as soon as the app starts."""
    await wait_for(pilot, lambda: bool(pilot.app.screen.query(PromptInput)))
    await pilot.pause()


async def ask(pilot: Pilot[None], prompt: str, status: str = "complete") -> None:
    await ready(pilot)
    await send(pilot, prompt)
    await wait_for(
        pilot, lambda: bool(replies(pilot.app)) and replies(pilot.app)[-1].status == status
    )  # type: ignore[arg-type]
    # The reply's widget ends a moment before the chat does (footer keys, the caret).
    await wait_for(pilot, lambda: not pilot.app.chat.replying)  # type: ignore[attr-defined]
    await freeze_replies(pilot.app)  # type: ignore[arg-type]
    await pilot.pause()


@SIZES
def test_empty_chat(snap_compare, size: tuple[int, int]) -> None:
    assert snap_compare(make_app(base_url=SHOWN_URL), terminal_size=size, run_before=ready)


@SIZES
def test_a_finished_markdown_reply_with_code_and_a_table(
    snap_compare, fake_server: FakeLLMServer, size: tuple[int, int]
) -> None:
    fake_server.enqueue(Script(chunks=MARKDOWN_REPLY))

    async def run_before(pilot: Pilot[None]) -> None:
        await ask(pilot, "How do I sort a list?")

    assert snap_compare(app_on(fake_server), terminal_size=size, run_before=run_before)


@SIZES
def test_an_error_notice(snap_compare, fake_server: FakeLLMServer, size: tuple[int, int]) -> None:
    fake_server.enqueue(Script(status=400, error_message="The model `fake-model` does not exist."))

    async def run_before(pilot: Pilot[None]) -> None:
        await ready(pilot)
        await send(pilot, "Hello?")
        await wait_for(pilot, lambda: bool(pilot.app.query(ErrorNotice)))
        await freeze_replies(pilot.app)  # type: ignore[arg-type]
        await pilot.pause()

    assert snap_compare(app_on(fake_server), terminal_size=size, run_before=run_before)


@SIZES
def test_help(snap_compare, size: tuple[int, int]) -> None:
    app = make_app(base_url=SHOWN_URL)
    assert snap_compare(app, press=["f1"], terminal_size=size, run_before=ready)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[HistoryStore]:
    """A history of three chats, written at fixed times."""
    moments = (datetime(2025, 3, 14, 9, 0, tzinfo=UTC) + timedelta(minutes=n) for n in range(99))
    with HistoryStore.open(tmp_path / "history.sqlite3", clock=lambda: next(moments)) as opened:
        for prompt, reply in [
            ("weather in Bergen", "It rains a lot in Bergen; bring a coat."),
            ("pasta for four", "Boil the spaghetti in salted water, then add the sauce."),
            ("spaghetti or penne?", "Spaghetti for thin sauces, penne for chunky ones."),
        ]:
            conversation = opened.new_conversation(
                api="chat", base_url=None, model="fake-model", system=None
            )
            opened.add_message(conversation, "user", prompt)
            opened.add_message(conversation, "assistant", reply)
        yield opened


@SIZES
def test_the_chat_list_with_search_hits(
    snap_compare, store: HistoryStore, size: tuple[int, int]
) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await ready(pilot)
        await pilot.press("ctrl+b")
        await pilot.press(*"spaghetti")
        listing = pilot.app.query_one(Sidebar).query_one(OptionList)
        await wait_for(pilot, lambda: listing.option_count == 2)
        await pilot.pause()

    app = make_app(base_url=SHOWN_URL, store=store)
    assert snap_compare(app, terminal_size=size, run_before=run_before)


@SIZES
def test_compare_mode_after_a_race(snap_compare, size: tuple[int, int]) -> None:
    recording = EXAMPLES / "backend-chunks.jsonl"
    replay = Settings(api="replay", replay=recording, speed=float("inf"), model="fake-model")
    compare = (("streaming", replay), ("non-streaming", replay.with_(stream=False)))

    async def run_before(pilot: Pilot[None]) -> None:
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, CompareScreen))
        screen = pilot.app.screen
        assert isinstance(screen, CompareScreen)
        prompt = screen.query_one(PromptInput)
        prompt.load_text("Show me raw chunks.")
        prompt.focus()
        await pilot.press("enter")
        done = lambda: [r.status for r in screen.query(AssistantMessage)] == ["complete"] * 2  # noqa: E731
        await wait_for(pilot, lambda: done() and not screen.busy)
        await freeze_replies(pilot.app)  # type: ignore[arg-type]
        figures = {}
        for side, contender in screen.contenders.items():
            assert contender.metrics is not None
            figures[side] = (contender.label, steady(contender.metrics))
            screen.query_one(f"#pane-{side}", ComparePane).show_final(figures[side][1])
        line = verdict(figures["left"], figures["right"])
        screen.query_one("#verdict", Static).update(f"→ {line}")
        await pilot.pause()

    app = make_app(api="replay", replay=recording, speed=float("inf"), compare=compare)
    assert snap_compare(app, terminal_size=size, run_before=run_before)


@SIZES
def test_the_inspector(snap_compare, fake_server: FakeLLMServer, size: tuple[int, int]) -> None:
    fake_server.enqueue(Script(chunks=["Raw ", "events, ", "one ", "per ", "chunk."]))

    async def run_before(pilot: Pilot[None]) -> None:
        await ready(pilot)
        await pilot.press("f3")
        await ask(pilot, "What crosses the wire?")
        # The event list follows its end a frame or two after the last event: settle it.
        pilot.app.screen.query_one("#events").scroll_end(animate=False)
        await pilot.pause()

    assert snap_compare(app_on(fake_server), terminal_size=size, run_before=run_before)
