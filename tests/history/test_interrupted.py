"""A reply whose process died is marked interrupted when the history is next opened, and a
reply another live process is still streaming is left alone."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tui_chat.core.protocol import Role
from tui_chat.history import HistoryStore
from tui_chat.history.models import MessageStatus, StoredConversation, StoredMessage
from tui_chat.history.schema import MIGRATIONS, migrate

from .helpers import clean_env, run_history
from fake_server import FakeLLMServer, Script

posix_only = pytest.mark.skipif(os.name != "posix", reason="SIGKILL and flock are POSIX")

CHAT = {"api": "chat", "base_url": None, "model": "m", "system": None}
T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)

#: Streams one reply into the history and then waits, the store open, until killed.
STREAMER = textwrap.dedent(
    """
    import sys
    from tui_chat.history import HistoryStore

    store = HistoryStore.open()
    conv = store.new_conversation(api="chat", base_url=None, model="m", system=None)
    store.add_message(conv, "user", "tell me a long story")
    reply = store.add_message(conv, "assistant", "", "streaming")
    store.update_message(reply, "Once upon a time")
    print("streaming", flush=True)
    sys.stdin.read()  # until the test kills us
    """
)


def _reply_status(store: HistoryStore) -> str:
    conv = store.get_conversation(store.latest_id() or 0)
    assert conv is not None
    return conv.messages[-1].status


def test_a_reply_another_open_store_is_streaming_is_left_alone_until_it_closes(
    data_home: Path,
) -> None:
    writer = HistoryStore.open()
    conv = writer.new_conversation(**CHAT)
    writer.add_message(conv, "user", "hello")
    writer.add_message(conv, "assistant", "Hel", "streaming")
    with HistoryStore.open() as reader:  # e.g. `tui-chat history show` meanwhile
        assert _reply_status(reader) == "streaming"
    writer.close()  # ended without settling the reply, as a crash would
    with HistoryStore.open() as reader:
        assert _reply_status(reader) == "interrupted"
        conv_after = reader.get_conversation(conv)
    assert conv_after is not None and conv_after.messages[-1].content == "Hel"


@posix_only
def test_a_live_process_streaming_is_not_marked_and_once_killed_its_reply_is(
    data_home: Path,
) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", STREAMER],
        env=clean_env(data_home),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdin is not None and proc.stdout is not None
    try:
        assert proc.stdout.readline().strip() == "streaming"
        live = run_history(data_home, "show", "last")
        assert live.returncode == 0, live.stderr
        assert "── assistant ·" in live.stdout and "· streaming\nOnce upon a time" in live.stdout
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        proc.kill()
        proc.wait(timeout=10)
        proc.stdin.close()
        proc.stdout.close()
    dead = run_history(data_home, "show", "last")
    assert dead.returncode == 0, dead.stderr
    assert "· interrupted\nOnce upon a time" in dead.stdout
    exported = run_history(data_home, "export", "last")
    assert "Once upon a time\n\n> *(interrupted: tui-chat ended before the reply did)*" in (
        exported.stdout
    )


@posix_only
def test_the_app_killed_mid_reply_leaves_a_reply_history_show_calls_interrupted(
    fake_server: FakeLLMServer, tmp_path: Path
) -> None:
    from pty_terminal import Terminal

    exe = shutil.which("tui-chat")
    assert exe, "the tui-chat console script is installed (pip install -e .)"
    data_home = tmp_path / "data"
    env = {**clean_env(data_home), "HOME": str(tmp_path), "TERM": "xterm-256color"}
    env.setdefault("LANG", "C.UTF-8")
    fake_server.enqueue(Script(chunks=["Cut ", "off ", "here", " never"], hold_after=3))
    argv = [exe, "--api", "chat", "--base-url", fake_server.openai_url, "--model", "fake-model"]
    term = Terminal(argv, tmp_path, env)
    try:
        term.wait_for(lambda s: "Enter sends" in s)
        term.child.send("a story please\r")
        term.wait_for(lambda s: "Cut off here" in s)
        # The app saves every half second; wait until the streamed text is on disk.
        deadline = time.monotonic() + 20
        while "Cut off here" not in run_history(data_home, "show", "last").stdout:
            assert time.monotonic() < deadline, "the partial reply was never saved"
            time.sleep(0.2)
        term.child.kill(signal.SIGKILL)
        term.child.wait()
    finally:
        term.close()
    shown = run_history(data_home, "show", "last")
    assert shown.returncode == 0, shown.stderr
    assert "· interrupted\nCut off here" in shown.stdout
    assert "streaming" not in shown.stdout


def test_a_version_1_history_is_upgraded_keeping_messages_and_search(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, path, migrations=MIGRATIONS[:1])  # as tui-chat made it before
    conn.execute(
        "INSERT INTO conversations (id, created_at, updated_at, title, api, model)"
        " VALUES (4, '2024-05-01T12:00:00+00:00', '2024-05-01T12:00:00+00:00', 't', 'chat', 'm')"
    )
    for seq, role, content, status in [
        (1, "user", "tell me about otters", "complete"),
        (2, "assistant", "Otters hold hands while", "streaming"),
    ]:
        conn.execute(
            "INSERT INTO messages (conversation_id, seq, role, content, status, created_at)"
            " VALUES (4, ?, ?, ?, ?, '2024-05-01T12:00:00+00:00')",
            (seq, role, content, status),
        )
    conn.close()

    with HistoryStore.open(path) as store:
        conv = store.get_conversation(4)
        assert conv is not None
        assert [(m.content, m.status) for m in conv.messages] == [
            ("tell me about otters", "complete"),
            ("Otters hold hands while", "interrupted"),
        ]
        assert {hit.message_id for hit in store.search("otters")} == {m.id for m in conv.messages}
        # The search index still follows every change after the rebuild.
        store.update_message(conv.messages[1].id, "Otters sleep afloat", status="complete")
        assert store.search("hands") == []
        assert [hit.message_id for hit in store.search("afloat")] == [conv.messages[1].id]
        new = store.add_message(4, "user", "and beavers?")
        assert [hit.message_id for hit in store.search("beavers")] == [new]
        store.delete(4)
        assert store.search("otters") == []


def _message(seq: int, role: Role, content: str, status: MessageStatus) -> StoredMessage:
    return StoredMessage(seq, 1, seq, role, content, status, None, T0)


def test_an_interrupted_reply_is_context_like_a_stopped_one_and_an_empty_one_is_not() -> None:
    conv = StoredConversation(
        1,
        "t",
        T0,
        T0,
        "chat",
        None,
        "m",
        None,
        (
            _message(1, "user", "first", "complete"),
            _message(2, "assistant", "half a reply", "interrupted"),
            _message(3, "user", "second", "complete"),
            _message(4, "assistant", "", "interrupted"),
        ),
    )
    assert [(m.role, m.content) for m in conv.chat_messages()] == [
        ("user", "first"),
        ("assistant", "half a reply"),
    ]
