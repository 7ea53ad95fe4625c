"""Recording wire events to JSONL and replaying them: against the fake server, and via `ask`."""

from __future__ import annotations

import asyncio
import io
import json
import math
import subprocess
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tui_chat.cli import main
from tui_chat.providers import (
    ChatMessage,
    ChatRequest,
    Done,
    Provider,
    ProviderError,
    TextDelta,
    Usage,
    WireEvent,
    make_provider,
)
from tui_chat.recordings.recording import Recording, read_recording
from tui_chat.recordings.replay import ReplayProvider
from tui_chat.settings.config import Settings

from conftest import FAKE_API_KEY
from console_script import TUI_CHAT
from fake_server import FakeLLMServer, Script
from stream_helpers import collect

PROTOCOLS = ("responses", "chat", "backend")


def request(prompt: str = "hi", *, stream: bool = True) -> ChatRequest:
    return ChatRequest((ChatMessage("user", prompt),), model="fake-model", stream=stream)


def provider_for(api: str, server: FakeLLMServer, *, api_key: str | None = None) -> Provider:
    url = server.url if api == "backend" else server.openai_url
    settings = Settings(api=api, base_url=url, api_key=api_key)
    return make_provider(settings, timeout=5, max_retries=0)


class Played:
    """What a consumer saw of one reply: the deltas, the wire events, how it ended."""

    def __init__(self) -> None:
        self.deltas: list[str] = []
        self.wire: list[WireEvent] = []
        self.done: Done | None = None
        self.error: ProviderError | None = None

    @property
    def text(self) -> str:
        return "".join(self.deltas)

    def shape(self) -> list[tuple[str, str, Any, str]]:
        """The wire events as JSON would keep them: protocol, kind, payload, text."""
        return [(e.protocol, e.kind, json.loads(json.dumps(e.payload)), e.text) for e in self.wire]


async def play(provider: Provider, req: ChatRequest, recording: Recording | None = None) -> Played:
    """Consume one reply the way `ask` does, recording it if asked to."""
    out = Played()
    recorder = recording.reply(req, provider.name) if recording is not None else None

    def tap(event: WireEvent) -> None:
        out.wire.append(event)
        if recorder is not None:
            recorder.tap(event)

    try:
        async for event in provider.stream(req, tap=tap):
            if isinstance(event, TextDelta):
                out.deltas.append(event.text)
            else:
                out.done = event
    except ProviderError as error:
        out.error = error
    if recorder is not None:
        recorder.usage = out.done.usage if out.done is not None else None
        recorder.end_with(out.error)
    return out


async def record_one(
    api: str, server: FakeLLMServer, path: Path, req: ChatRequest | None = None
) -> Played:
    provider = provider_for(api, server)
    try:
        with Recording.open(path) as recording:
            return await play(provider, req or request(), recording)
    finally:
        await provider.aclose()


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def write_lines(path: Path, *objects: dict[str, Any]) -> Path:
    path.write_text("".join(json.dumps(o) + "\n" for o in objects), encoding="utf-8")
    return path


def reply_header(protocol: str = "chat") -> dict[str, Any]:
    return {"type": "reply", "protocol": protocol, "model": "m", "prompt": "p", "started": ""}


def event_line(t: float, text: str, kind: str = "chunk") -> dict[str, Any]:
    return {"type": "event", "t": t, "kind": kind, "payload": {"text": text}, "text": text}


def end_line(t: float, status: str = "complete", **extra: Any) -> dict[str, Any]:
    return {"type": "end", "t": t, "status": status, **extra}


