"""The generation loop with a scripted backend, and choosing a backend."""

from __future__ import annotations

import importlib.util
import threading

import numpy as np
import pytest

from tui_chat.local_model.engine import (
    BACKEND_ENV,
    GenerationStats,
    LocalEngine,
    choose_backend,
)
from tui_chat.local_model.gguf_weights import ModelLoadError
from tui_chat.local_model.sampling import SamplingParams

from .conftest import requires_model

GREEDY = SamplingParams(temperature=0, repeat_penalty=1.0)


class ScriptedBackend:
    """Logits that make greedy decoding emit `script`, one token per step."""

    name = "numpy"

    def __init__(self, script: list[int], vocab: int) -> None:
        self.script, self.vocab = script, vocab
        self.fed: list[list[int]] = []

    def new_sequence(self, capacity: int) -> ScriptedBackend:
        return self

    def feed(self, tokens: list[int]) -> np.ndarray:
        self.fed.append(tokens)
        logits = np.zeros(self.vocab, np.float32)
        logits[self.script[len(self.fed) - 1]] = 1.0
        return logits


def scripted_engine(real, script: list[int]) -> tuple[LocalEngine, ScriptedBackend]:
    backend = ScriptedBackend(script, len(real.tokenizer))
    return LocalEngine(backend, real.tokenizer, real.chat, real.config), backend


@requires_model
def test_characters_split_across_tokens_are_emitted_whole(engine) -> None:
    im_end = engine.chat.im_end
    body = engine.tokenizer.encode("🍎 é 中文")
    eng, _ = scripted_engine(engine, [*body, im_end])
    stats = GenerationStats()
    steps = list(
        eng.generate(
            [("user", "hi")], max_tokens=50, params=GREEDY, stop=threading.Event(), stats=stats
        )
    )
    pieces = [text for _, text in steps]
    assert [token for token, _ in steps] == body
    assert "".join(pieces) == "🍎 é 中文"
    assert all("\ufffd" not in p for p in pieces)
    assert "" in pieces  # some tokens produced no text on their own
    assert stats.generated == len(body) and stats.finish == "stop"


@requires_model
def test_token_limit_and_prompt_accounting(engine) -> None:
    word = engine.tokenizer.encode(" la")[0]
    eng, backend = scripted_engine(engine, [word] * 100)
    stats = GenerationStats()
    text = "".join(
        piece
        for _, piece in eng.generate(
            [("user", "sing")], max_tokens=5, params=GREEDY, stop=threading.Event(), stats=stats
        )
    )
    assert text == " la" * 5
    assert stats.finish == "length" and stats.generated == 5
    assert stats.prompt_tokens == len(backend.fed[0])
    assert len(backend.fed) == 5  # the prompt, then 4 tokens: the 5th is never fed back


@requires_model
def test_stop_event_set_before_start_generates_nothing(engine) -> None:
    eng, backend = scripted_engine(engine, [5] * 10)
    stop = threading.Event()
    stop.set()
    stats = GenerationStats()
    assert (
        list(eng.generate([("user", "x")], max_tokens=5, params=GREEDY, stop=stop, stats=stats))
        == []
    )
    assert backend.fed == [] and stats.finish == "cancelled"


def test_backend_choice_follows_the_environment(monkeypatch) -> None:
    monkeypatch.setenv(BACKEND_ENV, "numpy")
    assert choose_backend() == "numpy"
    monkeypatch.setenv(BACKEND_ENV, "bogus")
    with pytest.raises(ModelLoadError, match="must be 'numpy' or 'llama_cpp'"):
        choose_backend()
    monkeypatch.delenv(BACKEND_ENV)
    expected = "llama_cpp" if importlib.util.find_spec("llama_cpp") else "numpy"
    assert choose_backend() == expected


def test_forcing_llama_cpp_without_it_says_how_to_install(monkeypatch) -> None:
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "llama_cpp" else real_find_spec(name, *a),
    )
    monkeypatch.setenv(BACKEND_ENV, "llama_cpp")
    with pytest.raises(ModelLoadError) as err:
        choose_backend()
    assert 'CMAKE_ARGS="-DGGML_NATIVE=OFF" pip install llama-cpp-python' in str(err.value)
