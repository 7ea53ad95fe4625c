"""Full-text search: FTS5 over every message, safe for any input, with snippets."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

import pytest

from tui_chat.history import MATCH_END, MATCH_START, HistoryStore, SearchHit
from tui_chat.history.store import fts_query

CHAT = {"api": "chat", "base_url": None, "model": "m", "system": None}


def _conv(store: HistoryStore, *texts: str) -> int:
    conv = store.new_conversation(**CHAT)
    for i, text in enumerate(texts):
        store.add_message(conv, "user" if i % 2 == 0 else "assistant", text)
    return conv


def _integrity_ok(store: HistoryStore) -> None:
    conn = sqlite3.connect(store.path)
    try:
        conn.execute("INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)")
    finally:
        conn.close()


def test_search_finds_messages_across_conversations(store: HistoryStore) -> None:
    a = _conv(store, "How do I parse JSON in Python?", "Use the json module.")
    b = _conv(store, "Tell me about Rust", "Rust can parse JSON with serde.")
    _conv(store, "Unrelated question", "Unrelated answer")
    hits = store.search("json")
    assert {(h.conversation_id, h.seq) for h in hits} == {(a, 1), (a, 2), (b, 2)}
    hit = next(h for h in hits if h.conversation_id == b)
    assert hit.title == "Tell me about Rust"
    assert hit.role == "assistant"
    assert hit.snippet == f"Rust can parse {MATCH_START}JSON{MATCH_END} with serde."


def test_all_words_must_match_in_any_order_and_case(store: HistoryStore) -> None:
    a = _conv(store, "The quick brown fox")
    _conv(store, "The quick red car")
    assert [h.conversation_id for h in store.search("FOX quick")] == [a]


def test_accents_are_ignored(store: HistoryStore) -> None:
    a = _conv(store, "Un café crème")
    assert [h.conversation_id for h in store.search("cafe creme")] == [a]


def test_snippet_marks_every_match_and_cuts_long_text(store: HistoryStore) -> None:
    long = " ".join(["filler"] * 40 + ["needle", "in", "a", "haystack", "needle"] + ["more"] * 40)
    _conv(store, long)
    (hit,) = store.search("needle")
    assert hit.snippet.startswith("…") and hit.snippet.endswith("…")
    assert [t for t, is_match in hit.parts() if is_match] == ["needle", "needle"]
    assert "[needle] in a haystack [needle]" in hit.marked()
    assert "<b>needle</b>" in hit.marked("<b>", "</b>")


def test_parts_split_a_snippet_into_plain_and_matched_text() -> None:
    snippet = f"a {MATCH_START}b{MATCH_END} c{MATCH_START}d"
    hit = SearchHit(1, "t", 1, 1, "user", snippet, datetime(2024, 1, 1, tzinfo=UTC))
    assert list(hit.parts()) == [("a ", False), ("b", True), (" c", False), ("d", True)]


@pytest.mark.parametrize(
    "query",
    [
        'foo"bar',
        "C++",
        '"',
        '""',
        "'",
        "*",
        "foo*",
        "(",
        ")",
        "a:b",
        "col:umn",
        "NOT",
        "AND OR NOT",
        "NEAR(a b)",
        "-x",
        "^start",
        "{a b}",
        "a + b",
        "\\",
        "\x00",
        "🙂",
    ],
)
def test_any_input_is_a_valid_query(store: HistoryStore, query: str) -> None:
    _conv(store, 'Is C++ harder than C? foo"bar NOT near 🙂')
    assert isinstance(store.search(query), list)


def test_punctuation_heavy_terms_still_find_their_words(store: HistoryStore) -> None:
    a = _conv(store, 'I like C++ and printed foo"bar once')
    _conv(store, "nothing to see")
    assert [h.conversation_id for h in store.search("C++")] == [a]
    assert [h.conversation_id for h in store.search('foo"bar')] == [a]
    assert [h.conversation_id for h in store.search("NOT")] == []  # a word, not an operator


@pytest.mark.parametrize("query", ["", "   ", "\n\t"])
def test_blank_query_finds_nothing(store: HistoryStore, query: str) -> None:
    _conv(store, "anything")
    assert store.search(query) == []


def test_fts_query_quotes_every_term() -> None:
    assert fts_query('  foo"bar   C++ ') == '"foo""bar" "C++"'


def test_index_follows_streaming_updates_and_deletes(store: HistoryStore) -> None:
    conv = store.new_conversation(**CHAT)
    reply = store.add_message(conv, "assistant", "", "streaming")
    store.update_message(reply, "first draft")
    store.update_message(reply, "final wording", status="complete")
    assert store.search("draft") == []
    assert [h.message_id for h in store.search("wording")] == [reply]
    _integrity_ok(store)
    store.delete(conv)
    assert store.search("wording") == []
    _integrity_ok(store)


def test_search_limit(store: HistoryStore) -> None:
    for _ in range(5):
        _conv(store, "repeated word")
    assert len(store.search("repeated", limit=3)) == 3


def test_random_input_never_raises(store: HistoryStore) -> None:
    import random

    rng = random.Random(1234)
    alphabet = "abc XYZ\"'*^:+-(){}[]\\/.,;!?#@$%&|~`<>=\x00\t\n\u00e9\u4e2d🙂"
    _conv(store, "abc xyz é 中 🙂")
    for _ in range(300):
        query = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12)))
        store.search(query)