# -- record, then replay -----------------------------------------------------------------


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "whole"])
@pytest.mark.parametrize("api", PROTOCOLS)
async def test_replay_reproduces_text_deltas_and_wire_events_of_each_protocol(
    fake_server: FakeLLMServer, tmp_path: Path, api: str, stream: bool
) -> None:
    fake_server.enqueue(Script(chunks=["Grüße", ", ", "world\n", "🌍", " end."], usage=(9, 5)))
    path = tmp_path / "r.jsonl"
    live = await record_one(api, fake_server, path, request(stream=stream))
    assert live.error is None and live.text == "Grüße, world\n🌍 end."

    replay = ReplayProvider(path, speed=math.inf)
    again = await play(replay, request("a different prompt"))
    assert again.error is None
    assert again.deltas == live.deltas
    assert again.shape() == live.shape()
    assert {e.protocol for e in again.wire} == {api}
    assert again.done is not None


async def test_recording_has_a_header_events_and_an_end_line(
    fake_server: FakeLLMServer, tmp_path: Path
) -> None:
    fake_server.enqueue(Script(chunks=["a", "b"], first_delay=0.1, usage=(7, 2)))
    path = tmp_path / "r.jsonl"
    provider = provider_for("chat", fake_server)
    req = ChatRequest((ChatMessage("user", "Say ab"),), "fake-model", system="Be brief.")
    try:
        with Recording.open(path) as recording, recording.reply(req, provider.name) as rec:
            done = (await collect(provider, req, tap=rec.tap)).done
            assert done is not None
            rec.usage = done.usage
    finally:
        await provider.aclose()
    header, *events, end = lines(path)
    assert header["type"] == "reply" and header["protocol"] == "chat"
    assert (header["model"], header["prompt"], header["system"]) == (
        "fake-model",
        "Say ab",
        "Be brief.",
    )
    assert datetime.fromisoformat(header["started"]).tzinfo is not None
    assert [e["type"] for e in events] == ["event"] * len(events)
    assert [e["text"] for e in events] == ["", "a", "b", "", ""]
    times = [e["t"] for e in events]
    assert times == sorted(times) and times[1] >= 0.09  # the first token came after 0.1 s
    assert end["type"] == "end" and end["status"] == "complete" and end["t"] >= times[-1]
    assert end["usage"] == {"input_tokens": 7, "output_tokens": 2}
    assert {line["reply"] for line in (*events, end)} == {header["id"]}


async def test_events_are_on_disk_as_they_arrive(
    fake_server: FakeLLMServer, tmp_path: Path
) -> None:
    """A crash mid-reply keeps what arrived: each line is flushed when its event comes."""
    fake_server.enqueue(Script(chunks=["one ", "two"], hold_after=1))
    path = tmp_path / "r.jsonl"
    provider = provider_for("backend", fake_server)
    try:
        with Recording.open(path) as recording, recording.reply(request(), "backend") as rec:
            events = provider.stream(request(), tap=rec.tap)
            assert await anext(events) == TextDelta("one ")
            on_disk = lines(path)
            assert [line["type"] for line in on_disk] == ["reply", "event"]
            assert on_disk[1]["payload"] == "one "
            fake_server.release()
            rest = [e async for e in events]
            assert rest == [TextDelta("two"), Done()]
    finally:
        await provider.aclose()
    assert [line["type"] for line in lines(path)] == ["reply", "event", "event", "end"]


async def test_replies_recorded_at_once_are_told_apart(
    fake_server: FakeLLMServer, tmp_path: Path
) -> None:
    fake_server.enqueue(
        Script(chunks=["a1", "a2", "a3"], delay=0.03), Script(chunks=["b1", "b2", "b3"], delay=0.03)
    )
    path = tmp_path / "r.jsonl"
    provider = provider_for("backend", fake_server)
    try:
        with Recording.open(path) as recording:
            first, second = await asyncio.gather(
                play(provider, request("A"), recording), play(provider, request("B"), recording)
            )
    finally:
        await provider.aclose()
    replies = read_recording(path)
    assert sorted((r.prompt, r.text) for r in replies) == [
        ("A", first.text),
        ("B", second.text),
    ]
    assert {first.text, second.text} == {"a1a2a3", "b1b2b3"}


