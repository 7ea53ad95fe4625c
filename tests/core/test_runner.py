"""The reply runner against the real fake server: the one loop over a provider and the
one place a reply ends, for the chat, compare mode, `ask` and `serve` alike."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from tui_chat.core.protocol import ChatMessage, ChatRequest, Retrying, WireEvent
from tui_chat.core.runner import Delta, Ended, ReplyEvent, ReplyRunner, Started
from tui_chat.providers import make_provider
from tui_chat.settings.config import Settings

from fake_server import FakeLLMServer, Script

REQUEST = ChatRequest(messages=(ChatMessage("user", "hello"),), model="fake-model")


def runner_for(server: FakeLLMServer, api: str = "chat", **options: float) -> ReplyRunner:
    base_url = server.url if api == "backend" else server.openai_url
    settings = Settings(api=api, base_url=base_url, model="fake-model", api_key="sk-test")
    return ReplyRunner(make_provider(settings, timeout=5, max_retries=0), **options)


class Sink:
    """A sink that writes down what it hears, in order."""

    def __init__(self) -> None:
        self.heard: list[tuple[str, object]] = []

    def on_progress(self, text: str) -> None:
        self.heard.append(("progress", text))

    def on_end(self, ended: Ended) -> None:
        self.heard.append(("end", ended))

    @property
    def progress(self) -> list[str]:
        return [text for kind, text in self.heard if kind == "progress"]  # type: ignore[misc]

    @property
    def ends(self) -> list[Ended]:
        return [ended for kind, ended in self.heard if kind == "end"]  # type: ignore[misc]


async def until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Let the reply run until `condition` holds (the server runs in its own thread)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


def deltas(events: list[ReplyEvent]) -> list[str]:
    return [event.text for event in events if isinstance(event, Delta)]


@pytest.mark.parametrize("api", ["responses", "chat", "backend"])
async def test_events_are_started_then_deltas_then_exactly_one_ended(
    fake_server: FakeLLMServer, api: str
) -> None:
    chunks = ["One ", "two ", "three."]
    fake_server.enqueue(Script(chunks=chunks))
    events: list[ReplyEvent] = []

    async def on_event(event: ReplyEvent) -> None:  # awaited, like the TUI's forwarder
        events.append(event)

    ended = await runner_for(fake_server, api).run(REQUEST, on_event)

    assert isinstance(events[0], Started) and events[0].request == REQUEST
    assert all(isinstance(event, Delta) for event in events[1:-1])
    assert deltas(events) == chunks
    assert [event for event in events if isinstance(event, Ended)] == [ended]
    assert events[-1] is ended
    assert ended.status == "complete" and ended.text == "One two three."
    assert ended.error is None
    assert ended.metrics.first_token is not None


async def test_a_stopped_run_ends_stopped_with_its_partial_text_and_closes_the_stream(
    fake_server: FakeLLMServer,
) -> None:
    fake_server.enqueue(Script(chunks=["Partial ", "answer ", "never ", "sent"], hold_after=2))
    events: list[ReplyEvent] = []
    sink = Sink()
    run = asyncio.create_task(runner_for(fake_server).run(REQUEST, events.append, sinks=[sink]))
    await until(lambda: deltas(events) == ["Partial ", "answer "])

    run.cancel()
    with pytest.raises(asyncio.CancelledError):
        await run

    (ended,) = [event for event in events if isinstance(event, Ended)]
    assert ended.status == "stopped" and ended.text == "Partial answer "
    assert events[-1] is ended
    assert sink.ends == [ended]
    assert await asyncio.to_thread(fake_server.disconnected.wait, 5), "stream left open"


async def test_a_provider_error_ends_error_with_its_message_and_is_not_raised(
    fake_server: FakeLLMServer,
) -> None:
    fake_server.enqueue(Script(status=400, error_message="no such model: fake-model"))
    events: list[ReplyEvent] = []
    sink = Sink()

    ended = await runner_for(fake_server).run(REQUEST, events.append, sinks=[sink])

    assert ended.status == "error" and ended.error_kind == "bad_request"
    assert ended.error and "no such model: fake-model" in ended.error
    assert events[-1] is ended and sink.ends == [ended]


async def test_an_error_mid_stream_keeps_the_text_that_arrived(fake_server: FakeLLMServer) -> None:
    fake_server.enqueue(Script(chunks=["Half ", "a ", "reply ", "lost"], fault="disconnect"))

    ended = await runner_for(fake_server).run(REQUEST)

    assert ended.status == "error" and ended.text == "Half a "
    assert ended.error


async def test_an_exception_in_on_event_ends_the_reply_as_an_error_not_a_crash(
    fake_server: FakeLLMServer,
) -> None:
    fake_server.enqueue(Script(chunks=["first ", "second ", "third"], hold_after=1))
    events: list[ReplyEvent] = []

    def on_event(event: ReplyEvent) -> None:
        events.append(event)
        if isinstance(event, Delta):
            raise RuntimeError("the screen went away")

    ended = await runner_for(fake_server).run(REQUEST, on_event)

    assert ended.status == "error"
    assert ended.error == "Unexpected error: RuntimeError: the screen went away"
    assert ended.text == "first "
    assert events[-1] is ended
    assert await asyncio.to_thread(fake_server.disconnected.wait, 5), "stream left open"


async def test_sinks_hear_the_growing_text_while_it_streams_and_the_end_once(
    fake_server: FakeLLMServer,
) -> None:
    fake_server.enqueue(Script(chunks=["Saved ", "as ", "it ", "goes."], hold_after=2))
    sink = Sink()
    run = asyncio.create_task(
        runner_for(fake_server, progress_seconds=0.01).run(REQUEST, sinks=[sink])
    )
    await until(lambda: "Saved as " in sink.progress)
    assert not sink.ends, "the end is only heard when the reply ends"

    fake_server.release()
    ended = await run

    assert ended.status == "complete" and ended.text == "Saved as it goes."
    assert sink.ends == [ended] and sink.heard[-1] == ("end", ended)
    assert all(ended.text.startswith(text) for text in sink.progress)
    lengths = [len(text) for text in sink.progress]
    assert lengths == sorted(set(lengths)), "each progress call has more text than the last"


async def test_every_tap_receives_the_wire_events_in_order(fake_server: FakeLLMServer) -> None:
    fake_server.enqueue(Script(chunks=["Tap ", "tap."]))
    inspector: list[WireEvent] = []
    recording: list[WireEvent] = []

    ended = await runner_for(fake_server).run(
        REQUEST, taps=[inspector.append, None, recording.append]
    )

    assert inspector and inspector == recording
    assert {event.protocol for event in inspector} == {"chat"}
    assert "".join(event.text for event in inspector) == ended.text == "Tap tap."


async def test_a_retry_is_told_to_on_event_before_the_text(fake_server: FakeLLMServer) -> None:
    fake_server.enqueue(Script(status=503, retry_after="0"), Script(chunks=["after ", "all"]))
    settings = Settings(api="chat", base_url=fake_server.openai_url, api_key="sk-test")
    runner = ReplyRunner(make_provider(settings, timeout=5, max_retries=1))
    events: list[ReplyEvent] = []

    ended = await runner.run(REQUEST, events.append)

    kinds = [type(event) for event in events]
    assert kinds == [Started, Retrying, Delta, Delta, Ended]
    assert ended.status == "complete" and ended.text == "after all"


async def test_escape_sequences_in_the_text_arrive_cleaned(fake_server: FakeLLMServer) -> None:
    fake_server.enqueue(Script(chunks=["safe\x1b[2J ", "\x1b[31m", "te\x1b]0;PWNED\x07xt\u202e"]))
    events: list[ReplyEvent] = []

    ended = await runner_for(fake_server).run(REQUEST, events.append)

    assert deltas(events) == ["safe ", "text"], "a chunk that was only a sequence is no delta"
    assert ended.text == "safe text"
