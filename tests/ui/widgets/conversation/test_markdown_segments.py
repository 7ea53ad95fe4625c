"""Safe cut points for settling the finished part of a streaming reply."""

from __future__ import annotations

from tui_chat.ui.widgets.conversation.markdown_segments import open_fence, settle_point


def test_cuts_at_the_last_blank_line_before_a_new_block() -> None:
    text = "para one\n\npara two\n\n# Heading\n\nstill typing"
    cut = settle_point(text, min_lines=1)
    assert cut is not None
    assert text[cut:] == "still typing"
    assert settle_point(text, min_lines=7) is None, "not enough lines above any cut"
    done = "para one\n\npara two\n\n# Heading\n"
    assert settle_point(done, min_lines=1) == done.index("# Heading")


def test_never_cuts_inside_a_code_fence() -> None:
    code = "```python\n" + "x = 1\n\ny = 2\n\n" * 20 + "```\n\n"
    text = "intro\n\n" + code + "after\n"
    cut = settle_point(text, min_lines=3)
    assert cut is not None
    assert text[:cut].count("```") % 2 == 0
    assert text[cut:] == "after\n"
    unfinished = "intro\n\n```\n" + "a\n\nb\n\n" * 30
    assert settle_point(unfinished, min_lines=2) == unfinished.index("```")


def test_tilde_fences_and_longer_closing_fences() -> None:
    text = "~~~~\n```\n\nnot closed by backticks\n\n~~~~~\n\nfree\n"
    cut = settle_point(text, min_lines=1)
    assert cut is not None and text[cut:] == "free\n"


def test_never_cuts_before_an_indented_continuation() -> None:
    text = "- item\n\n    continued paragraph of the item\n\n    more\n"
    assert settle_point(text, min_lines=1) is None


def test_nothing_to_cut_in_a_short_or_single_block_reply() -> None:
    assert settle_point("one paragraph that keeps growing", min_lines=1) is None
    assert settle_point("a\n\nb\n\nc\n", min_lines=40) is None


def test_an_open_fence_is_found_where_it_opens() -> None:
    source = "Some text.\n\n```python\nx = 1\ny = "
    assert open_fence(source) == source.index("```")


def test_a_closed_fence_is_not_open() -> None:
    assert open_fence("Text.\n\n```\ncode\n```\n\nMore.") is None
    assert open_fence("```\na\n```\n~~~\nb\n~~~") is None


def test_a_fence_closes_only_with_its_own_kind_and_length() -> None:
    source = "````md\n```\nnot closed\n~~~\n"
    assert open_fence(source) == 0
    assert open_fence(source + "````\n") is None


def test_a_fence_opened_right_after_a_paragraph_line_is_found() -> None:
    source = "Look:\n```\nraw"
    assert open_fence(source) == len("Look:\n")
