"""The real `tui-chat` with the render layer, in a pseudo-terminal read through pyte."""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import pexpect
import pyte

from .test_differ import look
from fake_server import FakeLLMServer, Script

#: Textual's own render path, to compare the layer against (`env` execs the app).
PLAIN = ["env", "TUI_CHAT_RENDER=textual"]
REPLY = [f" word{i}" if i % 9 else f"\n\nPara {i} 漢字 **bold** `code`" for i in range(1, 240)]
REPLY.append(" THEEND")


def pty_env(home: Path) -> dict[str, str]:
    """The environment the app gets in a pty: this one's paths, a throwaway HOME."""
    keep = ("PATH", "LANG", "LC_ALL", "PYTHONPATH", "VIRTUAL_ENV", "PYENV_VERSION", "PYENV_ROOT")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update(HOME=str(home), TERM="xterm-256color", COLORTERM="truecolor")
    env.setdefault("LANG", "C.UTF-8")
    return env


def shown(screen: pyte.Screen) -> str:
    """The screen's text. Not `screen.display`: pyte raises on a cell left empty when a
    wide character's right half is overwritten, whoever drew it (Textual's path too)."""
    return "\n".join(
        "".join(screen.buffer[y][x].data for x in range(screen.columns))
        for y in range(screen.lines)
    )


def run(argv: list[str], server: FakeLLMServer, home: Path) -> tuple[pyte.Screen, int]:
    """Send one prompt, let the reply stream to its end; the screen and the bytes it took."""
    env = pty_env(home)
    server.enqueue(Script(chunks=REPLY, first_delay=0.2, delay=0.004, usage=None))
    argv = [*argv, "--api", "chat", "--base-url", server.openai_url, "--model", "fake-model"]
    child = pexpect.spawn(argv[0], argv[1:], cwd=str(home), env=env, dimensions=(24, 80))
    screen = pyte.Screen(80, 24)
    stream = pyte.ByteStream(screen)
    written = 0

    def pump_until(done: str, timeout: float = 30.0) -> None:
        nonlocal written
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                data = child.read_nonblocking(65536, timeout=0.1)
            except pexpect.TIMEOUT:
                data = b""
            written += len(data)
            stream.feed(data)
            if done in shown(screen):
                return
        raise AssertionError("screen never showed " + done + ":\n" + shown(screen))

    try:
        pump_until("Enter sends")
        start = written
        child.send("write a long reply\r")
        pump_until("tok/s")
        chars = written - start
        deadline = time.monotonic() + 1.0  # let the footer and focus settle
        while time.monotonic() < deadline:
            try:
                stream.feed(child.read_nonblocking(65536, timeout=0.1))
            except pexpect.TIMEOUT:
                pass
        return screen, chars
    finally:
        child.terminate(force=True)


def cells(screen: pyte.Screen, skip: tuple[str, ...]) -> list[object]:
    """Every cell with its colours and attributes, leaving out rows with run-dependent text."""
    return [
        [look(c) for c in line]
        for line in (
            [screen.buffer[y][x] for x in range(screen.columns)] for y in range(screen.lines)
        )
        if not any(s in "".join(c.data for c in line) for s in skip)
    ]


def test_streamed_reply_shows_as_textual_draws_it_for_a_tenth_of_the_bytes(
    fake_server: FakeLLMServer, tmp_path: Path
) -> None:
    exe = shutil.which("tui-chat")
    assert exe, "the tui-chat console script is installed (pip install -e .)"
    (tmp_path / "plain").mkdir()
    (tmp_path / "layered").mkdir()
    plain, plain_bytes = run([*PLAIN, exe], fake_server, tmp_path / "plain")
    layered, layered_bytes = run([exe], fake_server, tmp_path / "layered")
    text = shown(layered)
    assert "Para 234 漢字 bold code word235" in text and "THEEND" in text
    # Same cells, colours and attributes as Textual's own path (the header names the
    # server's port, the meta line its timings and the prompt row has a blinking
    # cursor, so those rows are left out).
    skip = ("127.0.0.1", "tok/s", "Enter sends")
    assert cells(layered, skip) == cells(plain, skip)
    chars = len("".join(REPLY))
    assert layered_bytes / chars < 20, f"{layered_bytes / chars:.1f} bytes per reply char"
    assert layered_bytes * 5 < plain_bytes


def stalled_then_read(argv: list[str], server: FakeLLMServer, home: Path) -> tuple[str, int]:
    """Stop reading the pty while a reply streams, then read: the screen and bytes after."""
    env = pty_env(home)
    server.enqueue(Script(chunks=REPLY, first_delay=0.1, delay=0.008, usage=None))
    argv = [*argv, "--api", "chat", "--base-url", server.openai_url, "--model", "fake-model"]
    child = pexpect.spawn(argv[0], argv[1:], cwd=str(home), env=env, dimensions=(24, 80))
    screen = pyte.Screen(80, 24)
    stream = pyte.ByteStream(screen)
    try:
        deadline = time.monotonic() + 30
        while "Enter sends" not in shown(screen):
            assert time.monotonic() < deadline, "the app never drew its prompt"
            try:
                stream.feed(child.read_nonblocking(65536, timeout=0.1))
            except pexpect.TIMEOUT:
                pass
        child.send("write a long reply\r")
        while len(server.chunk_times) < len(REPLY):  # the terminal reads nothing meanwhile
            assert time.monotonic() < deadline + 30, "the server never finished"
            time.sleep(0.05)
        after = 0
        deadline = time.monotonic() + 60
        while "tok/s" not in shown(screen):
            assert time.monotonic() < deadline, shown(screen)
            try:
                data = child.read_nonblocking(65536, timeout=0.1)
            except pexpect.TIMEOUT:
                continue
            after += len(data)
            stream.feed(data)
        return shown(screen), after
    finally:
        child.terminate(force=True)


