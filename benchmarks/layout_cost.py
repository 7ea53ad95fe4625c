"""What one layout of the chat screen costs as a conversation grows.

    python benchmarks/layout_cost.py                  # 2, 10, 20, 40 and 80 turns, 80x24
    python benchmarks/layout_cost.py --turns 2,40 --profile 40

A streamed reply lays the log out at each jump, at each turn's mount and at each reply's
end, and Textual lays out the whole log each time. This builds a conversation of N
finished turns (a prompt and a Markdown reply with a heading, a list, code and a table)
in `App.run_test()`, then times `Screen._refresh_layout` after `refresh(layout=True)`
on the log: the median of 20, in a tight loop (warm caches: the installed app, woken
between frames, pays several times more). `--profile N` prints cProfile's top entries
for N turns.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import statistics
import sys
import time
from pathlib import Path

from tui_chat.ui.widgets.conversation.chat_log import ChatLog
from tui_chat.ui.widgets.conversation.message import AssistantMessage, UserMessage

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "ui"))  # app factory
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))  # its fake server
from app_factory import make_app

REPLY = (
    "## Heading\n\nSome text with **bold** and a list:\n\n- one\n- two\n\n"
    "```python\nprint('hi')\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n"
) * 3


async def layout_ms(turns: int, size: tuple[int, int], profile: bool) -> tuple[float, int, int]:
    """The median layout time in ms, how many widgets the log holds, and how many the
    screen lays out (all of the screen's, the folded ones not)."""
    app = make_app()
    async with app.run_test(size=size) as pilot:
        log = app.query_one(ChatLog)
        for i in range(turns):
            reply = AssistantMessage("thinking")
            await log.add_turn([UserMessage(f"question {i}"), reply])
            await reply.append(REPLY)
            await reply.finish("complete")
        await pilot.pause(0.3)
        screen = app.screen
        times = []
        for _ in range(20):
            log.refresh(layout=True)
            start = time.perf_counter()
            screen._refresh_layout()
            times.append(time.perf_counter() - start)
        if profile:
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(5):
                log.refresh(layout=True)
                screen._refresh_layout()
            profiler.disable()
            pstats.Stats(profiler).sort_stats("tottime").print_stats(10)
        laid_out = len(screen._compositor.full_map)
        return statistics.median(times) * 1000, len(list(log.walk_children())), laid_out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", default="2,10,20,40,80", help="comma-separated")
    parser.add_argument("--size", default="80x24", help="terminal COLSxROWS")
    parser.add_argument("--profile", type=int, default=0, help="profile this many turns")
    args = parser.parse_args()
    cols, rows = (int(n) for n in args.size.split("x"))
    print(f"command: python {' '.join(sys.argv)}")
    print("turns  widgets in the log  laid out  layout ms (median of 20)")
    for turns in (int(n) for n in args.turns.split(",")):
        ms, widgets, laid_out = asyncio.run(layout_ms(turns, (cols, rows), turns == args.profile))
        print(f"{turns:5d}  {widgets:18d}  {laid_out:8d}  {ms:8.2f}")


if __name__ == "__main__":
    main()
