"""Start-up (issue 12): the first frame imports only what it draws, and what it left out
is loaded once it is drawn, so the first prompt sent does not pay for it.

No timing thresholds: the console script's `main` runs in a pseudo-terminal in a fresh
interpreter (with no .env and no config file), and the test reads `sys.modules` at the
moment the first frame is out, and again once the app has settled.
"""

from __future__ import annotations

import io
import json
import os
import sys
from pathlib import Path

import pexpect
import pytest

from tui_chat.history import HistoryStore

from console_script import TUI_CHAT
from fake_server import FakeLLMServer, Script
from pty_terminal import Terminal

#: What the first frame does not need: the SDK, `.env` and config parsing (there are
#: none here), the history command, recording, HTTP-date parsing (a Retry-After), the
#: hidden F3 inspector, the message widgets with Markdown and Pygments (no message is
#: shown yet), the reply runner and its metrics (nothing is sent yet), the dialogs, the
#: clipboard, and HTML's entities (for attached files).
NOT_AT_FIRST_FRAME = (
    "openai",
    "dotenv",
    "tomllib",
    "tui_chat.history.cli",
    "tui_chat.recordings.recording",
    "email.utils",
    "tui_chat.ui.widgets.inspector",
    "textual.widgets._rich_log",
    "tui_chat.ui.widgets.conversation.message",
    "markdown_it",
    "pygments.lexers",
    "tui_chat.core.runner",
    "tui_chat.core.metrics",
    "tui_chat.ui.screens.dialogs",
    "tui_chat.ui.clipboard",
    "html",
)
#: Loaded soon after the first frame, before anything is sent.
WARMED_AFTER = (
    "openai",
    "tui_chat.ui.widgets.inspector",
    "tui_chat.ui.widgets.conversation.message",
    "tui_chat.core.runner",
    "tui_chat.ui.screens.dialogs",
    "tui_chat.ui.clipboard",
    "html",
)

_SCRIPT = r"""
import json, sys, threading, time
import tui_chat.cli as cli

out, watched, warmed = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
tune = cli._tune_gc


def python_lexer_compiled() -> bool:
    lexers = sys.modules.get("pygments.lexers.python")
    return lexers is not None and "_tokens" in vars(lexers.PythonLexer)


def later() -> None:
    # Started with the script, so the process ends within a minute whatever happens, and
    # the notes say how far it got. It reads only sys.modules and events: walking the
    # widget tree off the app's thread can race a mount.
    try:
        deadline = time.monotonic() + 60
        if not framed.wait(deadline - time.monotonic()):
            return
        while time.monotonic() < deadline and not all(m in sys.modules for m in warmed):
            time.sleep(0.05)
        note("settled")
        filled.wait(max(0.0, deadline - time.monotonic()))
        while time.monotonic() < deadline and not python_lexer_compiled():
            time.sleep(0.05)
        if python_lexer_compiled():
            note("python lexer compiled")
    except BaseException as error:
        note("failed", error=repr(error))
    finally:
        cli._exit_now()


def note(when: str, **more: object) -> None:
    with open(out, "a") as file:
        loaded = sorted(m for m in watched if m in sys.modules)
        file.write(json.dumps({"when": when, "loaded": loaded, **more}) + "\n")


from tui_chat.ui.screens.chat import ChatScreen

composed = ChatScreen.compose


def compose(self):
    yield from composed(self)
    note("composed", classes=sorted(self.classes))  # its widgets are styled next


ChatScreen.compose = compose

from textual._compositor import Compositor

render_full_update = Compositor.render_full_update
painted = []


def first_paint(self, *args, **kwargs):
    update = render_full_update(self, *args, **kwargs)
    if not painted:
        painted.append(True)
        note("first paint", widgets=shown_widgets())
    return update


def shown_widgets() -> list[str]:
    from textual._context import active_app

    return sorted({type(w).__name__ for w in active_app.get().screen.walk_children()})


Compositor.render_full_update = first_paint


framed = threading.Event()


def first_frame() -> None:
    tune()
    note("first frame")
    framed.set()


def exit_now() -> None:
    import os
    os._exit(0)


class NoteTheSdk:  # notes what is loaded when the SDK's import begins, finds nothing

    def find_spec(self, name, path=None, target=None):
        if name in ("openai", "anyio._backends._asyncio"):  # what the SDK thread imports
            sys.meta_path.remove(self)
            note("sdk import begins")
        return None


sys.meta_path.insert(0, NoteTheSdk())


class NoteTheLateImports:  # notes when the thread importing the message widgets begins

    def find_spec(self, name, path=None, target=None):
        if name == "tui_chat.ui.widgets.conversation.message":
            sys.meta_path.remove(self)
            note("late imports begin")
        return None


sys.meta_path.insert(0, NoteTheLateImports())

from tui_chat.ui.widgets.history.sidebar import Sidebar

fill = Sidebar.fill


filled = threading.Event()


async def noted_fill(self):
    await fill(self)
    note("chat list in", widgets=shown_widgets())
    filled.set()


Sidebar.fill = noted_fill
cli._tune_gc, cli._exit_now = first_frame, exit_now
threading.Thread(target=later, daemon=True).start()
sys.exit(cli.main(sys.argv[4:]))
"""


