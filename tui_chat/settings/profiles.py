"""Named profiles from `config.toml` in the user's config directory.

A profile names the *environment variable* that holds its key (`api_key_env`), never
the key itself, so the config file is safe to share or commit.

Precedence, lowest first: built-in defaults, `default_profile`, `.env` and the
environment, a profile chosen with `--profile`, then flags. An explicit choice beats
an ambient one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from tui_chat.settings.config import (
    APIS,
    KEYED_APIS,
    ConfigError,
    Settings,
    base_url_problem,
    origin,
)
from tui_chat.settings.paths import config_path

__all__ = ["ConfigError", "ConfigFile", "Profile", "config_path", "load_config"]

KNOWN_KEYS = {"api", "base_url", "model", "system", "temperature", "api_key_env", "local_model"}


@dataclass(frozen=True, slots=True)
class Profile:
    """One `[profiles.NAME]` table of the config file; None where it leaves the setting alone."""

    name: str
    api: str | None = None
    base_url: str | None = None
    model: str | None = None
    system: str | None = None
    temperature: float | None = None
    api_key_env: str | None = None
    #: A chat GGUF for the local provider (absolute: a relative one is read from the
    #: config file's folder); implies api = "local".
    local_model: Path | None = None

    def settings_changes(self, env: Mapping[str, str]) -> dict[str, object]:
        """The Settings fields this profile sets (the key read from its variable)."""
        changes: dict[str, object] = {
            name: value
            for name in ("api", "base_url", "model", "system", "temperature")
            if (value := getattr(self, name)) is not None
        }
        if self.api is not None:
            changes["api_defaulted"] = False
        if self.local_model is not None:
            changes["local_model"] = self.local_model
            changes.setdefault("api", "local")
            changes["api_defaulted"] = False
            changes.setdefault("model", self.local_model.name)
        if "model" in changes:
            changes["model_defaulted"] = False
        if self.api_key_env:
            changes["api_key"] = env.get(self.api_key_env) or None
            changes["api_key_env"] = self.api_key_env
            if source := origin(env, self.api_key_env):
                changes["api_key_from"] = source
        elif self.base_url is not None:
            # A server of its own and no key named: OPENAI_API_KEY is not sent there.
            changes["api_key"] = None
            changes["api_key_env"] = ""
        return changes


@dataclass(frozen=True, slots=True)
class ConfigFile:
    """The config file as read: its profiles, and which one applies by default."""

    path: Path | None = None
    default_profile: str | None = None
    profiles: dict[str, Profile] = field(default_factory=dict)

    def profile(self, name: str) -> Profile:
        try:
            return self.profiles[name]
        except KeyError:
            known = ", ".join(sorted(self.profiles)) or "none defined"
            where = f" in {self.path}" if self.path else ""
            raise ConfigError(f"unknown profile {name!r}{where} (profiles: {known})") from None

    def check_key(self, profile: Profile, settings: Settings) -> None:
        """Fail at start-up when `profile` names a key variable that is not set and the
        settings it led to need a key: the first request would only say "No API key"."""
        if not profile.api_key_env or settings.api_key or settings.key_withheld:
            return
        if settings.replay is not None or (
            settings.api not in KEYED_APIS and not settings.api_defaulted
        ):
            return  # chosen to run without a key (local, backend); a default is no choice
        where = f" in {self.path}" if self.path else ""
        raise ConfigError(
            f"profile {profile.name!r}{where} takes its key from {profile.api_key_env}, "
            "which is not set (in the environment or ./.env)"
        )


def load_config(path: Path | None = None) -> ConfigFile:
    """Read and check the config file; a missing file is an empty config."""
    path = path or config_path()
    if not path.is_file():
        return ConfigFile(path=None)
    import tomllib  # only with a config file: not every start reads one

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: {error}") from None
    raw_profiles = data.get("profiles", {})
    if not isinstance(raw_profiles, dict):
        raise ConfigError(f"{path}: [profiles] must be a table of tables")
    profiles = {name: _profile(path, name, body) for name, body in raw_profiles.items()}
    default = data.get("default_profile")
    if default is not None and not isinstance(default, str):
        raise ConfigError(f"{path}: default_profile must be a profile name in quotes")
    if default is not None and default not in profiles:
        raise ConfigError(f"{path}: default_profile {default!r} is not a defined profile")
    return ConfigFile(path=path, default_profile=default, profiles=profiles)


def _profile(path: Path, name: str, body: object) -> Profile:
    where = f"{path}: profile {name!r}"
    if not isinstance(body, dict):
        raise ConfigError(f"{where} must be a table")
    if "api_key" in body:
        raise ConfigError(
            f"{where} contains api_key: put the key in an environment variable "
            "and name that variable in api_key_env instead"
        )
    unknown = set(body) - KNOWN_KEYS
    if unknown:
        raise ConfigError(f"{where}: unknown setting(s) {', '.join(sorted(unknown))}")
    api = body.get("api")
    if api is not None and api not in APIS:
        raise ConfigError(f"{where}: api must be one of {', '.join(APIS)}")
    for text_key in ("base_url", "model", "system", "api_key_env", "local_model"):
        if text_key in body and not isinstance(body[text_key], str):
            raise ConfigError(f"{where}: {text_key} must be a string")
    if isinstance(url := body.get("base_url"), str) and (problem := base_url_problem(url)):
        raise ConfigError(f"{where}: base_url is not a usable URL: {problem}")
    local_model = None
    if isinstance(raw_model := body.get("local_model"), str):
        if api not in (None, "local"):
            raise ConfigError(f'{where}: local_model runs with api = "local", not {api!r}')
        local_model = path.parent / Path(raw_model).expanduser()
    temperature = body.get("temperature")
    if temperature is not None and (
        isinstance(temperature, bool)
        or not isinstance(temperature, int | float)
        or not 0 <= temperature <= 2
    ):
        raise ConfigError(f"{where}: temperature must be a number from 0 to 2")
    return Profile(
        name=name,
        api=api,
        base_url=body.get("base_url"),
        model=body.get("model"),
        system=body.get("system"),
        temperature=float(temperature) if temperature is not None else None,
        api_key_env=body.get("api_key_env"),
        local_model=local_model,
    )
