"""The raw event inspector and --record/--replay in the app, against the fake server."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import RichLog

from tui_chat.recordings.recording import read_recording
from tui_chat.ui.app import ChatApp
from tui_chat.ui.widgets.inspector import EventInspector

from .app_factory import make_app, replies, send, shown_text, wait_for
from conftest import FAKE_API_KEY
from fake_server import FakeLLMServer, Script


def inspector_lines(app: ChatApp) -> list[str]:
    return [
        strip.text for strip in app.query_one("#inspector", EventInspector).query_one(RichLog).lines
    ]


@pytest.mark.parametrize(
    ("api", "expected"),
    [
        (
            "responses",
            [
                "responses:response.created",
                "responses:response.output_text.delta {",
                '"delta":"Hel"',
            ],
        ),
        ("chat", ["chat:chunk", '"content":"Hel"']),
        ("backend", ['backend:text "Hel"', 'backend:text "lo, "']),
    ],
)
async def test_inspector_shows_each_protocols_wire_events_as_they_arrive(
    fake_server: FakeLLMServer, api: str, expected: list[str]
) -> None:
    fake_server.enqueue(Script(chunks=["Hel", "lo, ", "world"], hold_after=2))
    app = make_app(fake_server, api=api)
    async with app.run_test() as pilot:
        inspector = app.query_one(EventInspector)
        assert not inspector.display, "hidden until asked for"
        await pilot.press("f3")
        assert inspector.display
        await send(pilot, "hi")
        await wait_for(pilot, lambda: any("lo, " in line for line in inspector_lines(app)))
        lines = "\n".join(inspector_lines(app))
        assert "world" not in lines, "only what has arrived so far"
        for needle in expected:
            assert needle in lines
        assert all(line.lstrip().startswith("+") for line in inspector_lines(app)), "relative times"
        fake_server.release()
        await wait_for(pilot, lambda: replies(app)[0].status == "complete")
        assert "world" in "\n".join(inspector_lines(app))


async def test_inspector_starts_afresh_per_reply_and_keeps_the_last_while_hidden(
    fake_server: FakeLLMServer,
) -> None:
    fake_server.enqueue(Script(chunks=["first ", "reply"]))
    fake_server.enqueue(Script(chunks=["second ", "reply"]))
    fake_server.enqueue(Script(chunks=["third ", "reply"]))
    app = make_app(fake_server, api="backend")
    async with app.run_test() as pilot:
        await pilot.press("f3")
        await send(pilot, "one")
        await wait_for(pilot, lambda: replies(app)[0].status == "complete")
        assert 'backend:text "first "' in "\n".join(inspector_lines(app))
        await send(pilot, "two")
        await wait_for(
            pilot, lambda: len(replies(app)) == 2 and replies(app)[1].status == "complete"
        )
        lines = "\n".join(inspector_lines(app))
        assert 'backend:text "second "' in lines and "first" not in lines
        await pilot.press("f3")
        await send(pilot, "three")
        await wait_for(
            pilot, lambda: len(replies(app)) == 3 and replies(app)[2].status == "complete"
        )
        kept = [payload for *_, payload in app.query_one(EventInspector)._events]
        assert "third " in kept and "second " not in kept, "the last reply's, while hidden"


async def test_inspector_strips_control_characters_from_payloads(
    fake_server: FakeLLMServer,
) -> None:
    fake_server.enqueue(Script(chunks=["bad\x9b31m", "\x1b]0;title\x07 text"]))
    app = make_app(fake_server, api="backend")
    async with app.run_test() as pilot:
        await pilot.press("f3")
        await send(pilot, "hi")
        await wait_for(pilot, lambda: replies(app)[0].status == "complete")
        lines = "\n".join(inspector_lines(app))
        assert "bad" in lines and "title" in lines
        assert "\x9b" not in lines and "\x1b" not in lines and "\x07" not in lines


@pytest.mark.parametrize("api", ["responses", "chat", "backend"])
async def test_app_records_replies_and_a_replay_reproduces_them(
    fake_server: FakeLLMServer, api: str, tmp_path: Path
) -> None:
    path = tmp_path / "demo.jsonl"
    fake_server.enqueue(Script(chunks=["Recorded ", "in ", "the ", "app."]))
    fake_server.enqueue(Script(chunks=["And ", "a second ", "reply."]))
    app = make_app(fake_server, api=api, record=path)
    async with app.run_test() as pilot:
        await send(pilot, "first")
        await wait_for(pilot, lambda: replies(app)[0].status == "complete")
        await send(pilot, "second")
        await wait_for(
            pilot, lambda: len(replies(app)) == 2 and replies(app)[1].status == "complete"
        )
    recorded = read_recording(path)
    assert [r.text for r in recorded] == ["Recorded in the app.", "And a second reply."]
    assert [r.end.status for r in recorded] == ["complete", "complete"]
    assert {r.protocol for r in recorded} == {api}

    replay = make_app(api="replay", replay=path, speed=float("inf"), api_key=None)
    async with replay.run_test() as pilot:
        await send(pilot, "anything")
        await wait_for(pilot, lambda: replies(replay)[0].status == "complete")
        await send(pilot, "more")
        await wait_for(
            pilot, lambda: len(replies(replay)) == 2 and replies(replay)[1].status == "complete"
        )
        assert [r.text for r in replies(replay)] == [r.text for r in recorded]


async def test_stopping_a_recorded_reply_records_it_as_stopped(
    fake_server: FakeLLMServer, tmp_path: Path
) -> None:
    path = tmp_path / "stopped.jsonl"
    fake_server.enqueue(Script(chunks=["partial ", "never sent"], hold_after=1))
    app = make_app(fake_server, api="chat", record=path)
    async with app.run_test() as pilot:
        await send(pilot, "go")
        await wait_for(pilot, lambda: "partial" in replies(app)[0].text)
        await pilot.press("escape")
        await wait_for(pilot, lambda: replies(app)[0].status == "stopped")
    (reply,) = read_recording(path)
    assert reply.end.status == "stopped" and reply.text == "partial "


async def test_a_recording_that_cannot_be_opened_is_reported_and_the_chat_goes_on(
    fake_server: FakeLLMServer, tmp_path: Path
) -> None:
    blocked = tmp_path / "not-a-dir"
    blocked.write_text("")
    fake_server.enqueue(Script(chunks=["still ", "works"]))
    app = make_app(fake_server, api="chat", record=blocked / "x.jsonl")
    async with app.run_test() as pilot:
        await pilot.pause()
        assert any("Not recording" in str(n.message) for n in app._notifications)
        await send(pilot, "hi")
        await wait_for(pilot, lambda: replies(app)[0].status == "complete")
        assert shown_text(replies(app)[0]) == "still works"


async def test_a_key_echoed_by_the_server_is_masked_in_the_recording(
    fake_server_with_key: FakeLLMServer, tmp_path: Path
) -> None:
    path = tmp_path / "echo.jsonl"
    fake_server_with_key.enqueue(Script(chunks=["your key is ", FAKE_API_KEY, "."]))
    app = make_app(fake_server_with_key, api_key=FAKE_API_KEY, record=path)
    async with app.run_test() as pilot:
        await send(pilot, "what is my key?")
        await wait_for(pilot, lambda: replies(app)[0].status == "complete")
    written = path.read_text(encoding="utf-8")
    assert FAKE_API_KEY not in written
    assert read_recording(path)[0].text == "your key is ***."
