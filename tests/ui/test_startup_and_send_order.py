"""Start-up and send order (issue 12): the prompt works before the openai SDK has loaded,
and a sent prompt's request goes out before the UI draws it or history saves it.

No timing thresholds: the SDK's import is held by an import hook until the test lets it
go, and the order is read from the fake server's request log at the moment of each UI step.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tui_chat.history import HistoryStore
from tui_chat.settings.profiles import load_config
from tui_chat.ui.widgets.conversation.chat_log import ChatLog
from tui_chat.ui.widgets.conversation.notices import ErrorNotice
from tui_chat.ui.widgets.prompt import PromptInput

from .app_factory import make_app, replies, send, shown_text, wait_for
from fake_server import FakeLLMServer, Script

TESTS = Path(__file__).resolve().parent.parent

# The head of a script run in a fresh interpreter (this one imported everything long
# ago): the import of HELD waits until the script sets `released`.
_HOLD = r"""
import asyncio, json, sys, threading, time
sys.path[:0] = [TESTS, TESTS + "/ui"]
released = threading.Event()


class Hold:
    def find_spec(self, name, path=None, target=None):
        if name == HELD:
            released.wait(10)
        return None


sys.meta_path.insert(0, Hold())
"""


def _run_held(held: str, script: str) -> dict[str, Any]:
    """Run `script` after `_HOLD` with `held` held; what it printed last, as JSON."""
    head = f"TESTS = {str(TESTS)!r}\nHELD = {held!r}\n" + _HOLD
    done = subprocess.run(
        [sys.executable, "-c", head + script], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


# `import openai` is held: an SDK that is slow to load.
_HELD_SDK = r"""
from app_factory import make_app, replies, shown_text
from fake_server import FakeLLMServer, Script
from tui_chat.ui.widgets.prompt import PromptInput


async def main():
    seen = {}
    with FakeLLMServer() as server:
        server.enqueue(Script(chunks=["Loaded ", "late, ", "sent ", "anyway."]))
        app = make_app(server)
        async with app.run_test() as pilot:
            await pilot.pause()
            seen["sdk_imported_at_first_frame"] = "openai" in sys.modules
            await pilot.press(*"hello")
            seen["prompt"] = app.query_one(PromptInput).text
            await pilot.press("enter")
            await pilot.pause(0.3)
            seen["requests_before_the_sdk"] = len(server.requests)
            released.set()
            for _ in range(500):
                if replies(app) and replies(app)[0].status == "complete":
                    break
                await pilot.pause(0.02)
            seen["sent"] = [r.json["messages"][-1]["content"] for r in server.requests]
            seen["reply"] = shown_text(replies(app)[0]) if replies(app) else None
    print(json.dumps(seen))


asyncio.run(main())
"""


def test_keys_typed_before_the_sdk_has_loaded_reach_the_prompt_and_are_sent() -> None:
    seen = _run_held("openai", _HELD_SDK)
    assert seen["sdk_imported_at_first_frame"] is False, "the SDK loads after the first frame"
    assert seen["prompt"] == "hello", "keys typed while the SDK loads land in the prompt"
    assert seen["requests_before_the_sdk"] == 0, "the SDK really was not there yet"
    assert seen["sent"] == ["hello"]
    assert seen["reply"] == "Loaded late, sent anyway."


# The message widgets' import is held (it runs on the warm-up's thread after the first
# frame, as in a real start): a start slow to build the client.
_HELD_WIDGETS = r"""
from fake_server import FakeLLMServer, Script
from tui_chat.providers import make_provider
from tui_chat.settings.config import Settings
from tui_chat.ui.app import ChatApp
from tui_chat.ui.widgets.prompt import PromptInput


async def main():
    seen = {}
    with FakeLLMServer() as server:
        settings = Settings(api="chat", base_url=server.openai_url, model="m", api_key="k")
        app = ChatApp(settings, make_provider(settings, max_retries=0), remember_ui=False)
        async with app.run_test() as pilot:
            await pilot.press(*"hello")
            await pilot.pause(0.3)
            seen["prompt"] = app.query_one(PromptInput).text
            seen["opened_while_held"] = server.opened
            released.set()
            deadline = time.monotonic() + 30  # a cold SDK import on a loaded machine
            while not server.opened and time.monotonic() < deadline:
                await pilot.pause(0.02)
            seen["opened_before_enter"] = server.opened
            seen["requests_before_enter"] = len(server.requests)
            server.enqueue(Script(chunks=["Warm ", "start."]))
            await pilot.press("enter")
            deadline = time.monotonic() + 30
            while not (server.requests and not app.chat.replying) and time.monotonic() < deadline:
                await pilot.pause(0.02)
            seen["sent"] = [r.json["messages"][-1]["content"] for r in server.requests]
            seen["opened_after_reply"] = server.opened
    print(json.dumps(seen))