async def test_replies_play_in_order_and_then_start_again(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "r.jsonl",
        reply_header(),
        event_line(0, "first"),
        end_line(0),
        reply_header(),
        event_line(0, "second"),
        end_line(0, usage={"input_tokens": 1, "output_tokens": 2}),
    )
    replay = ReplayProvider(path, speed=0)
    texts = [(await collect(replay, request())).text for _ in range(3)]
    assert texts == ["first", "second", "first"]
    last = await collect(replay, request())
    assert last.done == Done(Usage(1, 2))


async def test_recording_a_replay_keeps_the_original_protocol(
    fake_server: FakeLLMServer, tmp_path: Path
) -> None:
    fake_server.enqueue(Script(chunks=["x", "y"]))
    original = tmp_path / "original.jsonl"
    live = await record_one("responses", fake_server, original)
    copy = tmp_path / "copy.jsonl"
    with Recording.open(copy) as recording:
        again = await play(ReplayProvider(original, speed=0), request(), recording)
    assert again.shape() == live.shape()
    (before,), (after,) = read_recording(original), read_recording(copy)
    assert after.protocol == before.protocol == "responses"
    assert [(e.kind, e.payload, e.text) for e in after.events] == [
        (e.kind, e.payload, e.text) for e in before.events
    ]


# -- timing ----------------------------------------------------------------------------------


async def arrival_times(replay: ReplayProvider) -> tuple[list[float], float]:
    """Seconds from the request to each delta, and to the end of the stream."""
    start = time.monotonic()
    times = []
    async for event in replay.stream(request()):
        if isinstance(event, TextDelta):
            times.append(time.monotonic() - start)
    return times, time.monotonic() - start


async def test_replay_at_speed_1_keeps_the_recorded_gaps(
    fake_server: FakeLLMServer, tmp_path: Path
) -> None:
    fake_server.enqueue(
        Script(chunks=["slow", " then", " steady", " end"], first_delay=0.3, delay=0.05)
    )
    path = tmp_path / "r.jsonl"
    await record_one("chat", fake_server, path)
    recorded = [e.t for e in read_recording(path)[0].events if e.text]
    replayed, _ = await arrival_times(ReplayProvider(path, speed=1))
    assert recorded[0] >= 0.29
    assert len(replayed) == len(recorded)
    for got, want in zip(replayed, recorded, strict=True):
        assert want - 0.005 <= got <= want + 0.15, (replayed, recorded)


async def test_speed_10_replays_about_ten_times_faster(tmp_path: Path) -> None:
    events = [event_line(0.1 * k, f"w{k} ") for k in range(1, 9)]
    path = write_lines(tmp_path / "r.jsonl", reply_header(), *events, end_line(0.8))
    _, normal = await arrival_times(ReplayProvider(path, speed=1))
    _, fast = await arrival_times(ReplayProvider(path, speed=10))
    _, instant = await arrival_times(ReplayProvider(path, speed=math.inf))
    assert 0.79 <= normal < 1.2
    assert 0.079 <= fast < 0.4
    assert normal / fast > 4  # ~10 unloaded; generous for a busy 2-core machine
    assert instant < 0.1


# -- failures in the recording -------------------------------------------------------------


async def test_recorded_error_replays_partial_text_then_the_same_error(
    fake_server: FakeLLMServer, tmp_path: Path
) -> None:
    fake_server.enqueue(Script(chunks=["Half ", "an ", "answer", "never"], fault="trailing_error"))
    path = tmp_path / "r.jsonl"
    live = await record_one("backend", fake_server, path)
    assert live.error is not None
    end = lines(path)[-1]
    assert end["status"] == "error" and end["error"] == live.error.message
    assert end["error_kind"] == "server"

    again = await play(ReplayProvider(path, speed=0), request())
    assert again.deltas == live.deltas == ["Half ", "an "]
    assert again.error is not None
    assert (again.error.message, again.error.kind) == (live.error.message, live.error.kind)
    assert again.error.partial == "Half an "
    assert again.shape()[-1] == ("backend", "text", "\n[Error occurred]", "")


