"""The byte-level BPE tokenizer: llama.cpp's ids, lossless round trips, special tokens."""

from __future__ import annotations

import codecs

import pytest

from tui_chat.local_model.tokenizer import Tokenizer, pre_tokenize

from .conftest import requires_model


def test_pre_tokenizer_isolates_digits_and_keeps_gpt2_pieces() -> None:
    assert pre_tokenize("It's 2024, we'll see!") == [
        "It", "'s", " ", "2", "0", "2", "4", ",", " we", "'ll", " see", "!",
    ]  # fmt: skip


def test_pre_tokenizer_leaves_one_space_for_the_next_word() -> None:
    # \s+(?!\S): the last space of a run joins the word after it; a trailing run stays whole.
    assert pre_tokenize("a   b  ") == ["a", "  ", " b", "  "]
    assert pre_tokenize("x\n\n\ny") == ["x", "\n\n", "\n", "y"]


def test_pre_tokenizer_uses_unicode_categories() -> None:
    assert pre_tokenize("café Ωmega ½²") == ["café", " Ωmega", " ", "½", "²"]
    assert pre_tokenize("中文，世界") == ["中文", "，", "世界"]


def test_toy_vocabulary_merges_by_rank() -> None:
    tokens = ["<|end|>", "a", "b", "c", "ab", "bc", "abc"]
    tok = Tokenizer(
        tokens, [3, 1, 1, 1, 1, 1, 1], ["b c", "a b", "a bc"], bos_id=None, eos_id=0, pre="smollm"
    )
    # "b c" has the lowest rank, so "abc" is a + bc → abc, never ab + c.
    assert tok.encode("abc") == [6]
    assert tok.encode("abcab") == [6, 4]
    assert tok.encode("a<|end|>b", special=True) == [1, 0, 2]
    assert tok.decode([6, 0, 4]) == "abcab"  # control tokens print nothing


@requires_model
def test_tokenization_matches_llamacpp(tokenizer, llamacpp_fixture) -> None:
    for entry in llamacpp_fixture["tokenize"]:
        assert tokenizer.encode(entry["text"], special=entry["special"]) == entry["token_ids"], (
            entry
        )
    for case in llamacpp_fixture["cases"]:
        ids = tokenizer.encode(case["prompt_text"], special=True)
        assert ids == case["prompt_token_ids"]
        assert tokenizer.decode(case["generated_token_ids"]) == case["generated_text"]


@requires_model
@pytest.mark.parametrize(
    "text",
    [
        "Hello, world! It's 3.14 o'clock.",
        "  spaces\tand\ttabs\n\n\nand newlines  ",
        "emoji 🍎😊👍🏽 and a flag 🇫🇷",
        "中文测试：你好，世界！日本語のテキスト、한국어",
        "Ümlaut café naïve Ωmega ①②③ ² ½ Ⅻ \u00a0nbsp\u3000ideographic",
        "<|im_start|> typed by a user <|im_end|>",
    ],
)
def test_round_trip_is_lossless(tokenizer, text: str) -> None:
    assert tokenizer.decode(tokenizer.encode(text)) == text


@requires_model
def test_special_tokens_are_single_tokens_only_when_asked(tokenizer) -> None:
    im_start, im_end = tokenizer.token_id("<|im_start|>"), tokenizer.token_id("<|im_end|>")
    text = "<|im_start|>user\nhi<|im_end|>"
    ids = tokenizer.encode(text, special=True)
    assert ids[0] == im_start and ids[-1] == im_end
    assert ids.count(im_start) == 1 and ids.count(im_end) == 1
    plain = tokenizer.encode(text)  # as typed by a user: ordinary characters
    assert im_start not in plain and im_end not in plain
    assert tokenizer.decode(plain) == text


@requires_model
def test_split_character_decodes_incrementally_without_replacement(tokenizer) -> None:
    text = "🍎é中"
    ids = tokenizer.encode(text)
    pieces = [tokenizer.token_bytes(i) for i in ids]
    # The byte-level vocabulary splits these characters across tokens...
    assert any(_invalid_utf8(p) for p in pieces)
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    shown = [decoder.decode(p) for p in pieces] + [decoder.decode(b"", final=True)]
    # ...but what is shown per token is only ever whole characters.
    assert "\ufffd" not in "".join(shown)
    assert "".join(shown) == text


def _invalid_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False
