"""Switch model on the local provider: the local models this machine can run, each a
file; choosing one runs the next reply on it."""

from __future__ import annotations

from pathlib import Path

from textual.command import CommandList, CommandPalette
from ui.app_factory import make_app, wait_for

from tui_chat.local_model.catalog import runnable_models
from tui_chat.providers.local import LocalProvider
from tui_chat.settings.config import LOCAL_MODEL

from .conftest import HAVE_MODEL
from .gguf_files import write_gguf

CHATML = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
)


def models_folder(tmp_path: Path) -> dict[str, Path]:
    llama = {"general.architecture": "llama", "tokenizer.chat_template": CHATML}
    return {
        "current": write_gguf(tmp_path / "current-chat.gguf", llama),
        "other": write_gguf(tmp_path / "other-chat.gguf", llama),
        "base": write_gguf(tmp_path / "base-model.gguf", {"general.architecture": "llama"}),
        "notes": _text(tmp_path / "notes.gguf"),
    }


def _text(path: Path) -> Path:
    path.write_text("not a model\n")
    return path


def test_the_runnable_models_are_the_bundled_one_and_chat_ggufs_beside_the_current(
    tmp_path,
) -> None:
    files = models_folder(tmp_path)
    labels = [c.label for c in runnable_models(files["current"])]
    expected = ["current-chat.gguf", "other-chat.gguf"]
    assert labels == ([LOCAL_MODEL] if HAVE_MODEL else []) + expected


async def test_switch_model_on_the_local_provider_offers_only_models_it_can_run(
    tmp_path,
) -> None:
    files = models_folder(tmp_path)
    app = make_app(api="local", local_model=files["current"], model="current-chat.gguf")
    async with app.run_test() as pilot:
        app.chat.action_switch_model()
        await wait_for(
            pilot,
            lambda: isinstance(app.screen, CommandPalette) and bool(app.screen.query(CommandList)),
        )
        listing = app.screen.query_one(CommandList)
        await wait_for(pilot, lambda: listing.option_count >= 3)
        shown = [str(listing.get_option_at_index(i).prompt) for i in range(listing.option_count)]
        assert any("other-chat.gguf" in p for p in shown)
        assert not any("base-model" in p or "notes" in p for p in shown)
        assert any("Open a GGUF file" in p for p in shown)
        await pilot.press(*"other-chat")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.chat.settings.local_model == files["other"])
        assert app.chat.settings.model == "other-chat.gguf"
        provider = app.chat.provider
        assert isinstance(provider, LocalProvider) and provider.model_path == files["other"]
        assert "other-chat.gguf" in str(app.query_one("#status").render())
