"""A reply's reasoning is saved with it, apart from its text, and read back."""

from __future__ import annotations

from tui_chat.core.metrics import ReplyMetrics
from tui_chat.core.protocol import ChatMessage, ChatRequest
from tui_chat.core.runner import ReplyRunner
from tui_chat.history import HistoryStore
from tui_chat.history.saver import HistorySaver
from tui_chat.providers import make_provider
from tui_chat.settings.config import Settings

from fake_server import FakeLLMServer, Script


async def test_reasoning_round_trips_through_history_but_not_into_the_text(
    fake_server: FakeLLMServer, store: HistoryStore
) -> None:
    settings = Settings(api="chat", base_url=fake_server.openai_url, model="fake-model")
    saver = HistorySaver(store, on_error=print)
    reply_id = saver.begin_turn(settings, "2+2?")
    sink = saver.turn(reply_id)
    assert sink is not None
    fake_server.enqueue(Script(chunks=["Four."], reasoning=["Two and", " two."]))
    request = ChatRequest(messages=(ChatMessage("user", "2+2?"),), model="fake-model")
    await ReplyRunner(make_provider(settings, timeout=5, max_retries=0)).run(request, sinks=[sink])

    assert saver.conversation_id is not None
    loaded = store.get_conversation(saver.conversation_id)
    assert loaded is not None
    reply = loaded.messages[-1]
    assert reply.content == "Four."
    assert reply.metrics is not None and reply.metrics["reasoning"] == "Two and two."
    metrics = ReplyMetrics.from_mapping(reply.metrics)
    assert metrics is not None and metrics.first_reasoning is not None
    assert [m.content for m in loaded.messages] == ["2+2?", "Four."]  # context: no reasoning


def test_metrics_saved_before_reasoning_existed_still_read(store: HistoryStore) -> None:
    conversation = store.new_conversation(api="chat", base_url=None, model="m", system=None)
    reply = store.add_message(conversation, "assistant", "hi")
    old = {"first_token": 0.1, "total": 1.0, "tokens": 3, "tokens_estimated": False, "chunks": 3}
    store.update_message(reply, "hi", status="complete", metrics=old)
    loaded = store.get_conversation(conversation)
    assert loaded is not None and loaded.messages[-1].metrics is not None
    metrics = ReplyMetrics.from_mapping(loaded.messages[-1].metrics)
    assert metrics is not None and metrics.first_reasoning is None
    assert "reasoning" not in loaded.messages[-1].metrics
