"""The default local engine: llama.cpp's own server code, in process, through xllamacpp.

`xllamacpp.Server(params).handle_chat_completions(body, callback)` runs a chat request
with the GGUF's own chat template (so any chat model works, not only ChatML) and calls
`callback` with each OpenAI chat-completion chunk, in the calling thread; returning
True from the callback ends the request. That is the only way to stop it, so a stop is
heard when the next token is handed over, by which time llama.cpp's loop has begun the
one after: Esc costs at most two tokens of compute (~16 ms; the tests count them in
llama.cpp's metrics), and no text after it is shown. Requests take turns on one slot.

Two things the library does by default that an embedded engine must not:

- It logs to stderr, which would scribble over the TUI: `verbosity = -1`.
- It also listens for HTTP (port 0 = any free port, no key, CORS open to every web
  page). It listens on a Unix socket in a private temporary directory instead, behind a
  random key that never leaves this process.

(llama.cpp's server has SIGINT/SIGTERM handlers of its own; this wheel does not install
them, and a test keeps Ctrl+C and SIGTERM working if a release ever does.)

`TUI_CHAT_LOCAL_THREADS` overrides the thread count (see `default_threads`).
"""

from __future__ import annotations

import os
import re
import secrets
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from tui_chat.local_model.common import (
    GenerationStats,
    Message,
    ModelLoadError,
    PromptTooLong,
    SamplingParams,
)
from tui_chat.local_model.gguf_meta import ChatModelInfo, read_chat_model_info

THREADS_ENV = "TUI_CHAT_LOCAL_THREADS"
CONTEXT_ENV = "TUI_CHAT_LOCAL_CONTEXT"
#: KV cache positions (unless the model was trained on fewer, or $TUI_CHAT_LOCAL_CONTEXT
#: says otherwise). llama.cpp allocates and zeroes the whole cache at load: for SmolLM2
#: 2048 positions are 47 MB (peak RSS 200 MB), its full 8192 would be 190 MB (350 MB).
#: Older turns are dropped to fit, as the NumPy engine does.
DEFAULT_CONTEXT = 2048

Emit = Callable[[int | None, str], None]


def _positive_env(name: str) -> int | None:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise ModelLoadError(f"{name} must be a whole number, not {raw!r}.") from None
    if value < 1:
        raise ModelLoadError(f"{name} must be 1 or more, not {value}.")
    return value


def context_length(trained: int) -> int:
    return min(trained or DEFAULT_CONTEXT, _positive_env(CONTEXT_ENV) or DEFAULT_CONTEXT)


def default_threads() -> int:
    """One thread per core on one or two cores, else one core left for the UI.

    Measured on 2 cores (`benchmarks/local_model.py --threads 1 2`, and `--keys`): 2
    threads stream at 94-115 tok/s, 1 thread at 72-76; keys are acted on within 10-23 ms
    either way while the app streams (1.7 ms median both). Only 2 threads reach 90 tok/s.
    Two threads fall back harder when other processes want the cores (46 vs 76 tok/s
    at a load average of 1.1): `TUI_CHAT_LOCAL_THREADS=1` is for a busy machine.
    """
    if override := _positive_env(THREADS_ENV):
        return override
    cores = os.cpu_count() or 1
    return cores if cores <= 2 else cores - 1


class GenerationError(Exception):
    """llama.cpp refused or failed a request; the message is its own."""


