"""The local models this machine can run, for "Switch model" on the local provider.

A local model is a file, not a name a server knows: switching offers the bundled model,
the one running now, and the other chat GGUFs beside it (where a user keeps the models
they downloaded). Each is checked the way a start-up check would (a GGUF, with a chat
template, and for the NumPy engine a Llama with ChatML), so nothing on the list fails
at the first prompt.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tui_chat.local_model.common import ModelLoadError, choose_backend, locate_model_file
from tui_chat.local_model.gguf_meta import read_chat_model_info
from tui_chat.settings.config import LOCAL_MODEL

#: Siblings read at most: each costs a header read.
MAX_SIBLINGS = 50


@dataclass(frozen=True, slots=True)
class LocalChoice:
    """A runnable model: what the list shows, and the file (None: the bundled model)."""

    label: str
    path: Path | None
    detail: str = ""


def _runs_here(path: Path, numpy: bool) -> str | None:
    """A short description if the engine in use can run `path`, else None."""
    try:
        info = read_chat_model_info(path)
    except ModelLoadError:
        return None
    if numpy and (info.architecture != "llama" or "<|im_start|>" not in info.chat_template):
        return None  # the NumPy engine runs Llama models with ChatML prompts only
    size = path.stat().st_size / 1e6
    return f"{info.name} · {info.architecture} · {size:,.0f} MB"


def runnable_models(current: Path | None = None, backend: str | None = None) -> list[LocalChoice]:
    """The bundled model (if installed), `current`, and the chat GGUFs beside `current`."""
    try:
        numpy = choose_backend(backend) == "numpy"
    except ModelLoadError:
        return []
    choices: list[LocalChoice] = []
    try:
        bundled: Path | None = locate_model_file()
    except ModelLoadError:
        bundled = None
    if bundled is not None and (detail := _runs_here(bundled, numpy)):
        choices.append(LocalChoice(LOCAL_MODEL, None, detail))
    if current is None:
        return choices
    seen = {bundled.resolve()} if bundled is not None else set()
    folder = current.parent
    try:
        siblings = sorted(p for p in folder.iterdir() if p.suffix.lower() == ".gguf")
    except OSError:
        siblings = []
    for path in [current, *(p for p in siblings[:MAX_SIBLINGS] if p != current)]:
        if path.resolve() in seen or not path.is_file():
            continue
        seen.add(path.resolve())
        if detail := _runs_here(path, numpy):
            choices.append(LocalChoice(path.name, path, detail))
    return choices
