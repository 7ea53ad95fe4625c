"""Choose the local engine, and the NumPy engine's generation loop.

Two engines give the same events from the same GGUF file:

- ``xllamacpp`` (the default wherever its wheel installs): llama.cpp through
  `xllamacpp` (see `xllama.py`), 3.5x faster at a third of the memory, any chat GGUF.
- ``numpy`` (the fallback where xllamacpp has no wheel, e.g. musl Linux, 32-bit or
  non-x86/ARM machines, macOS before 13): `llama.LlamaModel`, pure NumPy, SmolLM2-type
  (Llama architecture, ChatML template) models only.

`TUI_CHAT_LOCAL_BACKEND=numpy|xllamacpp` forces one. `TUI_CHAT_LOCAL_NUMERICS=exact`
makes the NumPy engine reproduce llama.cpp's x86 arithmetic bit for bit (10x slower;
see `exact_numerics.py`).

The NumPy engine holds a per-model lock: concurrent requests take turns, each with its
own KV cache. Text is decoded with an incremental UTF-8 decoder so a character split
across tokens is only emitted once complete.
"""

from __future__ import annotations

import codecs
import os
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from tui_chat.local_model.chat_format import ChatFormat, Message
from tui_chat.local_model.common import (  # noqa: F401  (re-exported: the old home)
    BACKEND_ENV,
    BackendName,
    GenerationStats,
    choose_backend,
    xllamacpp_available,
)
from tui_chat.local_model.gguf_weights import (
    GGUFFile,
    ModelConfig,
    ModelLoadError,
    load_weights,
    locate_model_file,
)
from tui_chat.local_model.sampling import Sampler, SamplingParams
from tui_chat.local_model.tokenizer import Tokenizer

NUMERICS_ENV = "TUI_CHAT_LOCAL_NUMERICS"


class Sequence_(Protocol):
    def feed(self, tokens: list[int]) -> np.ndarray:
        """Append tokens; return the logits after the last one."""
        ...


class Backend(Protocol):
    name: BackendName

    def new_sequence(self, capacity: int) -> Sequence_: ...


class _NumpySequence:
    def __init__(self, model: object, capacity: int) -> None:
        from tui_chat.local_model.llama import LlamaModel

        assert isinstance(model, LlamaModel)
        self._model = model
        self._cache = model.new_cache(capacity)

    def feed(self, tokens: list[int]) -> np.ndarray:
        return self._model.forward(tokens, self._cache)


class NumpyBackend:
    name: BackendName = "numpy"

    def __init__(self, gguf: GGUFFile, numerics: str = "fast") -> None:
        from tui_chat.local_model.llama import LlamaModel
        from tui_chat.local_model.numerics import FastKernels

        if numerics == "exact":
            from tui_chat.local_model.exact_numerics import ExactKernels

            # Prompt batches as llama-cpp-python's default n_batch: a batch of one token
            # takes other kernels in llama.cpp, so the split points matter for exactness.
            kernels: FastKernels = ExactKernels()
            max_batch = 512
        elif numerics == "fast":
            kernels, max_batch = FastKernels(), 256
        else:
            raise ModelLoadError(f"{NUMERICS_ENV} must be 'fast' or 'exact', not {numerics!r}.")
        self.model = LlamaModel(load_weights(gguf), kernels, max_batch=max_batch)

    def new_sequence(self, capacity: int) -> _NumpySequence:
        return _NumpySequence(self.model, capacity)


