"""Providers: one wire protocol each, all speaking the event stream of `base`.

`make_provider` picks one from the settings. Provider modules are imported only when
chosen, so the backend and the local model never pay for importing the openai SDK; the
OpenAI ones import it on a thread (`prepare()`), not while the app draws its first frame.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from tui_chat.core.protocol import (
    ChatMessage,
    ChatRequest,
    Done,
    ErrorKind,
    Event,
    Provider,
    ProviderError,
    Retrying,
    Role,
    TextDelta,
    Usage,
    WireEvent,
    WireTap,
    tee,
)

if TYPE_CHECKING:
    from tui_chat.providers.backend import BackendProvider
    from tui_chat.providers.chat_completions import ChatCompletionsProvider
    from tui_chat.providers.responses import ResponsesProvider
    from tui_chat.recordings.replay import ReplayProvider
    from tui_chat.settings.config import Settings

__all__ = [
    "BackendProvider",
    "ChatCompletionsProvider",
    "ChatMessage",
    "ChatRequest",
    "Done",
    "ErrorKind",
    "Event",
    "Provider",
    "ProviderError",
    "ReplayProvider",
    "ResponsesProvider",
    "Retrying",
    "Role",
    "TextDelta",
    "Usage",
    "WireEvent",
    "WireTap",
    "make_provider",
    "request_sent",
    "tee",
]

#: Set, in the context a reply runs in, to be called once its request is on the wire
#: (the body written to the socket). The chat draws its widgets for a reply only after
#: that, so the request never waits behind the UI. Providers that cannot tell (the
#: backend, the local model, a replay) never call it; `tells_when_sent` says which do.
request_sent: ContextVar[Callable[[], None] | None] = ContextVar("request_sent", default=None)


def tells_when_sent(provider: object) -> bool:
    """Whether `provider` calls `request_sent` (so waiting for it is worth it)."""
    return bool(getattr(provider, "tells_when_sent", False))


_LAZY = {
    "ResponsesProvider": "tui_chat.providers.responses",
    "ChatCompletionsProvider": "tui_chat.providers.chat_completions",
    "BackendProvider": "tui_chat.providers.backend",
    "ReplayProvider": "tui_chat.recordings.replay",
}


def __getattr__(name: str) -> Any:
    """`from tui_chat.providers import ResponsesProvider` works, importing it on first use."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def make_provider(
    settings: Settings, *, timeout: float | None = None, max_retries: int = 2
) -> Provider:
    """The provider for `settings.api`.

    `timeout` is the idle timeout in seconds (no byte for that long fails the reply),
    `settings.timeout` (`--timeout`) unless given; `max_retries` is how often a 429 or
    5xx before any text is tried again. A replay file (`--replay`) wins over any
    protocol: what was recorded is played back.
    """
    if timeout is None:
        timeout = settings.timeout
    api = settings.api
    if api == "replay" or settings.replay is not None:
        from tui_chat.recordings.replay import ReplayProvider

        if settings.replay is None:
            raise ValueError("The replay provider needs a recording: pass --replay FILE.jsonl.")
        return ReplayProvider(settings.replay, speed=settings.speed)
    if api == "responses":
        from tui_chat.providers.responses import ResponsesProvider

        return ResponsesProvider(
            api_key=settings.api_key,
            base_url=settings.base_url,
            timeout=timeout,
            max_retries=max_retries,
            key_variable=settings.api_key_env,
        )
    if api == "chat":
        from tui_chat.providers.chat_completions import ChatCompletionsProvider

        return ChatCompletionsProvider(
            api_key=settings.api_key,
            base_url=settings.base_url,
            timeout=timeout,
            max_retries=max_retries,
            key_variable=settings.api_key_env,
        )
    if api == "backend":
        from tui_chat.providers.backend import BackendProvider

        return BackendProvider(settings.base_url, timeout=timeout, max_retries=max_retries)
    if api == "local":
        # The embedded model (another module, no network): imported only when chosen.
        from tui_chat.providers.local import LocalProvider  # type: ignore[import-not-found]

        return LocalProvider(settings)
    from tui_chat.settings.config import APIS

    raise ValueError(f"Unknown API {api!r}: choose one of {', '.join(APIS)}.")
