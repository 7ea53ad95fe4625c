"""A process killed mid-reply loses at most the text since its last save, nothing older,
and the next process to open the history marks that reply interrupted."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tui_chat.history import HistoryStore

from .helpers import clean_env

pytestmark = pytest.mark.skipif(os.name != "posix", reason="SIGKILL is POSIX")

WRITER = textwrap.dedent(
    """
    import sys, time
    from tui_chat.history import HistoryStore

    store = HistoryStore.open()
    old = store.new_conversation(api="chat", base_url=None, model="m", system=None)
    store.add_message(old, "user", "an earlier conversation")
    store.add_message(old, "assistant", "its complete reply")

    conv = store.new_conversation(api="chat", base_url=None, model="m", system=None)
    store.add_message(conv, "user", "tell me a long story")
    reply = store.add_message(conv, "assistant", "", "streaming")
    print("ready", flush=True)
    text = ""
    for i in range(1000):
        text += f"chunk{i} "
        store.update_message(reply, text)
        print(i, flush=True)
        time.sleep(0.1)
    """
)


def _text_upto(n: int) -> str:
    return "".join(f"chunk{i} " for i in range(n + 1))


def test_sigkill_mid_reply_keeps_earlier_messages_and_the_partial_reply(data_home: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER],
        env=clean_env(data_home),
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    try:
        assert proc.stdout.readline().strip() == "ready"
        last = -1
        while last < 4:  # about half a second of streaming
            line = proc.stdout.readline()
            assert line, "writer exited early"
            last = int(line)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        # Updates acknowledged after our last read but before the signal landed.
        for line in proc.stdout.read().split():
            last = max(last, int(line))
    finally:
        proc.kill()
        proc.wait(timeout=10)
        proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL

    db = data_home / "tui-chat" / "history.sqlite3"
    assert Path(f"{db}-wal").exists()  # killed: nothing was checkpointed on the way out

    with HistoryStore.open() as store:
        earlier, current = sorted(store.list_conversations(), key=lambda c: c.id)
        old = store.get_conversation(earlier.id)
        conv = store.get_conversation(current.id)
    assert old is not None and conv is not None
    assert [(m.role, m.content, m.status) for m in old.messages] == [
        ("user", "an earlier conversation", "complete"),
        ("assistant", "its complete reply", "complete"),
    ]
    prompt, reply = conv.messages
    assert (prompt.role, prompt.content, prompt.status) == (
        "user",
        "tell me a long story",
        "complete",
    )
    assert reply.status == "interrupted"  # not "streaming" forever: its process is gone
    # Every acknowledged update is there; at most one more was committed but not yet
    # acknowledged when the signal landed.
    assert reply.content in (_text_upto(last), _text_upto(last + 1))