def test_a_terminal_that_stopped_reading_gets_the_latest_screen_not_the_frames_missed(
    fake_server: FakeLLMServer, tmp_path: Path
) -> None:
    exe = shutil.which("tui-chat")
    assert exe
    (tmp_path / "plain").mkdir()
    (tmp_path / "layered").mkdir()
    _, plain_after = stalled_then_read([*PLAIN, exe], fake_server, tmp_path / "plain")
    screen, after = stalled_then_read([exe], fake_server, tmp_path / "layered")
    assert "word238 word239 THEEND" in screen
    # Textual queues every frame behind the stalled terminal; the layer holds them and
    # sends what the pty buffer took plus one diff to the latest screen.
    assert after * 3 < plain_after, f"{after} bytes after the stall, Textual's own {plain_after}"


@dataclass
class Behind:
    """What a terminal that answers probes late saw of one streamed reply."""

    screen: str = ""
    most_ahead: int = 0  # most bytes read while an answer was due
    key_lag: int | None = None  # bytes read between the key and its echo
    longest_quiet: float = 0.0  # longest wait between two reads while streaming
    stalls: int = 0  # waits of over a second between two reads while streaming


def behind_terminal(
    server: FakeLLMServer, home: Path, late: float, answer_at_most: int = 10**6
) -> Behind:
    """Run the app in a pty whose terminal (pyte) answers each cursor position request
    `late` seconds after reading it, and only its first `answer_at_most`; type a key
    while the reply streams."""
    env = pty_env(home)
    server.enqueue(Script(chunks=REPLY, first_delay=0.1, delay=0.004, usage=None))
    exe = shutil.which("tui-chat")
    assert exe
    argv = [exe, "--api", "chat", "--base-url", server.openai_url, "--model", "fake-model"]
    child = pexpect.spawn(argv[0], argv[1:], cwd=str(home), env=env, dimensions=(24, 80))
    screen = pyte.Screen(80, 24)
    stream = pyte.ByteStream(screen)
    answers: list[tuple[float, str]] = []  # when each probe read is answered, and how
    asked = 0

    def answer(reply: str) -> None:  # pyte answers with where its cursor is, as terminals do
        nonlocal asked
        asked += 1
        if asked <= answer_at_most:
            answers.append((time.monotonic() + late, reply))

    screen.write_process_input = answer
    seen = Behind()
    since_answer = 0  # bytes read since the last answer went back
    key_at: int | None = None  # bytes read when the key was typed
    total = 0
    last_read = time.monotonic()

    def pump(seconds: float) -> None:
        nonlocal since_answer, total, last_read
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            while answers and answers[0][0] <= time.monotonic():
                child.send(answers.pop(0)[1])
                since_answer = 0
            try:
                data = child.read_nonblocking(65536, timeout=0.01)
            except pexpect.TIMEOUT:
                continue
            total += len(data)
            since_answer += len(data)
            streaming = "write a long" in shown(screen) and "tok/s" not in shown(screen)
            if streaming:  # the reply streams: the prompt was sent
                seen.most_ahead = max(seen.most_ahead, since_answer if answers else 0)
                quiet = time.monotonic() - last_read
                seen.longest_quiet = max(seen.longest_quiet, quiet)
                seen.stalls += quiet > 1
            last_read = time.monotonic()
            stream.feed(data)
            if key_at is not None and seen.key_lag is None and "¤" in shown(screen):
                seen.key_lag = total - key_at

    try:
        deadline = time.monotonic() + 30
        while "Enter sends" not in shown(screen):
            assert time.monotonic() < deadline, "the app never drew its prompt"
            pump(0.1)
        pump(0.5)
        child.send("write a long reply\r")
        pump(0.6)
        key_at = total
        child.send("¤")
        deadline = time.monotonic() + 60
        while "tok/s" not in shown(screen) or seen.key_lag is None:
            assert time.monotonic() < deadline, shown(screen)
            pump(0.1)
    finally:
        child.terminate(force=True)
    seen.screen = shown(screen)
    return seen


def test_frames_wait_for_a_terminal_that_is_behind_and_a_key_goes_first(
    fake_server: FakeLLMServer, tmp_path: Path
) -> None:
    """A terminal that answers cursor position requests late, as one at the far end of
    a slow link does: the app never runs more than about IN_FLIGHT characters ahead of
    the last answer, the reply still ends complete, and a key typed meanwhile is echoed
    ahead of the rest of a frame."""
    seen = behind_terminal(fake_server, tmp_path, late=0.15)
    assert "word238 word239 THEEND" in seen.screen
    # IN_FLIGHT is 512: a frame begun just under it, and its probe, may go past it.
    assert seen.most_ahead < 512 + 700, f"{seen.most_ahead} bytes ahead of the last answer"
    assert seen.key_lag is not None and seen.key_lag < 512 + 700, f"key behind {seen.key_lag} B"


def test_a_terminal_that_stops_answering_holds_the_screen_once(
    fake_server: FakeLLMServer, tmp_path: Path
) -> None:
    """Answers that stop coming (lost, or a terminal that stopped) hold frames once, for
    LOST_AFTER (5 s); then the app paces as for a terminal that never answered."""
    seen = behind_terminal(fake_server, tmp_path, late=0.05, answer_at_most=3)
    assert "word238 word239 THEEND" in seen.screen
    assert seen.stalls <= 1 and seen.longest_quiet < 5 + 1.5, seen
