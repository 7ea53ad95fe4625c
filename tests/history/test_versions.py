"""Earlier versions of a turn (a retry or an edit replaced it): found through the turn
that stands in its place now, counted on its prompt, never context, never a search hit."""

from __future__ import annotations

from pathlib import Path

from tui_chat.history import HistoryStore

from .helpers import run_history

CHAT = {"api": "chat", "base_url": None, "model": "m", "system": None}


def _turn(store: HistoryStore, conv: int, prompt: str, reply: str, status: str = "complete") -> int:
    store.add_message(conv, "user", prompt)
    return store.add_message(conv, "assistant", reply, status)  # type: ignore[arg-type]


def test_a_retried_turn_lists_every_version_it_replaced_oldest_first(store: HistoryStore) -> None:
    conv = store.new_conversation(**CHAT)
    _turn(store, conv, "one", "first answer")
    _turn(store, conv, "two", "old answer")
    store.replace_last_turn(conv)
    _turn(store, conv, "two", "second try")
    store.replace_last_turn(conv)
    prompt_id = store.add_message(conv, "user", "two, edited")
    reply_id = store.add_message(conv, "assistant", "third try")

    versions = store.earlier_versions(reply_id)
    assert [(v.prompt and v.prompt.content, v.reply and v.reply.content) for v in versions] == [
        ("two", "old answer"),
        ("two", "second try"),
    ]
    assert store.earlier_versions(prompt_id) == versions, "by its prompt too"
    current = store.get_conversation(conv)
    assert current is not None
    assert [(m.content, m.earlier_versions) for m in current.messages] == [
        ("one", 0),
        ("first answer", 0),
        ("two, edited", 2),
        ("third try", 0),
    ]
    first_reply = current.messages[1].id
    assert store.earlier_versions(first_reply) == [], "the turn before kept its only version"


def test_versions_belong_to_the_turn_in_their_place_not_to_a_later_one(
    store: HistoryStore,
) -> None:
    conv = store.new_conversation(**CHAT)
    _turn(store, conv, "one", "first answer")
    store.replace_last_turn(conv)
    first = _turn(store, conv, "one", "retried")
    later = _turn(store, conv, "next", "next answer")
    assert [v.reply.content for v in store.earlier_versions(first) if v.reply] == ["first answer"]
    assert store.earlier_versions(later) == []
    current = store.get_conversation(conv)
    assert current is not None
    assert [m.earlier_versions for m in current.messages] == [1, 0, 0, 0]


def test_search_finds_only_current_messages_even_among_many_earlier_versions(
    store: HistoryStore,
) -> None:
    conv = store.new_conversation(**CHAT)
    current = [_turn(store, conv, f"kept {n}", f"needle kept {n}") for n in range(3)]
    for n in range(60):  # newer ids, so before they crowded the current ones out
        _turn(store, conv, f"try {n}", f"needle replaced {n}")
        store.replace_last_turn(conv)
    final = _turn(store, conv, "last", "needle final")
    hits = store.search("needle", limit=50)
    assert sorted(h.message_id for h in hits) == sorted([*current, final])
    assert all("replaced" not in h.snippet for h in hits)


def test_the_shell_search_leaves_earlier_versions_out_like_the_app(
    data_home: Path, store: HistoryStore
) -> None:
    conv = store.new_conversation(**CHAT)
    for n in range(20):
        _turn(store, conv, "q", f"zebra old wording {n}")
        store.replace_last_turn(conv)
    _turn(store, conv, "q", "zebra new wording")
    result = run_history(data_home, "search", "zebra")
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("\n") == 1 and "new wording" in result.stdout


def test_a_reply_stopped_while_thinking_is_kept_but_never_context(store: HistoryStore) -> None:
    conv = store.new_conversation(**CHAT)
    _turn(store, conv, "one", "first answer")
    reply = _turn(store, conv, "two", "", "streaming")
    store.update_message(reply, "", status="stopped", metrics={"reasoning": "hmm, let me see"})
    stored = store.get_conversation(conv)
    assert stored is not None
    assert [m.content for m in stored.chat_messages()] == ["one", "first answer"]
    assert [m.content for m in stored.messages] == ["one", "first answer", "two", ""]
    assert stored.messages[-1].reasoning == "hmm, let me see"
