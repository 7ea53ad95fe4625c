"""Full collection passes run only at quiet moments (`tui_chat.ui.gc_tuning`).

Each test runs in a fresh interpreter: tuning freezes the heap, and a frozen test
process would never free anything again. `gc.callbacks` counts the full passes.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent

_HEAD = """
import asyncio, gc, json, sys
from tui_chat.ui import gc_tuning

gc_tuning.QUIET_AFTER = 0.05
gc_tuning.WHOLE_EVERY = 4
full = []  # objects each full pass collected


def counted(phase, info):
    if phase == "stop" and info["generation"] == 2:
        full.append(info["collected"])


gc.callbacks.append(counted)


class Cycle:
    def __init__(self):
        self.me = self


def litter(n):
    for _ in range(n):
        Cycle()
"""

_HOOKS = (
    _HEAD
    + """
async def main():
    out = {}
    gc_tuning.tune_gc()
    out["frozen at start"] = gc.get_freeze_count() > 0
    gc_tuning.reply_started()
    litter(400_000)
    out["full passes while streaming"] = len(full)
    gc_tuning.reply_ended()
    await asyncio.sleep(0.3)
    out["full passes after the quiet"] = len(full)
    kept = [Cycle() for _ in range(5000)]  # frozen by the next quiet pass
    gc_tuning.reply_started()
    gc_tuning.reply_ended()
    await asyncio.sleep(0.3)
    del kept  # garbage now, but frozen: no pass sees it
    gc.collect()
    out["frozen garbage collected without forget"] = full[-1]
    gc_tuning.forget()
    await asyncio.sleep(0.3)
    out["frozen garbage collected after forget"] = full[-1]
    kept = [Cycle() for _ in range(5000)]
    seen = []
    for _ in range(gc_tuning.WHOLE_EVERY):
        gc_tuning.reply_started()
        gc_tuning.reply_ended()
        await asyncio.sleep(0.2)
        seen.append(full[-1])
        kept = None  # frozen by the first of these passes, garbage from then on
    out["collected by each quiet pass after"] = seen
    print(json.dumps(out))


asyncio.run(main())
"""
)

_APP = (
    _HEAD
    + """
sys.path[:0] = [sys.argv[1], sys.argv[1] + "/ui"]
from app_factory import make_app, replies, send
from fake_server import FakeLLMServer, Script


async def main():
    out = {}
    with FakeLLMServer() as server:
        server.enqueue(Script(chunks=["word "] * 40, delay=0.02))
        app = make_app(server)
        statuses = []  # the reply's status at each full pass once tuned
        async with app.run_test() as pilot:
            gc_tuning.tune_gc()  # what the CLI does after the first frame
            gc.callbacks.append(
                lambda phase, info: phase == "stop" and info["generation"] == 2
                and statuses.append(replies(app)[-1].status if replies(app) else "none")
            )
            await send(pilot, "hello")
            while not replies(app) or replies(app)[-1].status != "streaming":
                await pilot.pause(0.01)
            gc_tuning.forget()  # a pass asked for now waits for the reply's end
            while replies(app)[-1].status == "streaming":
                litter(20_000)
                await pilot.pause(0.01)
            out["status"] = replies(app)[-1].status
            await pilot.pause(0.4)
            out["statuses at full passes"] = statuses
    print(json.dumps(out))


asyncio.run(main())
"""
)


_BACKSTOP = (
    _HEAD
    + """
async def main():
    gc_tuning.BACKSTOP = 0.1
    gc_tuning.tune_gc()
    gc_tuning.reply_started()  # and never ends
    frozen = [Cycle() for _ in range(5000)]
    gc.freeze()
    old = [Cycle() for _ in range(3000)]
    gc.collect(1)  # into the oldest generation, which only a full pass walks
    del frozen, old
    await asyncio.sleep(0.5)
    print(json.dumps({"collected by full passes": full}))


asyncio.run(main())
"""
)


def _run(script: str, *args: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", script, *args], capture_output=True, text=True, timeout=100
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_no_full_pass_while_a_reply_streams_one_after_it_and_forget_frees_frozen_garbage() -> None:
    out = _run(_HOOKS)
    assert out["frozen at start"] is True
    assert out["full passes while streaming"] == 0  # untuned, 400k cycles make several
    assert out["full passes after the quiet"] == 1
    assert out["frozen garbage collected without forget"] < 5000
    assert out["frozen garbage collected after forget"] >= 5000
    *quick, whole = out["collected by each quiet pass after"]
    assert max(quick) < 5000, "a quick pass walked the frozen objects"
    assert whole >= 5000, f"the {len(quick) + 1}th pass, a whole one, frees them"


def test_a_reply_on_screen_holds_full_passes_until_it_has_ended() -> None:
    out = _run(_APP, str(TESTS))
    assert out["status"] == "complete"
    assert out["statuses at full passes"] == ["complete"]


def test_a_reply_that_never_ends_still_gets_passes_over_what_is_new() -> None:
    passes = _run(_BACKSTOP)["collected by full passes"]
    assert passes, "no pass ran"
    assert 3000 <= max(passes) < 8000, "the new garbage, not the frozen"
