"""The command line: flags, precedence (.env < environment < flags), one-line errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tui_chat.cli import build_parser, compare_contenders, resolve_settings, settings_from_args
from tui_chat.settings.config import LOCAL_MODEL, Settings, load_environment, settings_from_env
from tui_chat.settings.profiles import ConfigFile, load_config


def run_cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "TUI_CHAT_"))}
    return subprocess.run(
        [sys.executable, "-m", "tui_chat", *args],
        cwd=cwd,
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--api", "nope"], "invalid choice: 'nope'"),
        (["--base-url", "localhost:8000"], "invalid URL"),
        (["--model", ""], "must not be empty"),
        (["--temperature", "hot"], "is not a number"),
        (["--frobnicate"], "unrecognized arguments"),
        (["--resume", "abc"], "is not a conversation ID"),
    ],
)
def test_bad_flag_is_one_line_with_status_2(tmp_path: Path, args: list[str], needle: str) -> None:
    result = run_cli(*args, cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert needle in lines[0]
    assert "Traceback" not in result.stderr


def test_flags_override_environment() -> None:
    env = {
        "TUI_CHAT_API": "chat",
        "TUI_CHAT_MODEL": "env-model",
        "OPENAI_BASE_URL": "http://env:1/v1",
    }
    args = build_parser()["chat"].parse_args(
        ["--model", "flag-model", "--no-stream", "--no-history", "--system", "be brief"]
    )
    settings = settings_from_args(args, settings_from_env(env))
    assert settings.api == "chat"
    assert settings.model == "flag-model"
    assert settings.base_url == "http://env:1/v1"
    assert settings.stream is False and settings.history is False
    assert settings.system == "be brief"


def test_api_flag_marks_choice_explicit() -> None:
    assert settings_from_env({}).api_defaulted is True
    args = build_parser()["chat"].parse_args(["--api", "backend"])
    settings = settings_from_args(args, settings_from_env({}))
    assert settings.api == "backend" and settings.api_defaulted is False


def test_dotenv_never_overrides_real_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text("TUI_CHAT_MODEL=from-dotenv\nTUI_CHAT_API=backend\n")
    monkeypatch.setenv("TUI_CHAT_MODEL", "from-env")
    monkeypatch.delenv("TUI_CHAT_API", raising=False)
    settings = settings_from_env(load_environment(tmp_path))
    assert settings.model == "from-env"
    assert settings.api == "backend"
    assert "TUI_CHAT_API" not in os.environ  # read, never merged into the process


def test_settings_repr_never_shows_the_key() -> None:
    settings = Settings(api_key="sk-secret-123")
    assert "sk-secret-123" not in repr(settings)
    assert "sk-secret-123" not in str(settings)


def test_resume_errors_are_one_line(tmp_path: Path) -> None:
    env = {"XDG_DATA_HOME": str(tmp_path / "data"), "XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    nothing = run_cli("--resume", cwd=tmp_path, env=env)
    assert nothing.returncode == 2 and "no saved conversations" in nothing.stderr
    unknown = run_cli("--resume", "99", cwd=tmp_path, env=env)
    assert unknown.returncode == 2 and "no conversation 99" in unknown.stderr
    both = run_cli("--resume", "--no-history", cwd=tmp_path, env=env)
    assert both.returncode == 2 and "--resume needs history" in both.stderr
    for result in (nothing, unknown, both):
        assert len(result.stderr.strip().splitlines()) == 1


def test_bad_environment_or_config_is_one_line_with_status_2(tmp_path: Path) -> None:
    bad_api = run_cli(cwd=tmp_path, env={"TUI_CHAT_API": "carrier-pigeon"})
    assert bad_api.returncode == 2 and "carrier-pigeon" in bad_api.stderr
    config_home = tmp_path / "cfg"
    (config_home / "tui-chat").mkdir(parents=True)
    (config_home / "tui-chat" / "config.toml").write_text("[profiles.x]\napi_key = 'sk-leak'\n")
    bad_config = run_cli(cwd=tmp_path, env={"XDG_CONFIG_HOME": str(config_home)})
    assert bad_config.returncode == 2 and "api_key_env" in bad_config.stderr
    assert "sk-leak" not in bad_config.stderr
    unknown = run_cli("--profile", "nope", cwd=tmp_path, env={"XDG_CONFIG_HOME": str(tmp_path)})
    assert unknown.returncode == 2 and "unknown profile 'nope'" in unknown.stderr
    for result in (bad_api, bad_config, unknown):
        assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_profiles_layer_between_environment_and_flags(tmp_path: Path) -> None:
    config = load_config_text(
        tmp_path,
        """
