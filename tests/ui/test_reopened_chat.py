"""A chat reopened from history shows what was typed and what the model thought."""

from __future__ import annotations

from pathlib import Path

from tui_chat.core.attachments import Attachment, compose
from tui_chat.history import HistoryStore
from tui_chat.ui.widgets.conversation.message import UserMessage
from tui_chat.ui.widgets.conversation.reasoning import ReasoningBlock

from .app_factory import make_app, replies, wait_for
from fake_server import FakeLLMServer


async def test_a_reopened_chat_shows_file_lines_as_typed_and_its_reasoning(
    fake_server: FakeLLMServer, tmp_path: Path
) -> None:
    sent = compose("what is in it?", [Attachment("notes.txt", "line one\nline two", 17)])
    with HistoryStore.open(tmp_path / "h.sqlite3") as store:
        chat = store.new_conversation(api="chat", base_url=None, model="m", system=None)
        store.add_message(chat, "user", sent)
        reply = store.add_message(chat, "assistant", "", status="streaming")
        store.update_message(
            reply, "Two lines.", status="complete", metrics={"reasoning": "Count the lines."}
        )
        app = make_app(fake_server, store=store, resume=chat)
        async with app.run_test() as pilot:
            await wait_for(pilot, lambda: bool(replies(app)))
            shown = str(app.query_one(UserMessage).render())
            assert "/file notes.txt" in shown and "line two" not in shown
            assert replies(app)[0].reasoning == "Count the lines."
            assert replies(app)[0].query(ReasoningBlock)
