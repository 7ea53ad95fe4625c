"""The embedded local model (`--api local`): SmolLM2-135M or any chat GGUF, offline.

The model runs in a worker thread (loading it takes a few tenths of a second, every
token about 8 ms on llama.cpp), and hands text back to the event loop through an
asyncio queue with `loop.call_soon_threadsafe`. When the consumer stops iterating or its
task is cancelled, a `threading.Event` tells the thread to stop; it checks it after every
token, so at most one more token is computed. The model is loaded on the first request
(never at import) and shared by every provider in the process; see
`tui_chat.local_model.engine` for the two engines (xllamacpp, NumPy) and when each runs.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import AsyncIterator
from contextlib import closing
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tui_chat.core.protocol import (
    ChatRequest,
    Done,
    Event,
    ProviderError,
    TextDelta,
    Usage,
    WireEvent,
    WireTap,
)
from tui_chat.settings.config import LOCAL_MODEL

if TYPE_CHECKING:
    from tui_chat.local_model.common import GenerationStats
    from tui_chat.local_model.engine import LocalEngine
    from tui_chat.local_model.xllama import XllamaModel
    from tui_chat.settings.config import Settings

#: What the UI can show as the model name.
LOCAL_MODEL_LABEL = LOCAL_MODEL
DEFAULT_MAX_TOKENS = 512
DEFAULT_TEMPERATURE = 0.5
DEFAULT_TOP_P = 0.9
DEFAULT_REPEAT_PENALTY = 1.15


@dataclass(slots=True, eq=False)
class LocalRun:
    """One request's generation thread, as far as the provider (and tests) see it."""

    stop: threading.Event = field(default_factory=threading.Event)
    finished: threading.Event = field(default_factory=threading.Event)
    stats: GenerationStats | None = None
    #: `stats.generated` at the moment the consumer went away (None if it never did).
    generated_at_cancel: int | None = None
    #: When the request was made and when the model was done with it (`time.monotonic`).
    started_at: float = field(default_factory=time.monotonic)
    ended_at: float | None = None

    def cancel(self) -> None:
        if not self.stop.is_set():
            self.generated_at_cancel = self.stats.generated if self.stats else 0
            self.stop.set()