def _start(tmp_path: Path, args: list[str], warmed: tuple[str, ...]) -> dict[str, list[str]]:
    """What was imported when the first frame was drawn and once `warmed` was in, the
    widgets then, and the screen's classes when it had composed its widgets, in a real
    start at 120x40 with no key in the environment."""
    out = tmp_path / "seen.jsonl"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "TUI_CHAT_"))}
    env.update(
        HOME=str(tmp_path),
        XDG_DATA_HOME=str(tmp_path / "data"),
        XDG_CONFIG_HOME=str(tmp_path / "cfg"),
        TERM="xterm-256color",
    )
    child = pexpect.spawn(
        sys.executable,
        ["-c", _SCRIPT, str(out), json.dumps(NOT_AT_FIRST_FRAME), json.dumps(warmed)] + args,
        cwd=str(tmp_path),
        env=env,
        dimensions=(40, 120),
    )
    child.logfile_read = screen = io.BytesIO()
    try:
        child.expect(pexpect.EOF, timeout=90)
    finally:
        child.close(force=True)
    notes = [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []
    wanted = {"first frame", "settled", "chat list in", "python lexer compiled"}
    if missing := wanted - {note["when"] for note in notes}:
        pytest.fail(
            f"the start never got to {sorted(missing)}; it noted {notes}; "
            f"its terminal's last bytes: {screen.getvalue()[-3000:]!r}"
        )
    seen = {note["when"]: note.get("classes", note["loaded"]) for note in notes}
    seen.update(
        {f"{note['when']}: widgets": note["widgets"] for note in notes if "widgets" in note}
    )
    seen["order"] = [note["when"] for note in notes]
    return seen


@pytest.fixture(scope="module")
def seen(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    """A start with a remote provider."""
    args = ["--api", "chat", "--model", "m", "--base-url", "http://127.0.0.1:9/v1"]
    return _start(tmp_path_factory.mktemp("start"), args, WARMED_AFTER)


def test_the_first_frame_is_drawn_before_the_sdk_env_config_recording_and_inspector_load(
    seen: dict[str, list[str]],
) -> None:
    assert seen["first paint"] == []


def test_the_chat_list_is_drawn_empty_in_the_first_frame_and_filled_just_after(
    seen: dict[str, list[str]],
) -> None:
    """Styling and drawing its search box and list cost the first frame 20-30 ms: the
    box is there at once (nothing moves when they come), its contents right after."""
    assert "Sidebar" in seen["first paint: widgets"]
    assert not {"Input", "OptionList"} & set(seen["first paint: widgets"])
    assert {"Input", "OptionList"} <= set(seen["chat list in: widgets"])


def test_the_chat_list_fills_before_the_imports_left_out_of_the_first_frame_begin(
    seen: dict[str, list[str]],
) -> None:
    """Mounted while a thread imported the message widgets (and then the SDK), the list
    came 150-270 ms after the prompt; before them, about a frame after."""
    order = seen["order"]
    assert order.index("first paint") < order.index("chat list in")
    assert order.index("chat list in") < order.index("late imports begin")


def test_the_sdk_is_loaded_after_the_first_frame_before_any_prompt(
    seen: dict[str, list[str]],
) -> None:
    assert set(WARMED_AFTER) <= set(seen["settled"])


def test_the_python_highlighter_is_made_after_the_first_frame_before_any_reply(
    seen: dict[str, list[str]],
) -> None:
    """Pygments compiles a lexer's patterns on first use: Python's took 60 ms on the event
    loop, a stall at a session's first Python block. No reply is sent in this start."""
    assert "python lexer compiled" in seen


def test_the_screen_has_its_width_class_before_its_widgets_are_first_styled(
    seen: dict[str, list[str]],
) -> None:
    """Set by the terminal's first resize, after the first frame, it restyled every
    widget once more before a key typed then could be drawn."""
    assert "-wide" in seen["composed"] and "-narrow" not in seen["composed"]


def _terminal_env(home: Path) -> dict[str, str]:
    keep = ("PATH", "LANG", "LC_ALL", "PYTHONPATH", "VIRTUAL_ENV", "PYENV_VERSION", "PYENV_ROOT")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update(HOME=str(home), TERM="xterm-256color", COLORTERM="truecolor")
    env.setdefault("LANG", "C.UTF-8")
    return env


def test_a_prompt_sent_the_moment_the_prompt_is_drawn_gets_its_reply(
    fake_server: FakeLLMServer, tmp_path: Path
) -> None:
    """Typed and sent as soon as the prompt shows, while the SDK and the message widgets
    are still loading (after the first frame): the prompt goes out and is answered."""
    fake_server.enqueue(Script(chunks=["Early ", "bird ", "answered."]))
    argv = [*TUI_CHAT, "--api", "chat", "--base-url", fake_server.openai_url, "--model", "m"]
    term = Terminal(argv, tmp_path, _terminal_env(tmp_path))
    try:
        term.wait_for(lambda s: "Enter sends" in s)
        term.child.send("typed at once\r")
        screen = term.wait_for(lambda s: "Early bird answered." in s and "tok/s" in s)
        assert "typed at once" in screen
        assert [r.json["messages"][-1]["content"] for r in fake_server.requests] == [
            "typed at once"
        ]
    finally:
        term.close()


def test_resume_in_a_real_start_shows_the_saved_conversation(
    fake_server: FakeLLMServer, tmp_path: Path
) -> None:
    """`--resume` shows the chat at once, though the message widgets are otherwise
    imported after the first frame."""
    with HistoryStore.open(tmp_path / ".local" / "share" / "tui-chat" / "history.sqlite3") as store:
        chat = store.new_conversation(api="chat", base_url=None, model="m", system=None)
        store.add_message(chat, "user", "what was said before")
        store.add_message(chat, "assistant", "an answer kept in history")
    argv = [*TUI_CHAT, "--api", "chat", "--base-url", fake_server.openai_url, "--resume"]
    term = Terminal(argv, tmp_path, _terminal_env(tmp_path))
    try:
        screen = term.wait_for(lambda s: "an answer kept in history" in s)
        assert "what was said before" in screen
    finally:
        term.close()


def test_the_sdk_starts_loading_only_once_the_widgets_left_out_of_the_first_frame_are_in(
    seen: dict[str, list[str]],
) -> None:
    """One import at a time after the first frame, so a key typed then waits for less."""
    late = {"tui_chat.ui.widgets.conversation.message", "tui_chat.ui.widgets.inspector"}
    assert late <= set(seen["sdk import begins"])


async def test_the_reply_is_drawn_as_running_only_once_its_request_is_on_the_wire(
    fake_server: FakeLLMServer,
) -> None:
    """The footer's and the status line's redraws for a running reply ran while the
    request connected; `replying` itself is set at once (a second Enter is refused)."""
    from tui_chat.ui.screens.chat import ChatScreen
    from tui_chat.ui.widgets.status_line import StatusLine

    from .app_factory import make_app, replies, send, wait_for

    fake_server.enqueue(Script(chunks=["Drawn ", "after."]))
    app = make_app(fake_server)
    async with app.run_test() as pilot:
        chat = app.chat
        chat.ui_waits_for_request = 30  # the order is by design, not a race with the UI
        on_the_wire: list[bool] = []
        drawn = ChatScreen.watch_replying

        def watch_replying(replying: bool) -> None:
            if replying:
                assert chat.replying, "set before it is drawn"
                try:
                    fake_server.wait_for_requests(1, timeout=2)  # blocks the app's loop
                except AssertionError:
                    on_the_wire.append(False)
                else:
                    on_the_wire.append(True)
            drawn(chat, replying)

        chat.watch_replying = watch_replying  # type: ignore[method-assign]
        await send(pilot, "hi")
        await wait_for(pilot, lambda: bool(replies(app)) and replies(app)[0].status == "complete")
        assert on_the_wire == [True]
        assert not app.query_one(StatusLine).busy


def test_a_start_without_a_key_says_so_in_the_first_frame_without_the_reply_widgets(
    tmp_path: Path,
) -> None:
    """A fresh machine's start (no key: the local model) says what it runs in the first
    frame. Its notice used to import the replies' module (Markdown, Pygments) before that
    frame, 60-90 ms later to the prompt than a start with a key."""
    late = ("tui_chat.ui.widgets.conversation.message", "tui_chat.ui.widgets.inspector")
    seen = _start(tmp_path, [], late)
    assert "InfoNotice" in seen["first paint: widgets"]
    assert seen["first paint"] == []
