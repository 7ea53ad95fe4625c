"""Settings: `.env` in the working directory, then the environment, then flags.

The API key lives only in `Settings.api_key`, which is excluded from `repr` so it
can never leak into a log line or a traceback.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from dotenv import load_dotenv

APIS = ("responses", "chat", "backend", "local")
DEFAULT_API = "responses"
DEFAULT_MODEL = "gpt-4o-mini"
DEFAULT_BACKEND_URL = "http://127.0.0.1:8000"


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
    #: True when no --api / TUI_CHAT_API chose the provider (the app may then pick one).
    api_defaulted: bool = False

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]


def load_dotenv_file(cwd: Path | None = None) -> None:
    """Read `.env` from the working directory; real environment variables win."""
    path = (cwd or Path.cwd()) / ".env"
    if path.is_file():
        load_dotenv(path, override=False)


def settings_from_env(env: os._Environ[str] | dict[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    api = env.get("TUI_CHAT_API") or None
    return Settings(
        api=api or DEFAULT_API,
        api_defaulted=api is None,
        model=env.get("TUI_CHAT_MODEL") or DEFAULT_MODEL,
        base_url=env.get("OPENAI_BASE_URL") or None,
        api_key=env.get("OPENAI_API_KEY") or None,
    )
