"""`--local-model PATH` and the profile key `local_model`: any chat GGUF, with its own
chat template; a file that cannot run is one line and exit 2 at start-up."""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

import pytest

from tui_chat.cli import build_parser, main, resolve_settings
from tui_chat.core.protocol import ChatMessage, ChatRequest
from tui_chat.providers.local import LocalProvider
from tui_chat.settings.profiles import load_config

from .conftest import requires_xllamacpp
from .gguf_files import write_gguf
from stream_helpers import collect

#: The bundled model's template, minus its default system turn, padded to the same
#: length so no tensor offset moves.
NO_SYSTEM_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{{ message['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def one_line_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("tui-chat: error: "), err
    return err


@pytest.fixture(scope="module")
def own_template_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the bundled GGUF whose chat template adds no system turn."""
    from tui_chat.local_model.common import locate_model_file
    from tui_chat.local_model.gguf_meta import read_chat_model_info

    source = locate_model_file()
    old = read_chat_model_info(source).chat_template.encode()
    new = NO_SYSTEM_TEMPLATE.encode()
    pad = len(old) - len(new) - len(b"{##}")
    assert pad >= 0
    new += b"{#" + b" " * pad + b"#}"
    copy = tmp_path_factory.mktemp("models") / "no-system-chat.gguf"
    shutil.copyfile(source, copy)
    data = bytearray(copy.read_bytes())
    at = data.index(old)
    data[at : at + len(old)] = new
    copy.write_bytes(bytes(data))
    return copy


def test_a_missing_local_model_is_one_line_and_exit_2(tmp_path, capsys) -> None:
    missing = tmp_path / "gone.gguf"
    err = one_line_exit_2(["ask", "--local-model", str(missing), "hi"], capsys)
    assert str(missing) in err and "does not exist" in err


def test_a_directory_as_the_local_model_is_one_line_and_exit_2(tmp_path, capsys) -> None:
    err = one_line_exit_2(["ask", "--local-model", str(tmp_path), "hi"], capsys)
    assert "is a directory" in err


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file")
def test_an_unreadable_local_model_is_one_line_and_exit_2(tmp_path, capsys) -> None:
    locked = write_gguf(tmp_path / "locked.gguf", {"tokenizer.chat_template": "x"})
    locked.chmod(0)
    err = one_line_exit_2(["ask", "--local-model", str(locked), "hi"], capsys)
    assert "Cannot read" in err


def test_a_file_that_is_not_a_gguf_is_a_clear_error_at_start(tmp_path, capsys) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("hello\n")
    err = one_line_exit_2(["ask", "--local-model", str(notes), "hi"], capsys)
    assert "is not a GGUF model file" in err


def test_a_gguf_without_a_chat_template_is_a_clear_error_at_start(tmp_path, capsys) -> None:
    base = write_gguf(tmp_path / "base.gguf", {"general.architecture": "llama"})
    err = one_line_exit_2(["--local-model", str(base)], capsys)
    assert "has no chat template" in err and str(base) in err


def test_the_flag_chooses_the_local_provider_and_names_the_file(tmp_path) -> None:
    model = write_gguf(tmp_path / "my-chat.Q4_K_M.gguf", {"tokenizer.chat_template": "x"})
    args = build_parser()["ask"].parse_args(["--local-model", str(model), "hi"])
    settings = resolve_settings(args, {}, load_config())
    assert settings.api == "local" and settings.local_model == model
    assert settings.model == "my-chat.Q4_K_M.gguf"
    assert LocalProvider(settings).model_path == model


def test_a_profile_names_its_local_model_beside_the_config_file(capsys) -> None:
    config = Path(os.environ["XDG_CONFIG_HOME"]) / "tui-chat" / "config.toml"
    config.parent.mkdir(parents=True)
    write_gguf(config.parent / "mine.gguf", {"tokenizer.chat_template": "x"})
    config.write_text(
        '[profiles.mine]\nlocal_model = "mine.gguf"\n[profiles.gone]\nlocal_model = "gone.gguf"\n'
    )
    args = build_parser()["ask"].parse_args(["--profile", "mine", "hi"])
    settings = resolve_settings(args, {}, load_config())
    assert settings.api == "local" and settings.local_model == config.parent / "mine.gguf"
    err = one_line_exit_2(["ask", "--profile", "gone", "hi"], capsys)
    assert str(config.parent / "gone.gguf") in err


def test_a_profile_with_a_local_model_and_another_api_is_refused(capsys) -> None:
    config = Path(os.environ["XDG_CONFIG_HOME"]) / "tui-chat" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text('[profiles.odd]\napi = "chat"\nlocal_model = "m.gguf"\n')
    err = one_line_exit_2(["ask", "--profile", "odd", "hi"], capsys)
    assert "local_model" in err and '"local"' in err


@requires_xllamacpp
async def test_the_model_runs_with_its_own_chat_template(own_template_model) -> None:
    request = ChatRequest(messages=(ChatMessage("user", "Hi"),), model="m", max_tokens=4)
    bundled = await collect(LocalProvider(reuse_prompt=False), request)
    own = await collect(LocalProvider(model_path=own_template_model), request)
    # The bundled template's default system turn is 21 tokens; this one has none.
    assert bundled.done.usage.input_tokens - own.done.usage.input_tokens == 21


@requires_xllamacpp
def test_ask_with_the_flag_prints_the_models_reply(own_template_model, capsys, monkeypatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    code = main(["ask", "--local-model", str(own_template_model), "--temperature", "0", "Say hi"])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert out.out.strip()