asyncio.run(main())
"""


def test_a_prompt_typed_before_the_client_is_built_opens_its_connection_before_enter() -> None:
    """Its warm-up ran before the provider had a client, so did nothing: the connection
    is opened once the client is asked for, and the first request does not connect."""
    seen = _run_held("tui_chat.ui.widgets.conversation.message", _HELD_WIDGETS)
    assert seen["prompt"] == "hello"
    assert seen["opened_while_held"] == 0, "the provider was not asked for its client yet"
    assert seen["opened_before_enter"] == 1
    assert seen["requests_before_enter"] == 0
    assert seen["sent"] == ["hello"]
    assert seen["opened_after_reply"] == 1, "the request went on the connection opened ahead"


async def test_a_prompt_typed_after_switching_provider_opens_the_new_ones_connection(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTHER_KEY", "k2")
    with FakeLLMServer() as server:  # its own: it counts every connection opened to it
        config_file = tmp_path / "config.toml"
        config_file.write_text(
            f'[profiles.other]\napi = "chat"\nbase_url = "{server.openai_url}"\n'
            'model = "o"\napi_key_env = "OTHER_KEY"\n'
        )
        app = make_app(server, config=load_config(config_file))
        async with app.run_test() as pilot:
            # The start's own preparing is over (it mounts the inspector, then prepares).
            await wait_for(pilot, lambda: bool(app.query("#inspector")))
            await pilot.pause()
            app.chat.use_profile("other")
            await pilot.pause(0.1)
            assert server.opened == 0
            app.query_one(PromptInput).focus()
            await pilot.press("h")
            await wait_for(pilot, lambda: server.opened == 1)
            server.enqueue(Script(chunks=["Switched."]))
            await pilot.press("i", "enter")
            await wait_for(
                pilot, lambda: bool(replies(app)) and replies(app)[0].status == "complete"
            )
            assert server.requests[-1].json["model"] == "o"
            assert server.opened == 1


@pytest.fixture
def store(tmp_path: Path) -> Iterator[HistoryStore]:
    with HistoryStore.open(tmp_path / "history.sqlite3") as opened:
        yield opened


def _on_the_wire(server: FakeLLMServer) -> bool:
    """Whether the server has the request; it blocks the app's loop while it waits,
    so a request not already written by then cannot arrive."""
    try:
        server.wait_for_requests(1, timeout=2)
    except AssertionError:
        return False
    return True


def _before(call: Callable[..., Any], note: Callable[[], None]) -> Callable[..., Any]:
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        note()
        return call(*args, **kwargs)

    return wrapped


async def test_the_request_is_on_the_wire_before_the_box_empties_or_widgets_or_history(
    fake_server: FakeLLMServer, store: HistoryStore
) -> None:
    """Emptying the prompt box, mounting the turn's widgets and writing history all
    come after the request is out."""
    fake_server.enqueue(Script(chunks=["Request ", "first."]))
    app = make_app(fake_server, store=store)
    async with app.run_test() as pilot:
        chat = app.chat
        chat.ui_waits_for_request = 30  # the order is by design, not a race with the UI
        seen: dict[str, bool] = {}

        def note(step: str) -> Callable[[], None]:
            return lambda: seen.setdefault(step, _on_the_wire(fake_server))

        log = app.query_one(ChatLog)
        log.mount_all = _before(log.mount_all, note("widgets mounted"))  # type: ignore[method-assign]
        chat.history.begin_turn = _before(chat.history.begin_turn, note("history written"))  # type: ignore[method-assign]
        prompt = app.query_one(PromptInput)
        prompt.take = _before(prompt.take, note("box emptied"))  # type: ignore[method-assign]
        await send(pilot, "hi")
        await wait_for(pilot, lambda: bool(replies(app)) and replies(app)[0].status == "complete")
        assert shown_text(replies(app)[0]) == "Request first."
        assert prompt.text == ""
    assert seen == {"box emptied": True, "history written": True, "widgets mounted": True}
    saved = store.get_conversation(store.latest_id() or 0)
    assert saved is not None
    assert [(m.role, m.content) for m in saved.messages] == [
        ("user", "hi"),
        ("assistant", "Request first."),
    ]


async def test_a_request_that_fails_before_its_widgets_exist_says_why_and_gives_the_prompt_back(
    closed_port_url: str, store: HistoryStore
) -> None:
    app = make_app(base_url=f"{closed_port_url}/v1", store=store)
    async with app.run_test() as pilot:
        app.chat.ui_waits_for_request = 30  # the failure comes first, the UI after it
        await send(pilot, "are you there?")
        await wait_for(pilot, lambda: bool(app.query(ErrorNotice)) and not app.chat.replying)
        assert app.query_one(PromptInput).text == "are you there?"
        assert replies(app)[0].status == "error"
    saved = store.get_conversation(store.latest_id() or 0)
    assert saved is not None and saved.messages[-1].status == "error"


async def test_start_up_work_nobody_waits_for_runs_once_the_first_frame_is_drawn() -> None:
    app = make_app()
    ran: list[bool] = []
    app.after_first_frame = lambda: ran.append(app.query_one(PromptInput).is_mounted)
    async with app.run_test() as pilot:
        await pilot.pause()
        await pilot.press("h", "i")
        await pilot.pause()
        assert app.query_one(PromptInput).text == "hi"
    assert ran == [True]


@pytest.mark.parametrize(
    ("in_the_box", "left"),
    [
        ("hello", ""),
        ("hello and more", " and more"),  # typed after Enter, before the request was out
        ("hellp", "hellp"),  # edited meanwhile: the user's, left alone
    ],
)
async def test_taking_a_sent_prompt_keeps_what_was_typed_after_it(
    in_the_box: str, left: str
) -> None:
    app = make_app()
    async with app.run_test() as pilot:
        prompt = app.query_one(PromptInput)
        prompt.load_text(in_the_box)
        prompt.move_cursor(prompt.document.end)
        prompt.take("hello")
        await pilot.pause()
        assert prompt.text == left
        assert prompt.cursor_location == prompt.document.end


async def test_a_prompt_submitted_before_the_box_gave_up_the_last_one_is_only_what_followed() -> (
    None
):
    app = make_app()
    async with app.run_test():
        prompt = app.query_one(PromptInput)
        prompt.load_text("hello")
        early = [PromptInput.Submitted(prompt, "hello"), PromptInput.Submitted(prompt, "helloxy")]
        prompt.take("hello")
        assert [prompt.unsent(event) for event in early] == ["", "xy"]
        later = PromptInput.Submitted(prompt, "hello", taken=1)  # typed again after the take
        assert prompt.unsent(later) == "hello"