async def test_stopped_reply_is_recorded_and_replays_as_stopped(
    fake_server: FakeLLMServer, tmp_path: Path
) -> None:
    fake_server.enqueue(Script(chunks=["kept ", "never sent"], hold_after=1))
    path = tmp_path / "r.jsonl"
    provider = provider_for("chat", fake_server)

    async def consume(rec_tap: Any) -> None:
        async for _ in provider.stream(request(), tap=rec_tap):
            pass

    try:
        with Recording.open(path) as recording:
            with pytest.raises(asyncio.CancelledError):
                with recording.reply(request(), provider.name) as rec:
                    task = asyncio.create_task(consume(rec.tap))
                    await asyncio.to_thread(fake_server.wait_for_requests, 1)
                    while "kept " not in path.read_text(encoding="utf-8"):
                        await asyncio.sleep(0.01)
                    task.cancel()
                    await task
    finally:
        await provider.aclose()
    assert lines(path)[-1]["status"] == "stopped"

    again = await play(ReplayProvider(path, speed=0), request())
    assert again.text == "kept "
    assert again.error is not None and "stopped" in again.error.message
    assert again.error.partial == "kept "


async def test_reply_cut_off_by_a_crash_replays_what_arrived_then_fails(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "r.jsonl", reply_header(), event_line(0, "so far"))
    again = await play(ReplayProvider(path, speed=0), request())
    assert again.text == "so far"
    assert again.error is not None and again.error.partial == "so far"


@pytest.mark.parametrize(
    ("content", "line", "problem"),
    [
        ('{"type": "reply", "protocol": "chat"}\n{not json\n', 2, "not a JSON line"),
        ('{"type": "event", "t": 0, "kind": "chunk", "text": "x"}\n', 1, "before any reply"),
        ('{"type": "reply", "protocol": "chat"}\n[1, 2]\n', 2, "not a JSON object"),
        ('{"type": "reply", "protocol": "chat"}\n{"type": "tick"}\n', 2, "unknown line type"),
        ('{"type": "reply"}\n', 1, "'protocol'"),
        ('{"type": "reply", "protocol": "chat"}\n\n{"type": "event", "t": 0}\n', 3, "'kind'"),
        (
            '{"type": "reply", "protocol": "chat"}\n{"type": "event", "t": -1, "kind": "k"}\n',
            2,
            "'t'",
        ),
        (
            '{"type": "reply", "protocol": "chat"}\n{"type": "end", "t": 0, "status": "ok"}\n',
            2,
            "status",
        ),
        (
            '{"type": "reply", "protocol": "chat"}\n{"type": "end", "t": 0, "status": "complete"}\n'
            '{"type": "event", "t": 1, "kind": "k"}\n',
            3,
            "after its reply",
        ),
        (
            '{"type": "reply", "protocol": "chat", "id": 1}\n{"type": "end", "reply": 2, "t": 0, "status": "complete"}\n',
            2,
            "no header",
        ),
        ('{"type": "reply", "protocol": "chat", "id": [1]}\n', 1, "is not an id"),
        (
            '{"type": "reply", "protocol": "chat", "id": 1}\n'
            '{"type": "event", "reply": {"a": 1}, "t": 0, "kind": "k"}\n',
            2,
            "is not an id",
        ),
        (
            '{"type": "reply", "protocol": "chat"}\n{"type": "event", "t": 1'
            + "0" * 400
            + ', "kind": "k"}\n',
            2,
            "infinite",
        ),
    ],
)
async def test_malformed_recording_is_a_protocol_error_naming_the_line(
    tmp_path: Path, content: str, line: int, problem: str
) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ProviderError) as info:
        await collect(ReplayProvider(path), request())
    assert info.value.kind == "protocol"
    assert f"line {line}:" in info.value.message and problem in info.value.message


@pytest.mark.parametrize("content", ["", "\n\n"])
async def test_recording_without_replies_is_an_error(tmp_path: Path, content: str) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ProviderError, match="holds no replies") as info:
        await collect(ReplayProvider(path), request())
    assert info.value.kind == "protocol"


