"""How soon the first words come: start-up, Enter and the first token, in a real pty.

    python benchmarks/startup_latency.py                     # 5 starts x 3 replies, 120x40
    python benchmarks/startup_latency.py --runs 10 --api responses
    python benchmarks/startup_latency.py --clients textual,tui-chat --args=--no-history
    python benchmarks/startup_latency.py --segments       # + where the app's own time goes
    python benchmarks/startup_latency.py --clients tui-chat,tui-chat@/tmp/old --segments

The installed `tui-chat` console script and two floors run in turn in a pseudo-terminal
against the fake LLM server (tests/fake_server.py): a raw print client
(benchmarks/raw_print.py, what Python alone costs) and the smallest Textual chat client
(benchmarks/textual_floor.py, what any Textual app costs before its own code). tui-chat
gets a throwaway HOME (so history is on, as it ships). This process reads the terminal's
bytes in a tight loop, looking for marker words; it never emulates the screen.

Figures, one line per client:

- start -> prompt: spawning the process until the prompt's placeholder ("Enter") is in
  the terminal output.
- start -> key shown: a key is typed the moment the prompt is drawn (before the SDK
  has loaded, if it loads late); this is when it is on screen. The raw client does not
  echo, so it has no figure.
- Enter -> on the wire: Enter written to the pty until the server has read the whole
  request (the server's receive time, same clock). "1st" is the first reply after
  start (typed once the app is idle), "later" the next ones of the same run.
- 1st token -> screen: the server writing the reply's first chunk (a marker word) until
  that word is in the terminal output.
- peak RSS: the process's VmHWM at the end of the run.

With `--segments`, each Textual app (the floor and tui-chat) also notes, inside the
process (benchmarks/startup_marks), its CPU time (all threads) up to the first frame,
up to the start of Textual's import (what the app does before it), from Textual's
import to the first frame, and from the driver's start to it: importing Textual is
most of the noise in start -> prompt, and every Textual app pays it, so the segments
around it show what an app adds.

The client `tui-chat-local` is the console script with no provider flags and no key, as
on a fresh machine: the local model, whose notice says so in the first frame. It has
the start figures only (its replies come from the CPU model, not the server).

A client `tui-chat@DIR` (or `tui-chat-local@DIR`) is the same console script with DIR
(a worktree of another commit) first on `PYTHONPATH`; it takes turns start by start
with the others, so an A/B meets the same machine.

Medians over all runs, with the range in brackets. The terminal answers none of
Textual's queries (like a plain xterm).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from streaming_render import Pty

from console_script import TUI_CHAT
from fake_server import FakeLLMServer, Recorded, Script

HERE = Path(__file__).resolve().parent

READY = b"Enter"  # tui-chat's placeholder and the raw client's first line
#: Typed the moment the prompt is drawn: one key, so one cell to find (frames drawn
#: between keys of a longer string send only the cells that changed).
TYPED = "Ж"


class TimedServer(FakeLLMServer):
    """The fake server, noting when each request had arrived whole (monotonic clock)."""

    def __init__(self) -> None:
        super().__init__()
        self.received_at: list[float] = []

    def _record(self, rec: Recorded) -> tuple[int, int]:
        self.received_at.append(time.monotonic())
        return super()._record(rec)


@dataclass
class Figures:
    start_to_prompt: list[float] = field(default_factory=list)
    start_to_key: list[float] = field(default_factory=list)
    enter_first: list[float] = field(default_factory=list)
    enter_later: list[float] = field(default_factory=list)
    first_token: list[float] = field(default_factory=list)
    peak_rss_mb: list[float] = field(default_factory=list)


def _peak_rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


class Output:
    """Everything the app wrote, with when each piece was read, so a marker read in the
    same chunk as an earlier one is still found (and timed) later."""

    def __init__(self, term: Pty) -> None:
        self.term = term
        self.data = bytearray()
        self.reads: list[tuple[int, float]] = []  # (end offset, monotonic time)
        self.mark = 0  # searches start here

    def wait(self, needle: bytes, timeout: float) -> float:
        """Read until `needle` is in the output after `mark`; when it was read."""
        deadline = time.monotonic() + timeout
        while True:
            at = self.data.find(needle, max(0, self.mark))
            if at >= 0:
                end = at + len(needle)
                self.mark = end
                return next(t for offset, t in self.reads if offset >= end)
            if time.monotonic() > deadline:
                raise TimeoutError(f"the app never wrote {needle!r}")
            self.read(0.0005)

    def read(self, timeout: float) -> None:
        if chunk := self.term.read(timeout):
            self.data += chunk
            self.reads.append((len(self.data), time.monotonic()))

    def settle(self, quiet: float, wait: float = 0.0) -> None:
        """Read for `wait` seconds, then until the app has written nothing for `quiet`
        seconds (keep it under the caret's half-second blink)."""
        end = time.monotonic() + wait
        while time.monotonic() < end:
            self.read(0.01)
        last = time.monotonic()
        while time.monotonic() - last < quiet:
            before = len(self.data)
            self.read(0.01)
            if len(self.data) != before:
                last = time.monotonic()
        self.mark = len(self.data)


def one_run(
    client: str, argv: list[str], server: TimedServer, cols: int, rows: int, replies: int
) -> Figures:
    figures = Figures()
    echoes = client != "raw"
    with tempfile.TemporaryDirectory(prefix="tui-chat-startup-") as home:
        start = time.monotonic()
        term = Pty(argv, cols, rows, home)
        out = Output(term)
        try:
            figures.start_to_prompt.append(out.wait(READY, 60) - start)
            os.write(term.fd, TYPED.encode())
            if echoes:
                figures.start_to_key.append(out.wait(TYPED.encode(), 30) - start)
            # Idle: the SDK, however it loads, is in (it took over 1.5 s on a loaded machine).
            out.settle(quiet=0.3, wait=3.0)
            for k in range(replies):
                if k:
                    os.write(term.fd, f"prompt {k}".encode())
                    out.settle(quiet=0.2, wait=0.2)
                # Its first cell differs from the last reply's: a frame sends a line
                # from its first changed cell, so a shared head would not be resent.
                marker = f"{chr(ord('A') + k)}ZZFIRSTZZ"
                server.reset()
                server.received_at.clear()
                chunks = [marker, " and", " a", " few", " more", " words."]
                server.enqueue(Script(chunks=chunks, first_delay=0.3))
                enter = time.monotonic()
                os.write(term.fd, b"\r")  # not pexpect's send: it sleeps 50 ms first
                seen = out.wait(marker.encode(), 30)
                server.wait_for_requests(1)
                (figures.enter_later if k else figures.enter_first).append(
                    server.received_at[0] - enter
                )
                while not server.chunk_times:  # noted just after the write returned
                    time.sleep(0.0001)
                figures.first_token.append(seen - server.chunk_times[0])
                _wait_for_chunks(server, len(chunks), 30)
                out.settle(quiet=0.2)  # the reply's end drawn (its meta line)
            if replies:  # the local model's, loading then, would say nothing of the app's
                figures.peak_rss_mb.append(_peak_rss_mb(term.pid))
        finally:
            term.close()
    return figures


def _wait_for_chunks(server: TimedServer, n: int, timeout: float) -> None:
    """Until the server has written the reply's `n` chunks (the end is then found by
    quiet: a marker for it could match cells the terminal already shows, and not be sent)."""
    deadline = time.monotonic() + timeout
    while len(server.chunk_times) < n:
        if time.monotonic() > deadline:
            raise TimeoutError("the server never wrote the whole reply")
        time.sleep(0.001)


def _cell(values: list[float], scale: float, unit: str, digits: int = 0) -> str:
    if not values:
        return "-"
    f = f"{{:.{digits}f}}"
    median = f.format(statistics.median(values) * scale)
    if len(values) == 1:
        return f"{median} {unit}"
    return f"{median} {unit} ({f.format(min(values) * scale)}-{f.format(max(values) * scale)})"


ROWS = (
    ("start -> prompt drawn", "start_to_prompt", 1, "s", 2),
    ("start -> typed key on screen", "start_to_key", 1, "s", 2),
    ("Enter -> request on the wire, 1st", "enter_first", 1000, "ms", 1),
    ("Enter -> request on the wire, later", "enter_later", 1000, "ms", 1),
    ("server's 1st token -> on screen", "first_token", 1000, "ms", 1),
    ("peak RSS", "peak_rss_mb", 1, "MB", 0),
)


SEGMENTS = (
    ("start -> first frame, CPU", "start_to_frame_cpu"),
    ("start -> Textual's import begins, CPU", "start_to_textual_cpu"),
    ("Textual imported -> first frame, CPU", "textual_to_frame_cpu"),
    ("driver started -> first frame, CPU", "driver_to_frame_cpu"),
)


def _marks_file(folder: str, client: str) -> str:
    return os.path.join(folder, client.replace(os.sep, "_") + ".jsonl")


def _print_segments(folder: Path, clients: list[str]) -> None:
    """Medians (interquartile range) of what `startup_marks` noted in each start."""
    print("\n| inside the app | " + " | ".join(clients) + " |")
    print("| --- |" + " --- |" * len(clients))
    rows: dict[str, list[dict[str, float]]] = {}
    for client in clients:
        path = Path(_marks_file(str(folder), client))
        lines = path.read_text().splitlines() if path.exists() else []
        rows[client] = [json.loads(line) for line in lines]
    for label, key in SEGMENTS:
        cells = []
        for client in clients:
            values = sorted(row[key] * 1000 for row in rows[client])
            if not values:
                cells.append("-")
                continue
            q1, q3 = values[len(values) // 4], values[(3 * len(values)) // 4]
            cells.append(f"{statistics.median(values):.0f} ms ({q1:.0f}-{q3:.0f})")
        print(f"| {label} | " + " | ".join(cells) + " |")
    print("median (first-third quartile) over all starts")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="starts of each client")
    parser.add_argument("--replies", type=int, default=3, help="replies per start")
    parser.add_argument("--size", default="120x40", help="terminal COLSxROWS")
    parser.add_argument("--api", default="chat", choices=("chat", "responses"))
    parser.add_argument(
        "--clients",
        default="raw,textual,tui-chat",
        help="comma-separated: raw, textual, tui-chat, tui-chat-local",
    )
    parser.add_argument("--args", default="", help="more arguments for tui-chat, one string")
    parser.add_argument(
        "--segments",
        action="store_true",
        help="also time, inside each Textual app, Textual's import to its first frame "
        "(benchmarks/startup_marks; it adds a little to every figure)",
    )
    args = parser.parse_args(argv)
    cols, rows = (int(v) for v in args.size.lower().split("x"))
    commands = {
        "raw": [sys.executable, str(HERE / "raw_print.py")],
        "textual": [sys.executable, str(HERE / "textual_floor.py")],
        "tui-chat": [*TUI_CHAT, *args.args.split()],
        "tui-chat-local": [*TUI_CHAT, *args.args.split()],
    }
    clients = args.clients.split(",")
    # tui-chat@DIR: tui-chat with DIR first on PYTHONPATH (a worktree of another commit),
    # taking turns start by start with the rest, so both meet the same machine.
    checkouts = {c: c.partition("@")[2] for c in clients if c.startswith("tui-chat") and "@" in c}
    for client, checkout in checkouts.items():
        if not (Path(checkout) / "tui_chat").is_dir():
            parser.error(f"{client}: no tui_chat package in {checkout}")
        commands[client] = commands[client.partition("@")[0]]
    if unknown := [c for c in clients if c not in commands]:
        parser.error(f"unknown --clients {unknown}; choose from {sorted(commands)} or tui-chat@DIR")
    shown = ["python", "benchmarks/startup_latency.py", *(sys.argv[1:] if argv is None else argv)]
    print(f"command: {' '.join(shown)}")
    print(
        f"machine: {os.cpu_count()} CPUs ({len(os.sched_getaffinity(0))} usable), "
        f"{platform.machine()}, Linux {platform.release()}, Python {platform.python_version()}, "
        f"textual {version('textual')}, openai {version('openai')}; {cols}x{rows}, "
        f"--api {args.api}, {args.runs} starts x {args.replies} replies"
    )
    results = {client: Figures() for client in clients}
    marks_dir = tempfile.TemporaryDirectory(prefix="tui-chat-marks-")
    python_path = os.environ.get("PYTHONPATH", "")
    load_before = os.getloadavg()[0]  # other work on the machine shows in every figure
    with TimedServer() as server:
        for run in range(args.runs):
            for client in clients:  # interleaved, so machine load hits both alike
                api = args.api if client.startswith("tui-chat") else "chat"  # floors: chat
                paths = [str(HERE / "startup_marks")] if args.segments else []
                paths += [checkouts.get(client, ""), python_path]
                os.environ["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
                local = client.startswith("tui-chat-local")
                argv_ = [*commands[client]]
                if not local:  # the local one: no provider flags and no key
                    argv_ += ["--api", api, "--model", "bench", "--base-url", server.openai_url]
                if args.segments:
                    os.environ["TUI_CHAT_BENCH_MARKS"] = _marks_file(marks_dir.name, client)
                got = one_run(client, argv_, server, cols, rows, 0 if local else args.replies)
                for name, values in vars(got).items():
                    getattr(results[client], name).extend(values)
            print(f"  run {run + 1}/{args.runs} done", file=sys.stderr)
    print()
    head = ["", *clients]
    table = [head, ["---"] * len(head)]
    for label, attr, scale, unit, digits in ROWS:
        table.append(
            [label, *(_cell(getattr(results[c], attr), scale, unit, digits) for c in clients)]
        )
    for line in table:
        print("| " + " | ".join(line) + " |")
    print("\nmedian (min-max) over all starts; see the module docstring for each figure.")
    if args.segments:
        _print_segments(Path(marks_dir.name), [c for c in clients if c != "raw"])
    marks_dir.cleanup()
    print(f"load average (1 min): {load_before:.2f} before, {os.getloadavg()[0]:.2f} after")
    return 0


if __name__ == "__main__":
    sys.exit(main())
