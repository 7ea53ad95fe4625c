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
    with pytest.raises(ModelLoadError, match="must be 'numpy' or 'xllamacpp'"):
        choose_backend()
    monkeypatch.delenv(BACKEND_ENV)
    expected = "xllamacpp" if importlib.util.find_spec("xllamacpp") else "numpy"
    assert choose_backend() == expected


def test_xllamacpp_is_the_default_engine_where_it_is_installed(monkeypatch) -> None:
    monkeypatch.delenv(BACKEND_ENV, raising=False)
    if importlib.util.find_spec("xllamacpp") is None:
        pytest.skip("xllamacpp has no wheel here: the NumPy engine is the fallback")
    assert choose_backend() == "xllamacpp"


def test_without_xllamacpp_the_numpy_engine_runs_and_forcing_it_says_how_to_install(
    monkeypatch,
) -> None:
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "xllamacpp" else real_find_spec(name, *a),
    )
    monkeypatch.delenv(BACKEND_ENV, raising=False)
    assert choose_backend() == "numpy"
    monkeypatch.setenv(BACKEND_ENV, "xllamacpp")
    with pytest.raises(ModelLoadError) as err:
        choose_backend()
    assert "pip install xllamacpp" in str(err.value)


def test_xllamacpp_is_a_dependency_exactly_where_it_has_a_wheel() -> None:
    import tomllib
    from pathlib import Path

    from packaging.requirements import Requirement

    pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
    deps = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["dependencies"]
    (req,) = [Requirement(d) for d in deps if d.startswith("xllamacpp")]
    assert req.marker is not None

    def wanted(system: str, machine: str, release: str = "6.1") -> bool:
        env = {"sys_platform": system, "platform_machine": machine, "platform_release": release}
        return req.marker.evaluate(env)

    assert wanted("linux", "x86_64") and wanted("linux", "aarch64")
    assert wanted("darwin", "arm64", "23.4.0") and wanted("darwin", "x86_64", "22.1.0")
    assert wanted("win32", "AMD64")
    assert not wanted("darwin", "arm64", "21.6.0")  # macOS 12: no wheel
    assert not wanted("linux", "ppc64le") and not wanted("linux", "armv7l")
    assert not wanted("win32", "ARM64")
