"""Retry and edit take the last turn out of the context, and only a settled one."""

from __future__ import annotations

from tui_chat.core.conversation import Conversation
from tui_chat.core.protocol import ChatMessage


def _two_turns() -> Conversation:
    conversation = Conversation()
    conversation.add_user("one")
    conversation.add_assistant("reply one")
    conversation.add_user("two")
    conversation.add_assistant("reply two")
    return conversation


def test_dropping_the_last_turn_returns_its_prompt_and_keeps_the_earlier_ones() -> None:
    conversation = _two_turns()
    assert conversation.drop_last_turn() == "two"
    assert conversation.messages == [
        ChatMessage("user", "one"),
        ChatMessage("assistant", "reply one"),
    ]


def test_the_request_after_a_dropped_turn_sends_the_new_prompt_not_the_old_reply() -> None:
    conversation = _two_turns()
    conversation.drop_last_turn()
    conversation.add_user("two, edited")
    request = conversation.request(model="m", system=None, stream=True)
    assert [m.content for m in request.messages] == ["one", "reply one", "two, edited"]


def test_a_prompt_still_waiting_for_its_reply_is_not_a_turn_to_drop() -> None:
    conversation = Conversation()
    conversation.add_user("waiting")
    assert conversation.last_prompt() is None
    assert conversation.drop_last_turn() is None
    assert conversation.messages == [ChatMessage("user", "waiting")]


def test_an_empty_conversation_has_no_last_prompt() -> None:
    assert Conversation().drop_last_turn() is None