class LocalEngine:
    def __init__(
        self, backend: Backend, tokenizer: Tokenizer, chat: ChatFormat, config: ModelConfig
    ) -> None:
        self.backend = backend
        self.tokenizer = tokenizer
        self.chat = chat
        self.config = config
        self.lock = threading.Lock()
        stops = {chat.im_end}
        if tokenizer.eos_id is not None:
            stops.add(tokenizer.eos_id)
        self.stop_ids = frozenset(stops)

    def generate(
        self,
        messages: Sequence[Message],
        *,
        max_tokens: int,
        params: SamplingParams,
        stop: threading.Event,
        stats: GenerationStats,
    ) -> Iterator[tuple[int | None, str]]:
        """Yield (token id, text) per generated token, text "" while a character is still
        incomplete (and a final (None, rest) if bytes were left over). Returns at a stop
        token, the token limit or the end of the context, or soon after `stop` is set (at
        most one more token is computed)."""
        context = self.config.context_length
        # Reserve room for the reply, but never more than half the context.
        reserve = max(1, min(max_tokens, context // 2))
        prompt, dropped = self.chat.prompt_ids(messages, context - reserve)
        stats.prompt_tokens, stats.dropped_messages = len(prompt), dropped
        capacity = min(context, len(prompt) + max_tokens)
        sampler = Sampler(params)
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        with self.lock:
            try:
                yield from self._run(prompt, capacity, max_tokens, sampler, decoder, stop, stats)
            finally:
                stats.finish = stats.finish or "cancelled"  # closed early by the consumer
        tail = decoder.decode(b"", final=True)
        if tail:
            yield None, tail

    def _run(
        self,
        prompt: list[int],
        capacity: int,
        max_tokens: int,
        sampler: Sampler,
        decoder: codecs.IncrementalDecoder,
        stop: threading.Event,
        stats: GenerationStats,
    ) -> Iterator[tuple[int | None, str]]:
        if stop.is_set():
            stats.finish = "cancelled"
            return
        seq = self.backend.new_sequence(capacity)
        logits = seq.feed(prompt)
        history = list(prompt)
        while True:
            if stop.is_set():
                stats.finish = "cancelled"
                return
            token = sampler(logits, history)
            if token in self.stop_ids:
                stats.finish = "stop"
                return
            stats.generated += 1
            history.append(token)
            yield token, decoder.decode(self.tokenizer.token_bytes(token))
            if stats.generated >= max_tokens or len(history) >= capacity:
                stats.finish = "length"
                return
            logits = seq.feed([token])


# --- one NumPy engine per (file, numerics) per process ---------------------------------------
_engines: dict[tuple[str, str], LocalEngine] = {}
_engines_lock = threading.Lock()


def get_engine(model_path: str | os.PathLike[str] | None = None) -> LocalEngine:
    """The shared NumPy engine, loading it on first use (call from a worker thread: ~1 s).
    Failures raise `ModelLoadError` with a message that says what to do, and are not
    cached, so installing the missing piece and retrying works."""
    path = Path(model_path) if model_path is not None else locate_model_file()
    if not path.is_file():
        raise ModelLoadError(f"The local model file {path} does not exist.")
    numerics = os.environ.get(NUMERICS_ENV, "fast").strip().lower() or "fast"
    key = (str(path.resolve()), numerics)
    with _engines_lock:
        engine = _engines.get(key)
        if engine is None:
            engine = _engines[key] = _load(path, numerics)
        return engine


def _load(path: Path, numerics: str) -> LocalEngine:
    try:
        gguf = GGUFFile(path)
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"Cannot read the local model {path}: {exc}.") from exc
    try:
        config = ModelConfig.from_metadata(gguf.metadata)
        tokenizer = Tokenizer.from_gguf_metadata(gguf.metadata)
        chat = ChatFormat(tokenizer, gguf.metadata.get("tokenizer.chat_template"))
        impl = NumpyBackend(gguf, numerics)
    except MemoryError as exc:
        raise ModelLoadError(
            "Not enough memory to load the local model (it needs about 600 MB)."
        ) from exc
    except (KeyError, ValueError) as exc:
        raise ModelLoadError(f"The local model {path} is not usable: {exc}.") from exc
    finally:
        gguf.close()
    return LocalEngine(impl, tokenizer, chat, config)
