"""Keys and palette commands: help, copy (OSC 52), model/profile/system prompt switching, theme."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from textual.command import CommandPalette
from textual.geometry import Region
from textual.widgets import Input, Markdown

from tui_chat.settings.preferences import state_path
from tui_chat.settings.profiles import load_config
from tui_chat.ui.app import ChatApp
from tui_chat.ui.screens.dialogs import Confirm
from tui_chat.ui.screens.help import HelpScreen
from tui_chat.ui.widgets.conversation.message import UserMessage
from tui_chat.ui.widgets.status_line import StatusLine

from .app_factory import make_app, replies, send, wait_for
from fake_server import FakeLLMServer, Script


def record_terminal_writes(app: ChatApp) -> list[str]:
    """Keep what the app writes to its (headless) terminal driver."""
    written: list[str] = []
    assert app._driver is not None
    original = app._driver.write

    def write(data: str) -> None:
        written.append(data)
        original(data)

    app._driver.write = write  # type: ignore[method-assign]
    return written


async def test_f1_lists_every_key(fake_server: FakeLLMServer) -> None:
    app = make_app(fake_server)
    async with app.run_test() as pilot:
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        source = app.screen.query_one(Markdown).source
        for needle in ("Esc", "stop", "Ctrl+T", "Ctrl+J", "Ctrl+O", "Ctrl+N", "Ctrl+P", "F1"):
            assert needle.lower() in source.lower(), needle
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


@pytest.mark.parametrize("tmux", [False, True])
async def test_copy_last_reply_writes_osc52(
    fake_server: FakeLLMServer, monkeypatch: pytest.MonkeyPatch, tmux: bool
) -> None:
    if tmux:
        monkeypatch.setenv("TMUX", "/tmp/tmux-0/default,1,0")
    else:
        monkeypatch.delenv("TMUX", raising=False)
    fake_server.enqueue(Script(chunks=["copy ", "me ✓"]))
    app = make_app(fake_server)
    async with app.run_test() as pilot:
        await send(pilot, "hi")
        await wait_for(pilot, lambda: replies(app)[0].status == "complete")
        written = record_terminal_writes(app)
        await pilot.press("ctrl+o")
        payload = base64.b64encode("copy me ✓".encode()).decode()
        osc = f"\x1b]52;c;{payload}\x07"
        expected = "\x1bPtmux;" + osc.replace("\x1b", "\x1b\x1b") + "\x1b\\" if tmux else osc
        assert expected in written
        assert app.clipboard == "copy me ✓"


async def test_copy_a_chosen_code_block(fake_server: FakeLLMServer) -> None:
    reply = "Two ways:\n\n```python\nprint('one')\n```\n\nand\n\n```bash\necho two\n```\n"
    fake_server.enqueue(Script(chunks=[reply]))
    app = make_app(fake_server)
    async with app.run_test() as pilot:
        await send(pilot, "code please")
        await wait_for(pilot, lambda: replies(app)[0].status == "complete")
        app.chat.action_copy_code()
        await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"echo")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.clipboard == "echo two\n")


async def test_very_large_copy_offers_a_file(
    fake_server: FakeLLMServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    app = make_app(fake_server)
    big = "x" * 200_000
    async with app.run_test() as pilot:
        written = record_terminal_writes(app)
        app.chat.copy_text(big, "the reply")
        await wait_for(pilot, lambda: isinstance(app.screen, Confirm))
        await pilot.press("y")
        await wait_for(pilot, lambda: any(tmp_path.glob("tui-chat-copy-*.md")))
        (saved,) = tmp_path.glob("tui-chat-copy-*.md")
        assert saved.read_text() == big
        assert not any("\x1b]52" in w for w in written), "nothing that large goes to the terminal"


async def test_switch_model_from_the_servers_list_changes_the_next_request(
    fake_server: FakeLLMServer,
) -> None:
    app = make_app(fake_server)
    async with app.run_test() as pilot:
        app.chat.action_switch_model()
        await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette))
        models = [r.path for r in fake_server.requests]
        assert "/v1/models" in models
        await pilot.press(*"4o-mini")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.chat.settings.model == "gpt-4o-mini")
        assert "gpt-4o-mini" in str(app.query_one("#status").render())
        await send(pilot, "who are you?")
        await wait_for(pilot, lambda: replies(app)[0].status == "complete")
        assert fake_server.requests[-1].json["model"] == "gpt-4o-mini"


async def test_type_a_model_name_when_the_server_cannot_list(fake_server: FakeLLMServer) -> None:
    app = make_app(fake_server, api="backend")
    async with app.run_test() as pilot:
        app.chat.action_switch_model()
        await wait_for(pilot, lambda: bool(app.screen.query(Input)))
        app.screen.query_one(Input).value = "my-model"
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.chat.settings.model == "my-model")


async def test_system_prompt_from_the_palette_is_sent(fake_server: FakeLLMServer) -> None:
    app = make_app(fake_server)
    async with app.run_test() as pilot:
        app.chat.action_system_prompt()
        await wait_for(pilot, lambda: bool(app.screen.query(Input)))
        app.screen.query_one(Input).value = "Talk like a pirate."
        await pilot.press("enter")
        await send(pilot, "hello")
        await wait_for(pilot, lambda: replies(app)[0].status == "complete")
        assert fake_server.requests[-1].json["messages"][0] == {
            "role": "system",
            "content": "Talk like a pirate.",
        }


async def test_switch_profile_sends_the_next_request_with_its_protocol(
    fake_server: FakeLLMServer, tmp_path: Path
) -> None:
    config_file = tmp_path / "config.toml"
    config_file.write_text(
        f'[profiles.backend]\napi = "backend"\nbase_url = "{fake_server.url}"\nmodel = "be"\n'
    )
    app = make_app(fake_server, config=load_config(config_file), model="m", api_key="k")
    async with app.run_test() as pilot:
        app.chat.use_profile("backend")
        await send(pilot, "hi")
        await wait_for(pilot, lambda: replies(app)[0].status == "complete")
        assert fake_server.requests[-1].path == "/api/chat/stream"
        assert app.chat.provider.name == "backend" and app.chat.settings.model == "be"


async def test_switching_to_a_profile_uses_a_key_that_only_dotenv_holds(
    fake_server_with_key: FakeLLMServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`.env` is read, not merged into os.environ: the app must still find its key."""
    from conftest import FAKE_API_KEY

    server = fake_server_with_key
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text(f"WORK_KEY={FAKE_API_KEY}\n")
    config_file = tmp_path / "config.toml"
    config_file.write_text(
        f'[profiles.work]\napi = "chat"\nbase_url = "{server.openai_url}"\n'
        'model = "w"\napi_key_env = "WORK_KEY"\n'
    )
    app = make_app(server, config=load_config(config_file), model="m", api_key=None)
    async with app.run_test() as pilot:
        app.chat.use_profile("work")
        await send(pilot, "hi")
        await wait_for(pilot, lambda: replies(app)[0].status in ("complete", "error"))
        assert replies(app)[0].status == "complete"
        assert server.requests[-1].headers["authorization"] == f"Bearer {FAKE_API_KEY}"


