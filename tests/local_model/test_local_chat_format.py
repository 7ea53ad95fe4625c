"""ChatML prompts: same text as the GGUF's Jinja template, same ids as llama.cpp."""

from __future__ import annotations

import pytest

from tui_chat.local_model.chat_format import PromptTooLong

from .conftest import requires_model

CONVERSATIONS = [
    [("user", "Hi")],
    [("system", "Be brief."), ("user", "Hi"), ("assistant", "Hello!"), ("user", "Bye")],
    [("user", "One"), ("assistant", "Two"), ("user", "Three\n\nwith  spaces ")],
]


@requires_model
@pytest.mark.parametrize("messages", CONVERSATIONS)
def test_render_matches_the_gguf_jinja_template(engine, messages) -> None:
    jinja2 = pytest.importorskip("jinja2")
    from tui_chat.local_model.gguf_weights import GGUFFile, locate_model_file

    gguf = GGUFFile(locate_model_file())
    template = gguf.metadata["tokenizer.chat_template"]
    gguf.close()
    expected = (
        jinja2.Environment()
        .from_string(template)
        .render(
            messages=[{"role": r, "content": c} for r, c in messages], add_generation_prompt=True
        )
    )
    assert engine.chat.render(messages) == expected


@requires_model
def test_default_system_prompt_comes_from_the_template(engine) -> None:
    assert engine.chat.default_system == (
        "You are a helpful AI assistant named SmolLM, trained by Hugging Face"
    )


@requires_model
def test_prompt_ids_equal_llamacpp_tokenizing_the_rendered_text(engine, llamacpp_fixture) -> None:
    for case in llamacpp_fixture["cases"]:
        messages = [(m["role"], m["content"]) for m in case["messages"]]
        assert engine.chat.render(messages) == case["prompt_text"]
        ids, dropped = engine.chat.prompt_ids(messages, limit=8192)
        assert ids == case["prompt_token_ids"] and dropped == 0


@requires_model
def test_long_history_loses_oldest_turns_but_keeps_system_and_prompt(engine) -> None:
    chat = engine.chat
    history = []
    for i in range(20):
        history += [("user", f"question {i} " + "word " * 30), ("assistant", f"answer {i}")]
    messages = [("system", "Be brief."), *history, ("user", "the last question")]
    full, _ = chat.prompt_ids(messages, limit=100_000)
    ids, dropped = chat.prompt_ids(messages, limit=300)
    assert len(ids) <= 300 < len(full)
    assert dropped > 0 and dropped % 2 == 0  # whole user/assistant pairs
    text = engine.tokenizer.decode(ids)
    assert text.startswith("system\nBe brief.")
    assert "the last question" in text and "question 0 " not in text
    assert text.endswith("assistant\n")


@requires_model
def test_prompt_that_cannot_fit_is_an_error(engine) -> None:
    with pytest.raises(PromptTooLong) as err:
        engine.chat.prompt_ids([("user", "word " * 500)], limit=100)
    assert err.value.needed > 100 == err.value.limit