async def test_missing_recording_is_an_error_not_a_crash(tmp_path: Path) -> None:
    with pytest.raises(ProviderError, match="Cannot read the recording"):
        await collect(ReplayProvider(tmp_path / "nope.jsonl"), request())


# -- the writer ----------------------------------------------------------------------------


async def test_recording_never_contains_the_api_key(
    fake_server_with_key: FakeLLMServer, tmp_path: Path
) -> None:
    path = tmp_path / "r.jsonl"
    fake_server_with_key.enqueue(
        Script(chunks=["fine"]), Script(status=500, error_message=f"key {FAKE_API_KEY} broke it")
    )
    provider = provider_for("responses", fake_server_with_key, api_key=FAKE_API_KEY)
    try:
        with Recording.open(path, secret=FAKE_API_KEY) as recording:
            ok = await play(provider, request(), recording)
            failed = await play(provider, request(), recording)
            # A server that echoes the key inside a wire event: masked as a last guard.
            with recording.reply(request(), "chat") as rec:
                rec.tap(WireEvent("chat", "chunk", {"echo": FAKE_API_KEY}, time.monotonic()))
    finally:
        await provider.aclose()
    assert ok.text == "fine" and failed.error is not None
    text = path.read_text(encoding="utf-8")
    assert FAKE_API_KEY not in text
    assert '"echo": "***"' in text
    assert fake_server_with_key.requests[0].headers["authorization"] == f"Bearer {FAKE_API_KEY}"


async def test_a_one_letter_key_leaves_text_and_event_types_as_they_were(
    fake_server: FakeLLMServer, tmp_path: Path
) -> None:
    """`OPENAI_API_KEY=x` is common for local servers: no `x` of the reply may change."""
    path = tmp_path / "r.jsonl"
    fake_server.enqueue(
        Script(chunks=["Syntax: ", "x = max(x, 1)"]),
        Script(status=404, error_message="The model `x-large` does not exist"),
    )
    provider = provider_for("responses", fake_server)
    try:
        with Recording.open(path, secret="x") as recording:
            ok = await play(provider, request(), recording)
            failed = await play(provider, request(), recording)
    finally:
        await provider.aclose()
    assert ok.text == "Syntax: x = max(x, 1)" and failed.error is not None
    good, bad = read_recording(path)
    assert good.text == ok.text
    assert "response.output_text.delta" in {event.kind for event in good.events}
    assert good.events[-1].payload == ok.shape()[-1][2]  # payloads as the server sent them
    assert bad.end is not None and bad.end.error is not None
    assert "does not exist" in bad.end.error and "x-large" in bad.end.error
    again = await play(ReplayProvider(path, speed=math.inf), request())
    assert again.deltas == ok.deltas