async def test_new_chat_forgets_the_context(fake_server: FakeLLMServer) -> None:
    app = make_app(fake_server)
    async with app.run_test() as pilot:
        await send(pilot, "remember this")
        await wait_for(pilot, lambda: replies(app)[0].status == "complete")
        await pilot.press("ctrl+n")
        await pilot.pause(0.1)
        assert not replies(app)
        await send(pilot, "fresh")
        await wait_for(pilot, lambda: bool(replies(app)) and replies(app)[0].status == "complete")
        assert [m["content"] for m in fake_server.requests[-1].json["messages"]] == ["fresh"]


async def test_theme_is_remembered(fake_server: FakeLLMServer) -> None:
    app = make_app(fake_server)
    async with app.run_test() as pilot:
        app.theme = "nord"
        await pilot.pause(0.1)
    assert json.loads(state_path().read_text())["theme"] == "nord"
    again = make_app(fake_server)
    async with again.run_test():
        assert again.theme == "nord"


async def test_question_mark_opens_help_outside_the_prompt_but_types_inside_it(
    fake_server: FakeLLMServer,
) -> None:
    app = make_app(fake_server)
    async with app.run_test() as pilot:
        await pilot.press("question_mark")
        assert app.query_one("#prompt").text == "?"
        assert not isinstance(app.screen, HelpScreen)
        app.query_one("#log").focus()
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)


async def test_code_block_labels_with_brackets_are_text_not_markup(
    fake_server: FakeLLMServer,
) -> None:
    """The palette parses markup: a block starting `print('[/]')` once crashed the app."""
    reply = "Careful:\n\n```python\nprint('[/]') # [bold]x[/bold] [@click=app.quit]q[/]\n```\n"
    fake_server.enqueue(Script(chunks=[reply]))
    app = make_app(fake_server)
    async with app.run_test() as pilot:
        await send(pilot, "code please")
        await wait_for(pilot, lambda: replies(app)[0].status == "complete")
        app.chat.action_copy_code()
        await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"print")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.clipboard.startswith("print('[/]')"))
        assert app.is_running


async def test_server_text_in_status_line_and_history_is_drawn_without_control_codes(
    fake_server: FakeLLMServer,
) -> None:
    """Model names come from GET /models and history; prompts from history: all untrusted."""
    app = make_app(fake_server)
    async with app.run_test() as pilot:
        app.chat.set_model("m\x1b]0;PWNED\x1b\\")
        await app.query_one("#log").mount(UserMessage("u\x1b]52;c;SGVsbG8=\x1b\\"))
        await pilot.pause(0.2)
        drawn = [
            "".join(strip.text for strip in widget.render_lines(Region(0, 0, *widget.size)))
            for widget in (app.query_one(StatusLine), app.query_one(UserMessage))
        ]
        assert "chat · m ·" in drawn[0] and "u" in drawn[1], "the text itself is shown"
        assert "PWNED" not in drawn[0] and "SGVsbG8=" not in drawn[1], "sequences go whole"
        assert not any("\x1b" in line or "\x07" in line for line in drawn)