default_profile = "home"
[profiles.home]
model = "home-model"
system = "from home"
[profiles.work]
api = "chat"
model = "work-model"
api_key_env = "WORK_KEY"
""",
    )
    parse = build_parser()["chat"].parse_args
    env = {"TUI_CHAT_MODEL": "env-model", "OPENAI_API_KEY": "sk-default", "WORK_KEY": "sk-work"}
    ambient = resolve_settings(parse([]), env, config)
    assert (ambient.model, ambient.system, ambient.profile) == ("env-model", "from home", "home")
    assert ambient.api_key == "sk-default"
    work = resolve_settings(parse(["--profile", "work"]), env, config)
    assert (work.api, work.model, work.api_key) == ("chat", "work-model", "sk-work")
    flagged = resolve_settings(parse(["--profile", "work", "--model", "flag-model"]), env, config)
    assert flagged.model == "flag-model"


def load_config_text(tmp_path: Path, text: str) -> ConfigFile:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return load_config(path)


def test_compare_flags_build_two_contenders(tmp_path: Path) -> None:
    config = load_config_text(
        tmp_path, '[profiles.fast]\nmodel = "small"\n[profiles.slow]\nmodel = "big"\n'
    )
    parse = build_parser()["chat"].parse_args
    base = Settings(model="m")
    (left, ls), (right, rs) = compare_contenders(parse(["--compare"]), base, config, {})
    assert (left, ls.stream, right, rs.stream) == ("streaming", True, "non-streaming", False)
    (left, ls), (right, rs) = compare_contenders(
        parse(["--compare-models", "a", "b"]), base, config, {}
    )
    assert (ls.model, rs.model, ls.stream, rs.stream) == ("a", "b", True, True)
    (left, ls), (right, rs) = compare_contenders(
        parse(["--compare-profiles", "fast", "slow"]), base, config, {}
    )
    assert (left, ls.model, right, rs.model) == ("fast", "small", "slow", "big")
    assert compare_contenders(parse([]), base, config, {}) is None
    with pytest.raises(SystemExit):
        parse(["--compare", "--compare-models", "a", "b"])


@pytest.mark.parametrize(
    ("env", "argv", "api", "model"),
    [
        ({}, [], "local", "SmolLM2-135M (tiny local demo model)"),
        ({"TUI_CHAT_MODEL": "m"}, [], "local", "m"),
        ({}, ["--model", "mine"], "local", "mine"),
        ({"OPENAI_API_KEY": "sk-x"}, [], "responses", "gpt-4o-mini"),
        ({"OPENAI_BASE_URL": "http://127.0.0.1:9/v1"}, [], "responses", "gpt-4o-mini"),
        ({"OPENAI_API_KEY": "sk-x"}, ["--api", "local"], "local", LOCAL_MODEL),
        ({"TUI_CHAT_API": "backend"}, [], "backend", "gpt-4o-mini"),
        ({}, ["--api", "chat"], "chat", "gpt-4o-mini"),
    ],
)
def test_default_api_is_the_local_model_only_when_nothing_else_is_set(
    env: dict[str, str], argv: list[str], api: str, model: str
) -> None:
    settings = resolve_settings(build_parser()["chat"].parse_args(argv), env, ConfigFile())
    assert (settings.api, settings.model) == (api, model)


def test_auto_local_notice_says_what_runs_and_how_to_change_it() -> None:
    from tui_chat.settings.config import auto_choice_notice

    auto = resolve_settings(build_parser()["chat"].parse_args([]), {}, ConfigFile())
    notice = auto_choice_notice(auto)
    assert notice is not None and "local" in notice and "OPENAI_API_KEY" in notice
    assert len(notice) <= 78  # one line at 80 columns
    chosen = resolve_settings(
        build_parser()["chat"].parse_args(["--api", "local"]), {}, ConfigFile()
    )
    assert auto_choice_notice(chosen) is None


def test_a_replay_is_named_by_its_file_unless_a_model_was_given(tmp_path: Path) -> None:
    path = tmp_path / "demo.jsonl"
    path.write_text("")
    parse = build_parser()["chat"].parse_args
    settings = resolve_settings(parse(["--replay", str(path)]), {}, ConfigFile())
    assert (settings.api, settings.model) == ("replay", "demo.jsonl")
    settings = resolve_settings(parse(["--replay", str(path), "--model", "m"]), {}, ConfigFile())
    assert settings.model == "m"


def test_a_profile_with_its_own_server_and_no_key_variable_gets_no_key(tmp_path: Path) -> None:
    """OPENAI_API_KEY must not be sent to an Ollama (or anyone's) server by default."""
    config = load_config_text(
        tmp_path,
        """
default_profile = "ollama"
[profiles.ollama]
api = "chat"
base_url = "http://127.0.0.1:11434/v1"
[profiles.proxy]
api = "chat"
base_url = "https://proxy.example/v1"
api_key_env = "OPENAI_API_KEY"
""",
    )
    parse = build_parser()["chat"].parse_args
    env = {"OPENAI_API_KEY": "sk-default"}
    assert resolve_settings(parse([]), env, config).api_key is None
    assert resolve_settings(parse(["--profile", "proxy"]), env, config).api_key == "sk-default"


def test_serve_port_out_of_range_is_one_line_with_status_2(tmp_path: Path) -> None:
    result = run_cli("serve", "--port", "99999", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "not a port" in result.stderr


def one_line_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """Run `main`; it must end with status 2 and exactly one line on stderr."""
    from tui_chat.cli import main

    try:
        status = main(argv)
    except SystemExit as exit_:
        status = exit_.code  # type: ignore[assignment]
    err = capsys.readouterr().err
    assert status == 2, err
    assert len(err.splitlines()) == 1, err
    assert "Traceback" not in err and "ExceptionGroup" not in err
    return err


@pytest.mark.parametrize(
    ("url", "needle"),
    [
        ("http://127.0.0.1:99999/v1", "port"),
        ("http://127.0.0.1:abc/v1", "port"),
        ("http://127.0.0.1:0/v1", "port"),
        ("http://127.0.0.1:8000/v\x01", "control character"),
        ("http://exa\u202emple/v1", "control character"),
        ("http://:8000/v1", "host"),
    ],
)
def test_bad_base_url_flag_is_one_line_and_exit_2_at_start(
    url: str, needle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    err = one_line_exit_2(["ask", "--api", "chat", "--base-url", url, "hi"], capsys)
    assert "--base-url" in err and needle in err


@pytest.mark.parametrize("where", ["environment", "dotenv"])
def test_bad_openai_base_url_is_one_line_naming_the_variable(
    where: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    if where == "environment":
        monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:99999/v1")
    else:
        (tmp_path / ".env").write_text("OPENAI_BASE_URL=http://127.0.0.1:99999/v1\n")
    err = one_line_exit_2(["ask", "--api", "chat", "hi"], capsys)
    assert "OPENAI_BASE_URL" in err and "port" in err
    assert (".env" in err) == (where == "dotenv")


def test_bad_profile_base_url_is_one_line_naming_the_file(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = Path(os.environ["XDG_CONFIG_HOME"]) / "tui-chat" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text('[profiles.box]\nbase_url = "http://box:8000/v\\u0007"\n')
    err = one_line_exit_2(["ask", "--profile", "box", "hi"], capsys)
    assert str(config) in err and "'box'" in err and "base_url" in err


@pytest.mark.parametrize("value", ["[]", "{a=1}", "3"])
def test_default_profile_that_is_not_a_name_is_one_line_and_exit_2(
    value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    config = Path(os.environ["XDG_CONFIG_HOME"]) / "tui-chat" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text(f"default_profile = {value}\n[profiles.a]\n")
    err = one_line_exit_2(["ask", "hi"], capsys)
    assert str(config) in err and "default_profile" in err


def test_profile_key_variable_that_is_not_set_is_named_at_start(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-default")
    config = Path(os.environ["XDG_CONFIG_HOME"]) / "tui-chat" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text(
        '[profiles.work]\napi = "chat"\napi_key_env = "WORK_OPENAI_KEY"\n'
        '[profiles.plain]\napi_key_env = "WORK_OPENAI_KEY"\n'  # not the local model instead
    )
    for name in ("work", "plain"):
        err = one_line_exit_2(["ask", "--profile", name, "hi"], capsys)
        assert "WORK_OPENAI_KEY" in err and f"'{name}'" in err and str(config) in err
        assert "Set OPENAI_API_KEY" not in err
    chosen = resolve_settings(
        build_parser()["ask"].parse_args(["--profile", "work", "--api", "local", "hi"]),
        {},
        load_config(config),
    )
    assert chosen.api == "local"  # a protocol without a key needs none