class XllamaModel:
    """One loaded GGUF behind one llama.cpp server context (one slot)."""

    name = "xllamacpp"

    def __init__(self, info: ChatModelInfo, threads: int) -> None:
        import xllamacpp

        self.info = info
        self.threads = threads
        self.context_length = context_length(info.context_length)
        self._socket_dir = tempfile.TemporaryDirectory(prefix="tui-chat-llama-")
        params = xllamacpp.CommonParams()
        params.model.path = str(info.path)
        params.n_ctx = self.context_length
        params.n_parallel = 1
        params.cpuparams.n_threads = threads
        params.cpuparams_batch.n_threads = threads
        # Threads sleep at a barrier instead of spinning on it. Spinning wins a few
        # percent on an idle machine, and loses most of the speed as soon as another
        # thread wants a core: the TUI's own event loop, while it draws the reply.
        params.cpuparams.poll = 0
        params.cpuparams_batch.poll = 0
        params.warmup = False
        params.verbosity = -1
        params.endpoint_metrics = True
        params.hostnames = [os.path.join(self._socket_dir.name, "llama.sock")]
        params.api_keys = [secrets.token_hex(16)]
        # llama.cpp's classic attention: what tests/fixtures/llamacpp_greedy.json used.
        params.flash_attn_type = xllamacpp.llama_flash_attn_type.LLAMA_FLASH_ATTN_TYPE_DISABLED
        params.reasoning_format = xllamacpp.common_reasoning_format.COMMON_REASONING_FORMAT_NONE
        params.cache_ram_mib = 0  # no prompt cache beyond the slot's own
        try:
            self._server = xllamacpp.Server(params)
        except (RuntimeError, ValueError) as exc:
            self._socket_dir.cleanup()
            raise ModelLoadError(
                f"llama.cpp could not load {info.path} ({exc}). Is it a model llama.cpp supports?"
            ) from exc

    def tokens_predicted(self, timeout: float = 10.0) -> int:
        """Tokens llama.cpp has generated in this process, by its own counter, once no
        request is in progress (the counter moves when a request ends)."""
        deadline = time.monotonic() + timeout
        while True:
            metrics = self._server.handle_metrics()
            busy = re.search(r"^llamacpp:requests_processing (\S+)", metrics, re.M)
            if not busy or float(busy.group(1)) == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.01)
        found = re.search(r"^llamacpp:tokens_predicted_total (\S+)", metrics, re.M)
        return int(float(found.group(1))) if found else 0

    def generate(
        self,
        messages: Sequence[Message],
        *,
        max_tokens: int,
        params: SamplingParams,
        stop: threading.Event,
        stats: GenerationStats,
        emit: Emit,
        reuse_prompt: bool = True,
    ) -> None:
        """Call `emit(token id, text)` per generated token, in this thread, until a stop
        token, `max_tokens`, or the first token after `stop` is set (then llama.cpp is
        told to stop: no more are computed). When the conversation does not fit, the
        oldest turns are dropped (never a leading system turn or the last message).

        `reuse_prompt` keeps the KV cache of the previous request's common prefix, so a
        long chat's next turn costs only its new tokens. The reused part was computed in
        other batch sizes, which rounds differently: greedy output can then drift from a
        fresh run's after some tokens, so exactness tests turn it off."""
        msgs = list(messages)
        head = [msgs.pop(0)] if msgs and msgs[0][0] == "system" else []
        while True:
            if stop.is_set():
                stats.finish = "cancelled"
                return
            error = self._request(head + msgs, max_tokens, params, stop, stats, emit, reuse_prompt)
            if error is None:
                return
            if error.get("type") != "exceed_context_size_error":
                raise GenerationError(str(error.get("message") or error))
            if len(msgs) <= 1:
                raise PromptTooLong(
                    int(error.get("n_prompt_tokens", 0)), int(error.get("n_ctx", 0))
                )
            msgs.pop(0)
            while len(msgs) > 1 and msgs[0][0] == "assistant":  # no orphaned reply first
                msgs.pop(0)
            stats.dropped_messages += 1

    def _request(
        self,
        messages: list[Message],
        max_tokens: int,
        params: SamplingParams,
        stop: threading.Event,
        stats: GenerationStats,
        emit: Emit,
        reuse_prompt: bool,
    ) -> dict[str, Any] | None:
        body: dict[str, Any] = {
            "messages": [{"role": r, "content": c} for r, c in messages],
            "max_tokens": max_tokens,
            "temperature": params.temperature,
            "top_p": params.top_p,
            "repeat_penalty": params.repeat_penalty,
            "cache_prompt": reuse_prompt,
            "stream": True,
            "stream_options": {"include_usage": True},
            "logprobs": True,  # the only way the chunks carry token ids
            "top_logprobs": 1,
        }
        if params.seed is not None:
            body["seed"] = params.seed
        failure: list[dict[str, Any]] = []

        def on_chunk(chunk: dict[str, Any]) -> bool:
            if "error" in chunk or "code" in chunk:
                failure.append(chunk.get("error", chunk))
                return True
            if usage := chunk.get("usage"):
                stats.prompt_tokens = int(usage.get("prompt_tokens", stats.prompt_tokens))
            for choice in chunk.get("choices") or ():
                text = (choice.get("delta") or {}).get("content") or ""
                entries = ((choice.get("logprobs") or {}).get("content")) or []
                for i, entry in enumerate(entries):
                    if stop.is_set():
                        stats.finish = "cancelled"
                        return True
                    stats.generated += 1
                    emit(entry.get("id"), text if i == 0 else "")
                if not entries and text:
                    emit(None, text)
                if reason := choice.get("finish_reason"):
                    stats.finish = "length" if reason == "length" else "stop"
            if stop.is_set():
                stats.finish = "cancelled"
                return True
            return False

        self._server.handle_chat_completions(body, on_chunk)
        if failure:
            return failure[0]
        if not stats.finish:
            stats.finish = "cancelled" if stop.is_set() else "stop"
        return None


#: Models kept loaded: two, so compare mode's two sides (or switching back and forth)
#: do not reload, while switching through a folder of models does not pile them up in
#: memory. A model still generating stays alive until it is done (its caller holds it).
MAX_LOADED = 2
_models: dict[tuple[str, int, int], XllamaModel] = {}  # oldest use first
_models_lock = threading.Lock()


def get_model(path: str | os.PathLike[str], threads: int | None = None) -> XllamaModel:
    """The shared model for `path`, loaded on first use (call from a worker thread)."""
    path = Path(path)
    if not path.is_file():
        raise ModelLoadError(f"The local model file {path} does not exist.")
    threads = threads or default_threads()
    key = (str(path.resolve()), threads, context_length(0))
    with _models_lock:
        model = _models.pop(key, None)
        if model is None:
            model = XllamaModel(read_chat_model_info(path), threads)
        _models[key] = model
        while len(_models) > MAX_LOADED:
            del _models[next(iter(_models))]
        return model
