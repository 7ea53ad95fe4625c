"""Profiles in config.toml: validation, and that keys come only from named variables."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui_chat.settings.profiles import ConfigError, config_path, load_config


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_profiles_load_and_read_the_key_from_the_named_variable(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
default_profile = "local-ollama"

[profiles.local-ollama]
api = "chat"
base_url = "http://localhost:11434/v1"
model = "llama3.2"
temperature = 0.2

[profiles.work]
api = "responses"
model = "gpt-4o"
system = "Answer in French."
api_key_env = "WORK_OPENAI_KEY"
""",
    )
    config = load_config(path)
    assert config.default_profile == "local-ollama"
    assert config.profile("local-ollama").settings_changes({}) == {
        "api": "chat",
        "base_url": "http://localhost:11434/v1",
        "model": "llama3.2",
        "temperature": 0.2,
        "api_defaulted": False,
        "model_defaulted": False,
        "api_key": None,  # its own server and no key variable: OPENAI_API_KEY stays home
        "api_key_env": "",
    }
    work = config.profile("work").settings_changes({"WORK_OPENAI_KEY": "sk-work"})
    assert work["api_key"] == "sk-work" and work["api_key_env"] == "WORK_OPENAI_KEY"
    assert work["system"] == "Answer in French."


def test_missing_file_is_an_empty_config(tmp_path: Path) -> None:
    config = load_config(tmp_path / "nope.toml")
    assert config.profiles == {} and config.default_profile is None


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("[profiles.a]\napi_key = 'sk-oops'\n", "api_key_env"),
        ("[profiles.a]\napi = 'grpc'\n", "api must be one of"),
        ("[profiles.a]\ntemperature = 9\n", "temperature"),
        ("[profiles.a]\nmodle = 'x'\n", "unknown setting(s) modle"),
        ("default_profile = 'ghost'\n", "not a defined profile"),
        ("[profiles\n", "config.toml"),
    ],
)
def test_bad_config_names_the_file_and_the_fault(tmp_path: Path, text: str, needle: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text))
    assert needle in str(caught.value)
    assert "sk-oops" not in str(caught.value)


def test_unknown_profile_lists_the_known_ones(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "[profiles.a]\n[profiles.b]\n"))
    with pytest.raises(ConfigError, match=r"unknown profile 'c'.*profiles: a, b"):
        config.profile("c")


def test_config_lives_under_xdg_config_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert config_path() == tmp_path / "tui-chat" / "config.toml"


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("default_profile = []\n", "default_profile must be"),
        ("default_profile = {a = 1}\n", "default_profile must be"),
        ("[profiles.a]\nbase_url = 'http://a:99999/v1'\n", "base_url"),
        ("[profiles.a]\nbase_url = 'ftp://a/v1'\n", "base_url"),
        ('[profiles.a]\nbase_url = "http://a/v1\\u001b[2J"\n', "control character"),
    ],
)
def test_unusable_default_profile_or_base_url_is_a_config_error(
    tmp_path: Path, text: str, needle: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text))
    assert needle in str(caught.value) and "config.toml" in str(caught.value)
    assert "\x1b" not in str(caught.value)
