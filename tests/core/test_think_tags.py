"""Splitting `<think>…</think>` that opens a reply from its answer, chunk by chunk."""

from __future__ import annotations

import pytest

from tui_chat.core.think_tags import ThinkSplitter

REPLY = "<think>\nAdd them: 2+2.\n</think>\n\nFour."


def split(chunks: list[str]) -> tuple[str, str]:
    splitter = ThinkSplitter()
    thought, answer = "", ""
    for chunk in chunks:
        t, a = splitter.feed(chunk)
        thought, answer = thought + t, answer + a
    t, a = splitter.flush()
    return thought + t, answer + a


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 100])
def test_tags_cut_anywhere_across_chunks_still_split(size: int) -> None:
    chunks = [REPLY[i : i + size] for i in range(0, len(REPLY), size)]
    assert split(chunks) == ("\nAdd them: 2+2.\n", "Four.")


def test_a_reply_without_a_tag_is_all_answer_and_passes_at_once() -> None:
    splitter = ThinkSplitter()
    assert splitter.feed("Hello") == ("", "Hello")
    assert splitter.feed(" <think>x</think>") == ("", " <think>x</think>")


def test_a_tag_later_in_the_answer_is_the_answer() -> None:
    assert split(["Use ", "<think>", " in XML."]) == ("", "Use <think> in XML.")


def test_what_looked_like_a_tag_is_answer_when_the_reply_ends() -> None:
    assert split(["<thi"]) == ("", "<thi")


def test_an_unclosed_tag_is_all_reasoning() -> None:
    assert split(["<think>still going", " </thi"]) == ("still going </thi", "")


def test_reasoning_streams_before_the_tag_closes() -> None:
    splitter = ThinkSplitter()
    splitter.feed("<think>")
    assert splitter.feed("step one") == ("step one", "")