def test_a_short_key_is_masked_where_a_credential_stands(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    payload = {
        "headers": {"Authorization": "Bearer xk", "x-api-key": "xk"},
        "url": "http://me:xk@host/v1?api_key=xk&x=xk1",
        "error": {"message": "Incorrect API key provided: xk. See xkcd."},
        "text": "xk is a word here",
    }
    with Recording.open(path, secret="xk") as recording, recording.reply(request(), "chat") as rec:
        rec.tap(WireEvent("chat", "chunk", payload, time.monotonic(), "xk stays"))
    (event,) = read_recording(path)[0].events
    assert event.payload == {
        "headers": {"Authorization": "Bearer ***", "x-api-key": "***"},
        "url": "http://me:***@host/v1?api_key=***&x=xk1",
        "error": {"message": "Incorrect API key provided: ***. See xkcd."},
        "text": "xk is a word here",
    }
    assert event.text == "xk stays"


def test_recordings_are_created_for_their_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    with Recording.open(path) as recording, recording.reply(request(), "chat") as rec:
        rec.tap(WireEvent("chat", "chunk", {}, time.monotonic(), "private"))
    assert path.stat().st_mode & 0o777 == 0o600


def test_ask_replay_of_a_recording_whose_text_fields_were_masked_away_fails(
    fake_server: FakeLLMServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Older versions replaced every `x` with `***`, turning each "text" field into "te***t"."""
    fake_server.enqueue(Script(chunks=["Hello", " there"]))
    path = tmp_path / "r.jsonl"
    asyncio.run(record_one("responses", fake_server, path))
    damaged = tmp_path / "damaged.jsonl"
    damaged.write_text(path.read_text(encoding="utf-8").replace("x", "***"), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    status = main(["ask", "--replay", str(damaged), "--speed", "inf", "hi"])
    out, err = capsys.readouterr()
    assert status == 1 and out == ""
    assert len(err.splitlines()) == 1 and "damaged.jsonl" in err and "text" in err


def test_replayed_error_keeps_every_letter_with_a_one_letter_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_lines(
        tmp_path / "r.jsonl",
        reply_header(),
        end_line(0, "error", error="The model `x-large` does not exist"),
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OPENAI_API_KEY", "x")
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    status = main(["ask", "--replay", str(path), "--speed", "inf", "hi"])
    err = capsys.readouterr().err
    assert status == 1 and "The model `x-large` does not exist" in err


def test_appending_keeps_earlier_replies_and_repairs_a_torn_last_line(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    write_lines(path, reply_header(), event_line(0, "old"), end_line(0))
    with path.open("a", encoding="utf-8") as file:
        file.write('{"type": "event", "t": 0.1')  # a crash mid-line
    with Recording.open(path) as recording, recording.reply(request("new"), "chat") as rec:
        rec.tap(WireEvent("chat", "chunk", {}, time.monotonic(), "new text"))
    raw = path.read_text(encoding="utf-8").splitlines()
    assert raw[3] == '{"type": "event", "t": 0.1'
    assert json.loads(raw[4])["prompt"] == "new"


def test_a_failing_disk_stops_the_recording_not_the_reply(tmp_path: Path) -> None:
    class FullDisk:
        def write(self, text: str) -> int:
            raise OSError(28, "No space left on device")

        def flush(self) -> None: ...

        def close(self) -> None: ...

    reported: list[str] = []
    recording = Recording(FullDisk(), tmp_path / "r.jsonl", on_error=reported.append)  # type: ignore[arg-type]
    with recording.reply(request(), "chat") as rec:
        rec.tap(WireEvent("chat", "chunk", {}, time.monotonic(), "a"))
        rec.tap(WireEvent("chat", "chunk", {}, time.monotonic(), "b"))
    assert recording.closed and recording.error is not None
    assert reported == [recording.error] and "No space left" in recording.error


def test_lone_surrogates_from_a_split_emoji_are_kept_escaped(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    with Recording.open(path) as recording, recording.reply(request(), "chat") as rec:
        rec.tap(WireEvent("chat", "chunk", {"c": "\ud83c"}, time.monotonic(), "\ud83c"))
    (reply,) = read_recording(path)
    assert reply.text == "\ud83c"


# -- settings and the command line ---------------------------------------------------------


async def test_replay_flag_overrides_api_and_sets_speed(tmp_path: Path) -> None:
    from tui_chat.cli import build_parser, resolve_settings
    from tui_chat.settings.profiles import ConfigFile

    path = write_lines(tmp_path / "r.jsonl", reply_header(), end_line(0))
    args = build_parser()["ask"].parse_args(
        [
            "--api",
            "chat",
            "--replay",
            str(path),
            "--speed",
            "2.5",
            "--record",
            str(tmp_path / "o.jsonl"),
            "hi",
        ]
    )
    settings = resolve_settings(args, {}, ConfigFile())
    assert (settings.api, settings.replay, settings.speed) == ("replay", path, 2.5)
    assert settings.record == tmp_path / "o.jsonl"
    provider = make_provider(settings)
    assert isinstance(provider, ReplayProvider) and provider.speed == 2.5


@pytest.mark.parametrize(
    ("flags", "says"),
    [
        (["--speed", "0"], "--speed"),
        (["--speed", "nan"], "--speed"),
        (["--speed", "fast"], "--speed"),
        (["--replay", "missing.jsonl"], "no recording at missing.jsonl"),
        (["--record", "no/such/dir/r.jsonl"], "--record"),
    ],
)
def test_bad_recording_flags_are_one_line_exit_2(
    flags: list[str],
    says: str,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    for command in (["ask"], []):
        with pytest.raises(SystemExit) as info:
            main([*command, *flags, "hi"] if command else flags)
        assert info.value.code == 2
        err = capsys.readouterr().err
        assert len(err.splitlines()) == 1 and says in err


def test_ask_record_then_replay_reproduces_stdout_exactly(
    fake_server: FakeLLMServer, tmp_path: Path
) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "LANG": "C.UTF-8", "NO_COLOR": "1"}
    env["OPENAI_API_KEY"] = FAKE_API_KEY

    def ask(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*TUI_CHAT, "ask", *args],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=30,
        )

    fake_server.enqueue(
        Script(chunks=["# Title\n\n", "Grüße, ", "`code`", "\n- a\n", "- b 🌍"]),
        Script(chunks=["Half ", "done"], fault="error_event", error_message="overloaded"),
    )
    good, bad = tmp_path / "good.jsonl", tmp_path / "bad.jsonl"
    server = ["--api", "chat", "--base-url", fake_server.openai_url]
    live = ask(*server, "--record", str(good), "tell me")
    live_bad = ask(*server, "--record", str(bad), "again")
    assert live.returncode == 0 and live.stdout == "# Title\n\nGrüße, `code`\n- a\n- b 🌍\n"
    assert live_bad.returncode == 1 and "overloaded" in live_bad.stderr

    replayed = ask("--replay", str(good), "--speed", "inf", "anything")
    replayed_bad = ask("--replay", str(bad), "--speed", "inf", "anything")
    assert (replayed.returncode, replayed.stdout, replayed.stderr) == (0, live.stdout, "")
    assert (replayed_bad.returncode, replayed_bad.stdout, replayed_bad.stderr) == (
        1,
        live_bad.stdout,
        live_bad.stderr,
    )
    assert FAKE_API_KEY not in good.read_text(encoding="utf-8") + bad.read_text(encoding="utf-8")
    assert lines(good)[0]["prompt"] == "tell me" and lines(bad)[-1]["status"] == "error"


def test_tee_feeds_every_tap_and_is_none_without_any() -> None:
    from tui_chat.providers import tee

    first: list[WireEvent] = []
    second: list[WireEvent] = []
    assert tee(None, None) is None
    assert tee(first.append, None) == first.append
    event = WireEvent("chat", "chunk", {}, 0.0, "x")
    both = tee(first.append, None, second.append)
    assert both is not None
    both(event)
    assert first == second == [event]


async def test_non_streaming_replay_gives_the_whole_text_when_the_recorded_reply_ended(
    tmp_path: Path,
) -> None:
    """So compare mode replays too: the non-streaming side waits for the whole reply."""
    events = [event_line(0.05 * k, f"w{k} ") for k in range(1, 5)]
    path = write_lines(tmp_path / "r.jsonl", reply_header(), *events, end_line(0.3))
    started = time.monotonic()
    arrivals: list[tuple[float, str]] = []
    async for event in ReplayProvider(path).stream(request(stream=False)):
        if isinstance(event, TextDelta):
            arrivals.append((time.monotonic() - started, event.text))
    assert [text for _, text in arrivals] == ["w1 w2 w3 w4 "]
    assert arrivals[0][0] >= 0.29


async def test_non_streaming_replay_of_a_failed_reply_shows_no_partial_text(
    tmp_path: Path,
) -> None:
    path = write_lines(
        tmp_path / "r.jsonl",
        reply_header(),
        event_line(0.01, "half "),
        end_line(0.02, "error", error="boom"),
    )
    played = await play(ReplayProvider(path), request(stream=False))
    assert played.text == "" and played.error is not None
    assert played.error.message == "boom" and played.error.partial == ""