class LocalProvider:
    name = "local"

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        backend: str | None = None,
        model_path: str | os.PathLike[str] | None = None,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        temperature: float = DEFAULT_TEMPERATURE,
        top_p: float = DEFAULT_TOP_P,
        repeat_penalty: float = DEFAULT_REPEAT_PENALTY,
        seed: int | None = None,
        reuse_prompt: bool = True,
    ) -> None:
        """`reuse_prompt=False` makes llama.cpp evaluate every prompt afresh: slower for a
        long chat, but the same prompt then always gives the same greedy reply (see
        `XllamaModel.generate`)."""
        if settings is not None and settings.temperature is not None:
            temperature = settings.temperature
        if settings is not None and model_path is None:
            model_path = settings.local_model
        self.backend = backend
        self.model_path = model_path
        self.max_tokens = max_tokens
        self.temperature = temperature
        self.top_p = top_p
        self.repeat_penalty = repeat_penalty
        self.seed = seed
        self.reuse_prompt = reuse_prompt
        self.label = LOCAL_MODEL_LABEL
        #: The most recent request's run (for diagnostics and tests).
        self.last_run: LocalRun | None = None
        self._runs: set[LocalRun] = set()

    def stream(self, request: ChatRequest, *, tap: WireTap | None = None) -> AsyncIterator[Event]:
        """With a `tap`, each generated token is reported as a "token" wire event
        (payload: its token_id and text) before its TextDelta; a non-streaming reply as one
        "response" event."""
        return self._events(request, tap)

    async def _events(self, request: ChatRequest, tap: WireTap | None) -> AsyncIterator[Event]:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        run = self.last_run = LocalRun()
        self._runs.add(run)
        thread = threading.Thread(
            target=self._work, args=(request, loop, queue, run), name="tui-chat-local", daemon=True
        )
        thread.start()
        received: list[str] = []
        tokens: list[int] = []
        try:
            while True:
                kind, value = await queue.get()
                if kind == "token":
                    token, text = value
                    received.append(text)
                    if token is not None:
                        tokens.append(token)
                    if request.stream:
                        if tap is not None:
                            payload = {"token_id": token, "text": text}
                            tap(WireEvent("local", "token", payload, time.monotonic(), text))
                        if text:
                            yield TextDelta(text)
                elif kind == "done":
                    whole = "".join(received)
                    if not request.stream:
                        if tap is not None:
                            payload = {"token_ids": tokens, "text": whole}
                            tap(WireEvent("local", "response", payload, time.monotonic(), whole))
                        if whole:
                            yield TextDelta(whole)
                    yield Done(usage=value)
                    return
                else:
                    value.partial = "".join(received)
                    raise value
        finally:
            run.cancel()  # no-op when the thread already finished
            self._runs.discard(run)

    def _work(
        self,
        request: ChatRequest,
        loop: asyncio.AbstractEventLoop,
        queue: asyncio.Queue[tuple[str, Any]],
        run: LocalRun,
    ) -> None:
        def post(kind: str, value: object) -> None:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, (kind, value))
            except RuntimeError:  # the event loop is gone: nobody is listening any more
                run.stop.set()

        try:
            from tui_chat.local_model.common import GenerationStats, ModelLoadError, SamplingParams
            from tui_chat.local_model.xllama import XllamaModel

            run.stats = stats = GenerationStats()
            try:
                engine = self._engine()
            except ModelLoadError as exc:
                post("error", ProviderError(str(exc), kind="model"))
                return
            params = SamplingParams(
                temperature=self.temperature
                if request.temperature is None
                else request.temperature,
                top_p=self.top_p,
                repeat_penalty=self.repeat_penalty,
                seed=self.seed,
            )
            max_tokens = max(1, request.max_tokens or self.max_tokens)
            messages = _messages(request)
            if isinstance(engine, XllamaModel):
                engine.generate(
                    messages,
                    max_tokens=max_tokens,
                    params=params,
                    stop=run.stop,
                    stats=stats,
                    emit=lambda token, text: post("token", (token, text)),
                    reuse_prompt=self.reuse_prompt,
                )
            else:
                pieces = engine.generate(
                    messages, max_tokens=max_tokens, params=params, stop=run.stop, stats=stats
                )
                with closing(pieces):
                    for token_and_text in pieces:
                        if run.stop.is_set():
                            break
                        post("token", token_and_text)
            run.ended_at = time.monotonic()
            post("done", Usage(input_tokens=stats.prompt_tokens, output_tokens=stats.generated))
        except Exception as exc:
            post("error", _as_provider_error(exc))
        finally:
            run.ended_at = run.ended_at or time.monotonic()
            run.finished.set()

    def _engine(self) -> LocalEngine | XllamaModel:
        """The shared engine this provider runs on (loaded on first use, in this thread)."""
        from tui_chat.local_model.common import (
            BACKEND_ENV,
            ModelLoadError,
            choose_backend,
            locate_model_file,
        )

        path = self.model_path if self.model_path is not None else locate_model_file()
        if choose_backend(self.backend) == "numpy":
            from tui_chat.local_model.engine import get_engine
            from tui_chat.local_model.gguf_meta import read_chat_model_info

            read_chat_model_info(path)  # a clear error for a file that is no chat model
            return get_engine(path)
        from tui_chat.local_model.xllama import get_model

        try:
            return get_model(path)
        except (ImportError, OSError) as exc:  # installed, but its library will not load
            if self.backend or os.environ.get(BACKEND_ENV):
                raise ModelLoadError(f"xllamacpp is installed but does not load: {exc}") from exc
            from tui_chat.local_model.engine import get_engine

            return get_engine(path)

    async def aclose(self) -> None:
        """Stop any generation still running (the shared model stays loaded)."""
        for run in list(self._runs):
            run.cancel()


def _messages(request: ChatRequest) -> list[tuple[str, str]]:
    """The conversation as (role, content); `request.system` replaces a leading system turn."""
    msgs = [(m.role, m.content) for m in request.messages]
    if request.system:
        if msgs and msgs[0][0] == "system":
            msgs = msgs[1:]
        msgs.insert(0, ("system", request.system))
    return msgs


def _as_provider_error(exc: Exception) -> ProviderError:
    from tui_chat.local_model.common import ModelLoadError, PromptTooLong

    if isinstance(exc, PromptTooLong):
        return ProviderError(
            f"The conversation is too long for the local model: the last message alone needs"
            f" {exc.needed} tokens, and at most {exc.limit} fit. Shorten it or start a new chat.",
            kind="bad_request",
        )
    if isinstance(exc, ModelLoadError):
        return ProviderError(str(exc), kind="model")
    if isinstance(exc, MemoryError):
        return ProviderError(
            "Not enough memory for the local model (it needs about 600 MB).", kind="model"
        )
    return ProviderError(f"The local model failed: {type(exc).__name__}: {exc}", kind="model")
