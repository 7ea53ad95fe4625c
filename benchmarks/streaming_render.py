"""How much a streamed reply costs to draw: the installed `tui-chat` in a real pty.

The fake LLM server (tests/fake_server.py) streams a deterministic Markdown reply
(headings, paragraphs, lists, fenced code, tables) of `--tokens` one-token chunks on a
fixed schedule at each `--rates` tokens/s. The app runs as the installed console script
in a pseudo-terminal; this process reads the terminal's bytes in a tight loop (counting
them and looking for marker words, never emulating the screen while the reply streams)
and samples the app's CPU time from /proc when the server has sent given chunks.

    python benchmarks/streaming_render.py                      # 100 and 1000 tok/s, 80x24
    python benchmarks/streaming_render.py --link 8000 --rates 20,100 --tokens 1100 \
        --replies 1 --sizes 80x24,120x40                       # behind a 64 kbit/s link
    python benchmarks/streaming_render.py --rates 1000 --tokens 5000 --sizes 80x24,120x40
    python benchmarks/streaming_render.py --rates 1000 --out /tmp/b --py-spy   # + profiles

With the defaults (two replies of 5,000 chunks at each rate) it takes about 3.5 minutes.
`--out DIR` keeps each run's raw terminal output; with `--py-spy` (pip install py-spy) it
also records the app's collapsed stacks over each reply's first and last thousand chunks.

Figures, per rate and terminal size, for each reply of one conversation (`--replies`):

- CPU s / 1k tok: the app's CPU seconds (user + system, every thread) from the first
  chunk sent to the 1,000th, and from the (N-1,000)th sent to the last one on screen.
  Flat from first to last (and from reply 1 to reply 2) means the cost per delta does
  not grow with the reply or the conversation.
- marker lag: time from the server writing a marker word (placed in plain text near
  every 1,000th chunk, and as the very last chunk) to it appearing in the terminal's
  byte stream. A lag that grows from marker to marker is a backlog; "skip" means the
  marker was never drawn at all (the app jumped past it between two frames).
- last token: server's last chunk written -> it on screen, in ms and in 60 Hz frames.
- bytes/char: bytes written to the terminal while the reply streamed, per character of
  reply text.

Each run has three clients (`--apps`): `raw`, a raw print of each delta
(benchmarks/raw_print.py, the floor); `plain`, the installed `tui-chat` on Textual's own
render path (`TUI_CHAT_RENDER=textual`); and `layered`, the installed `tui-chat` as it
ships, with the render layer (tui_chat/ui/render). `--link BYTES_PER_S` reads the pty no faster
than that (a token bucket of 20 ms), so output backs up as behind a slow SSH link; "first
tok" is then the server's first chunk -> on screen, and "last token" how far behind the
model the end of the reply shows up.

The app is started with its real flags (`--api chat --base-url <fake>/v1 --model bench`)
and a throwaway HOME. The terminal answers none of Textual's queries (like a plain
xterm), so frames are not wrapped in synchronized-output (mode 2026) markers.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import random
import re
import resource
import select
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path

import pexpect

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from fake_server import FakeLLMServer, Script

READY = b"Enter"  # the prompt's placeholder, drawn once the app is up
FINISHED = b"tok/s"  # the reply's meta line, written when the reply is complete
QUIET_BYTES = 160  # what a settled screen may still write per `settle` window (the caret)
KEY = "\u00a4"  # typed into the prompt while a reply streams; never in the reply
KEY_ECHO = KEY.encode()
PROBE = b"\x1b[6n"  # a cursor position request: a terminal answers it
FRAME = 1 / 60  # Textual's default frame interval (TEXTUAL_FPS)
CLK_TCK = os.sysconf("SC_CLK_TCK")

# -- the reply ------------------------------------------------------------------------

_WORDS = (
    "the a of to and in is it that for on with as by this be are from or at an we can "
    "stream render widget terminal reply token parser layout frame screen buffer delta "
    "markdown table code block cursor scroll anchor update batch queue event loop async "
    "worker server client latency cost length message history width height line cell "
    "simple quick steady small large first last every each only never always still"
).split()
_IDENTS = "buf rows cols text node item delta width total count cache state line".split()
_CODE_LINES = (
    "def {a}_{b}({c}: list[str]) -> int:",
    '    """Return the {b} of {c}."""',
    "    {a} = 0",
    "    for {b} in {c}:",
    "        {a} += len({b}) * {n}",
    "        if {a} > {m}:",
    "            break",
    "    return {a}",
    "",
    "class {A}{B}:",
    "    def __init__(self, {c}: int = {n}) -> None:",
    "        self.{c} = {c}",
    "        self.{a}: dict[str, int] = {{}}",
    "    async def {b}(self) -> None:",
    "        await self.{a}.flush({n}, timeout={m})",
)


def _sentence(rng: random.Random, words: int) -> str:
    out = [rng.choice(_WORDS) for _ in range(words)]
    out[0] = out[0].capitalize()
    if words > 6:
        out[rng.randrange(1, words - 1)] = f"**{rng.choice(_WORDS)}**"
        out[rng.randrange(1, words - 1)] = f"`{rng.choice(_IDENTS)}()`"
    return " ".join(out) + rng.choice(".....;!?")


def _code(rng: random.Random, lines: int) -> str:
    body = []
    for i in range(lines):
        a, b, c = rng.sample(_IDENTS, 3)
        line = _CODE_LINES[i % len(_CODE_LINES)].format(
            a=a,
            b=b,
            c=c,
            A=a.title(),
            B=b.title(),
            n=rng.randrange(2, 99),
            m=rng.randrange(100, 999),
        )
        body.append(line)
    return "```python\n" + "\n".join(body) + "\n```"


def _table(rng: random.Random, rows: int, cols: int) -> str:
    head = [rng.choice(_WORDS).title() for _ in range(cols)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * cols]
    for _ in range(rows):
        cells = [
            f"{rng.randrange(1, 9999)}" if c else f"`{rng.choice(_IDENTS)}`" for c in range(cols)
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


_TOKEN = re.compile(r" ?[A-Za-z]+| ?[0-9]{1,3}|\n+| ?[^\sA-Za-z0-9]{1,3}| +")


def tokenize(text: str) -> list[str]:
    """Split into ~1-token pieces like a BPE model's deltas (~4 characters each)."""
    out: list[str] = []
    for piece in _TOKEN.findall(text):
        while len(piece) > 7:  # long words come as several tokens
            out.append(piece[:4])
            piece = piece[4:]
        out.append(piece)
    assert "".join(out) == text
    return out


def make_reply(n_tokens: int, tag: str = "", seed: int = 5000) -> tuple[list[str], dict[int, str]]:
    """Exactly `n_tokens` chunks ending with an end marker; returns them and the markers.

    Markers ({chunk index: word}) are the first chunk (ZZ<tag>FIRSTZZ, a paragraph of
    its own), replace the first paragraph word at or after every 1,000th chunk
    (ZZ<tag>M1ZZ, ...) and are the last chunk (ZZ<tag>ENDZZ), so their
    arrival on screen shows in the terminal's byte stream. `tag` keeps each reply's
    markers apart from the ones of earlier replies still on screen. Only the markers
    depend on `tag`.
    """
    rng = random.Random(seed)
    chunks: list[str] = []
    prose: list[bool] = []  # chunk is a word of a paragraph (may become a marker)
    blocks: list[int] = [0]  # chunk indices where a block starts

    def add(text: str, is_prose: bool = False) -> None:
        pieces = tokenize(text)
        chunks.extend(pieces)
        prose.extend(is_prose and p[:1] == " " and p[1:].isalpha() for p in pieces)

    def paragraph(sentences: int) -> None:
        add(" ".join(_sentence(rng, rng.randrange(8, 18)) for _ in range(sentences)), True)
        add("\n\n")
        blocks.append(len(chunks))

    first = f"ZZ{tag}FIRSTZZ"
    chunks.append(first + "\n\n")  # one chunk, so its arrival is the first token's
    prose.append(False)
    blocks.append(1)
    section = 0
    while len(chunks) < n_tokens:
        section += 1
        add(f"## {section}. {_sentence(rng, 4).rstrip('.;!?')}\n\n")
        blocks.append(len(chunks))
        paragraph(rng.randrange(2, 5))
        add("".join(f"- {_sentence(rng, rng.randrange(5, 12))}\n" for _ in range(4)) + "\n")
        blocks.append(len(chunks))
        paragraph(2)
        if section % 2 == 1:
            add(_code(rng, rng.randrange(10, 16)) + "\n\n")
            blocks.append(len(chunks))
        if section % 5 == 3:
            add(_table(rng, rng.randrange(5, 8), 4) + "\n\n")
            blocks.append(len(chunks))
    cut = max(b for b in blocks if b <= n_tokens - 60)  # end on a whole block
    del chunks[cut:], prose[cut:]
    add("## Summary\n\nWords")
    while len(chunks) < n_tokens - 1:  # plain words to land exactly on n_tokens
        chunks.append(" " + rng.choice(_WORDS))
        prose.append(True)
    end = f"ZZ{tag}ENDZZ"
    chunks.append(" " + end)
    markers = {}
    for k in range(1000, n_tokens - 100, 1000):
        i = next(i for i in range(k - 1, n_tokens - 1) if prose[i])
        markers[i] = f"ZZ{tag}M{k // 1000}ZZ"
        chunks[i] = " " + markers[i]
    markers[n_tokens - 1] = end
    markers[0] = first
    assert len(chunks) == n_tokens and "".join(chunks).count(end) == 1
    return chunks, markers


# -- measuring the app ----------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system, all threads) used so far by process `pid`.

    Read from Linux's per-process CPU clock (CPUCLOCK_SCHED, ns resolution), else from
    /proc/<pid>/stat (clock ticks, usually 10 ms).
    """
    try:
        return time.clock_gettime((~pid << 3) | 2)
    except OSError:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK


@dataclass
class Reply:
    n: int
    rate: float
    markers: dict[int, str]  # chunk index -> marker word
    sent_at: list[float] = field(default_factory=list)  # server, per chunk
    cpu_at_chunk: dict[int, float] = field(default_factory=dict)  # chunk count -> app CPU
    seen_at: dict[str, float] = field(default_factory=dict)  # marker -> first time in pty
    cpu_end_seen: float = 0.0
    finished_at: float | None = None
    bytes_out: int = 0
    chars: int = 0
    bench_cpu: float = 0.0
    wall: float = 0.0
    key_lags: list[float] = field(default_factory=list)  # key typed -> its echo drawn


class Pty:
    """The app in a pseudo-terminal; read as raw bytes, never emulated while streaming."""

    def __init__(
        self,
        argv: list[str],
        cols: int,
        rows: int,
        home: str,
        save: Path | None = None,
        link: float = 0.0,
    ) -> None:
        # PYTHONPATH passes: a worktree of another commit on it is measured against this one.
        keep = ("PATH", "LANG", "LC_ALL", "PYTHONPATH", "TUI_CHAT_BENCH_MARKS")
        env = {k: v for k, v in os.environ.items() if k in keep}
        env.update(HOME=home, TERM="xterm-256color", COLORTERM="truecolor")
        env.setdefault("LANG", "C.UTF-8")
        self.child = pexpect.spawn(argv[0], argv[1:], env=env, cwd=home, dimensions=(rows, cols))
        self.fd = self.child.child_fd
        self.pid = self.child.pid
        self.total = 0
        self._save = save.open("wb") if save else None
        # A link of `link` bytes/s (0: unlimited): a token bucket holding at most 20 ms of
        # bytes. What it has not read stays in the pty, so the app's writes back up as
        # they would behind a slow SSH connection.
        self.link = link
        self._allowance = 0.0
        self._refilled = time.monotonic()
        self._tail = b""  # the last bytes read, for a probe split between two reads

    def read(self, timeout: float) -> bytes:
        """Whatever the app wrote within `timeout` (b"" if nothing); counts the bytes."""
        size = 1 << 20
        if self.link:
            now = time.monotonic()
            burst = max(self.link * 0.02, 1.0)
            self._allowance = min(burst, self._allowance + (now - self._refilled) * self.link)
            self._refilled = now
            if self._allowance < 1:
                time.sleep(min(timeout, (1 - self._allowance) / self.link))
                return b""
            size = int(self._allowance)
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return b""
        try:
            data = os.read(self.fd, size)
        except OSError:
            return b""
        self.total += len(data)
        self._allowance -= len(data)
        if self._save:
            self._save.write(data)
        self._answer_probes(data)
        return data

    def _answer_probes(self, data: bytes) -> None:
        """Answer each cursor position request (DSR 6) once read, as a terminal does
        once it has drawn what came before it (the app paces its frames by these)."""
        window = self._tail + data
        for _ in range(window.count(PROBE) - self._tail.count(PROBE)):
            os.write(self.fd, b"\x1b[2;1R")  # any row but the first (that one is a key's)
        self._tail = window[-(len(PROBE) - 1) :]

    def wait_for(self, needle: bytes, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        window = b""
        while time.monotonic() < deadline:
            window = (window + self.read(0.05))[-4096:]
            if needle in window:
                return
            if not self.child.isalive():  # say why now, not after the whole timeout
                said = re.sub(rb"\x1b\[[0-?]*[ -/]*[@-~]", b"", window).decode(errors="replace")
                raise RuntimeError(
                    f"the app exited before writing {needle!r}; it wrote:\n{said.strip()[-1500:]}"
                )
        raise TimeoutError(f"the app never wrote {needle!r}")

    def drain(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.read(0.02)

    def settle(self, quiet: float = 0.5, limit: float = 60.0) -> None:
        """Read until a `quiet`-second stretch brings next to nothing (a link's backlog
        drained): the prompt's blinking caret writes a few dozen bytes twice a second."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            before, window_end = self.total, time.monotonic() + quiet
            while time.monotonic() < window_end:
                self.read(0.02)
            if self.total - before < QUIET_BYTES:
                return

    def send(self, data: str) -> None:
        self.child.send(data)

    def close(self) -> None:
        try:
            self.child.sendcontrol("q")
            deadline = time.monotonic() + 10
            while self.child.isalive() and time.monotonic() < deadline:
                self.read(0.05)
        finally:
            if self.child.isalive():
                self.child.terminate(force=True)
            self.child.close()
            if self._save:
                self._save.close()


@dataclass
class Options:
    out: Path | None = None  # save the terminal output (and profiles) here
    py_spy: bool = False  # profile the first and last thousand chunks with py-spy
    profilers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def profile(self, pid: int, seconds: float, name: str) -> None:
        """Start py-spy on `pid` for `seconds` (rounded up), writing collapsed stacks."""
        if not (self.py_spy and self.out):
            return
        argv = ["py-spy", "record", "-p", str(pid), "-d", str(math.ceil(seconds)), "-r", "250"]
        argv += ["--nonblocking", "-f", "raw", "-o", str(self.out / f"{name}.txt")]
        self.profilers.append(
            subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        )

    def wait(self) -> None:
        for proc in self.profilers:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.profilers.clear()


def stream_one(
    term: Pty, server: FakeLLMServer, n: int, rate: float, tag: str, opts: Options, name: str
) -> Reply:
    """Send a prompt, stream one reply at `rate`, and measure it until it is finished."""
    chunks, markers = make_reply(n, tag)
    end_marker = markers[n - 1]
    reply = Reply(n=n, rate=rate, markers=markers, chars=len("".join(chunks)))
    server.reset()
    server.enqueue(Script(chunks=chunks, first_delay=0.2, delay=1 / rate, steady=True))
    # CPU samples when the server has sent these many chunks (last thousand ends on screen).
    sample_at = sorted({1, min(1000, n), max(1, n - 1000), n})
    pending = {m: i for i, m in markers.items()}
    longest = max(len(m) for m in markers.values())
    pid = term.pid
    bench0 = resource.getrusage(resource.RUSAGE_SELF)
    bytes0 = term.total
    start = time.monotonic()
    term.send("Write the whole benchmark document, please.\r")
    timeout = start + 30 + 3 * n / rate
    tail = b""
    keys_at = [n // 4, n // 2, 3 * n // 4]  # type a key when the server has sent these
    key_typed: float | None = None
    while time.monotonic() < timeout:
        data = term.read(0.001)
        sent = len(server.chunk_times)
        if keys_at and sent >= keys_at[0] and key_typed is None:
            keys_at.pop(0)
            term.send(KEY)
            key_typed = time.monotonic()
        while sample_at and sent >= sample_at[0]:
            at = sample_at.pop(0)
            reply.cpu_at_chunk[at] = cpu_seconds(pid)
            if at == 1:
                opts.profile(pid, min(1000, n) / rate, f"{name}-first")
            elif at == n - 1000:
                opts.profile(pid, 1000 / rate, f"{name}-last")
        if data:
            now = time.monotonic()
            window = tail + data
            if key_typed is not None and KEY_ECHO in window:
                reply.key_lags.append(now - key_typed)
                key_typed = None
                term.send("\x7f")  # and take it back out of the prompt
            for marker in [m for m in pending if m.encode() in window]:
                reply.seen_at[marker] = now
                del pending[marker]
                if marker == end_marker:
                    reply.cpu_end_seen = cpu_seconds(pid)
            if FINISHED in window and not pending:
                reply.finished_at = now
                break
            tail = window[-(longest + 8) :]
    reply.wall = time.monotonic() - start
    reply.sent_at = list(server.chunk_times)
    reply.bytes_out = term.total - bytes0
    bench1 = resource.getrusage(resource.RUSAGE_SELF)
    reply.bench_cpu = (bench1.ru_utime + bench1.ru_stime) - (bench0.ru_utime + bench0.ru_stime)
    return reply


@dataclass
class Run:
    app: str
    rate: float
    cols: int
    rows: int
    idle_cpu: float  # app CPU seconds per second, idle with the prompt focused, after the replies
    replies: list[Reply]


def run_app(
    app: str,
    command: list[str],
    server: FakeLLMServer,
    rate: float,
    cols: int,
    rows: int,
    replies: int,
    n: int,
    opts: Options,
    link: float = 0.0,
) -> Run:
    argv = [*command, "--api", "chat", "--base-url", server.openai_url, "--model", "bench"]
    name = f"{app}-{rate:g}-{cols}x{rows}"
    save = opts.out / f"{name}.out" if opts.out else None
    with tempfile.TemporaryDirectory(prefix="tui-chat-bench-") as home:
        term = Pty(argv, cols, rows, home, save, link)
        try:
            term.wait_for(READY, timeout=60)
            term.settle()
            done = []
            for k in range(replies):
                tag = chr(ord("A") + k)
                done.append(stream_one(term, server, n, rate, tag, opts, f"{name}-{k + 1}"))
                term.settle()
            # After the replies: just after start the SDK is still loading on its thread.
            cpu0, t0 = cpu_seconds(term.pid), time.monotonic()
            term.drain(2.0)
            idle = (cpu_seconds(term.pid) - cpu0) / (time.monotonic() - t0)
            return Run(app, rate, cols, rows, idle, done)
        finally:
            opts.wait()
            term.close()


# -- report -------------------------------------------------------------------------


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.0f}"


def report_rows(run: Run) -> list[list[str]]:
    rows = []
    for k, r in enumerate(run.replies, 1):
        n, sent, cpu = r.n, r.sent_at, r.cpu_at_chunk
        end_marker = r.markers[n - 1]
        complete = len(sent) == n and end_marker in r.seen_at
        achieved = (n - 1) / (sent[-1] - sent[0]) if len(sent) == n and n > 1 else float("nan")
        first_k = min(1000, n)
        first = (cpu[first_k] - cpu[1]) / (first_k - 1) * 1000 if first_k in cpu else None
        last = None
        if complete and (n - 1000) in cpu:
            last = (r.cpu_end_seen - cpu[max(1, n - 1000)]) / min(1000, n - 1) * 1000
        wall = sent[-1] - sent[0] if len(sent) == n else 0.0
        busy = (r.cpu_end_seen - cpu.get(1, 0.0)) / wall if complete and wall else None
        first_marker = r.markers[0]
        seen_first = r.seen_at.get(first_marker)
        first_tok = seen_first - sent[0] if seen_first and sent else None
        lags = []
        for index, marker in sorted(r.markers.items())[1:]:
            seen = r.seen_at.get(marker)
            lags.append(_ms(seen - sent[index]) if seen and index < len(sent) else "skip")
        end_lag = r.seen_at[end_marker] - sent[-1] if complete else None
        rows.append(
            [
                run.app,
                f"{run.rate:g}",
                f"{run.cols}x{run.rows}",
                str(k),
                f"{achieved:.0f}",
                "-" if first is None else f"{first:.3f}",
                "-" if last is None else f"{last:.3f}",
                "-" if busy is None else f"{busy * 100:.0f}%",
                _ms(first_tok),
                " ".join(lags),
                "-" if end_lag is None else f"{_ms(end_lag)} ({end_lag / FRAME:.1f})",
                f"{r.bytes_out / r.chars:.1f}",
                " ".join(_ms(lag) for lag in r.key_lags) or "-",
                f"{r.bench_cpu / r.wall * 100:.0f}%",
            ]
        )
    return rows


HEADER = [
    "app",
    "tok/s",
    "term",
    "reply",
    "sent tok/s",
    "CPU s/1k first",
    "CPU s/1k last",
    "app CPU",
    "first tok ms",
    "marker lag ms (1k,2k,...,end)",
    "last token ms (frames)",
    "bytes/char",
    "key echo ms",
    "bench CPU",
]


def print_table(rows: list[list[str]]) -> None:
    widths = [max(len(r[i]) for r in [HEADER, *rows]) for i in range(len(HEADER))]
    line = "  ".join(h.ljust(w) for h, w in zip(HEADER, widths, strict=True))
    print(line)
    print("-" * len(line))
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rates", default="100,1000", help="tokens/s, comma-separated")
    parser.add_argument("--tokens", type=int, default=5000, help="chunks in the reply")
    parser.add_argument("--sizes", default="80x24", help="terminal COLSxROWS, comma-separated")
    parser.add_argument(
        "--replies", type=int, default=2, help="replies in one conversation (same text)"
    )
    parser.add_argument(
        "--apps",
        default="raw,plain,layered",
        help="clients, comma-separated: raw (a raw print of each delta: the floor), plain "
        "(the installed tui-chat), layered (tui-chat with tui_chat.ui.render installed)",
    )
    parser.add_argument(
        "--link",
        type=float,
        default=0.0,
        metavar="BYTES_PER_S",
        help="read the pty at most this fast, like a slow SSH link (8000 = 64 kbit/s)",
    )
    parser.add_argument("--out", type=Path, help="save each run's terminal output here")
    parser.add_argument(
        "--py-spy",
        action="store_true",
        help="with --out: profile the app (py-spy) over the first and last thousand chunks",
    )
    args = parser.parse_args(argv)
    if args.py_spy and (args.out is None or shutil.which("py-spy") is None):
        parser.error("--py-spy needs --out DIR and py-spy on PATH (pip install py-spy)")
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
    opts = Options(out=args.out, py_spy=args.py_spy)
    if args.tokens < 1100:
        parser.error("--tokens must be at least 1100 (first and last thousand)")
    rates = [float(r) for r in args.rates.split(",")]
    sizes = [tuple(int(v) for v in s.lower().split("x")) for s in args.sizes.split(",")]
    exe = shutil.which("tui-chat")
    if exe is None:
        parser.error("the tui-chat console script is not on PATH (pip install -e .)")
    here = Path(__file__).resolve().parent
    commands = {
        "raw": [sys.executable, str(here / "raw_print.py")],
        # Textual's own render path, the layer switched off (`env` execs, same pid).
        "plain": ["env", "TUI_CHAT_RENDER=textual", exe],
        "layered": [exe],
    }
    apps = args.apps.split(",")
    if unknown := [a for a in apps if a not in commands]:
        parser.error(f"unknown --apps {unknown}; choose from {sorted(commands)}")

    chunks, markers = make_reply(args.tokens)
    text = "".join(chunks)
    lines = text.splitlines()
    command = [
        "python",
        "benchmarks/streaming_render.py",
        *(sys.argv[1:] if argv is None else argv),
    ]
    print(f"command: {' '.join(command)}")
    print(
        f"machine: {os.cpu_count()} CPUs ({len(os.sched_getaffinity(0))} usable), "
        f"{platform.machine()}, Linux {platform.release()}, Python {platform.python_version()}, "
        f"textual {version('textual')}, openai {version('openai')}"
    )
    print(f"link: {f'{args.link:g} bytes/s' if args.link else 'unlimited'}")
    print(
        f"reply: {len(chunks)} chunks, {len(text)} chars ({len(text) / len(chunks):.1f}/chunk), "
        f"{sum(li.startswith('```p') for li in lines)} code blocks, "
        f"{sum(li.startswith('|---') for li in lines)} tables, "
        f"{sum(li.startswith('## ') for li in lines)} headings, "
        f"{sum(li.startswith('- ') for li in lines)} list items; markers at chunks "
        + ", ".join(str(i + 1) for i in sorted(markers))
    )
    rows: list[list[str]] = []
    idle: list[str] = []
    with FakeLLMServer() as server:
        for cols, rows_ in sizes:
            for rate in rates:
                for app in apps:
                    run = run_app(
                        app,
                        commands[app],
                        server,
                        rate,
                        cols,
                        rows_,
                        args.replies,
                        args.tokens,
                        opts,
                        args.link,
                    )
                    rows += report_rows(run)
                    idle.append(f"{app} {run.idle_cpu * 100:.1f}% ({rate:g}, {cols}x{rows_})")
                    print(f"  done: {app} {rate:g} tok/s at {cols}x{rows_}", file=sys.stderr)
    print()
    print_table(rows)
    print()
    print(
        "first tok: server's first chunk -> on screen (ms). "
        "CPU s/1k first: app CPU from chunk 1 to 1,000 sent; last: from chunk N-1,000 sent\n"
        "to the last one on screen. app CPU: app CPU / wall time while streaming (100% = one\n"
        "core). marker lag: server wrote the marker -> it appeared in the terminal output;\n"
        "skip: never drawn (the app jumped past it between two frames: a sign of backlog).\n"
        "last token: server's last chunk -> on screen, in ms and 60 Hz frames. bytes/char:\n"
        "terminal bytes while streaming / reply characters. key echo: a key typed into the\n"
        "prompt at 1/4, 1/2 and 3/4 of the reply -> its echo in the terminal output (the\n"
        "raw client echoes nothing). bench CPU: this process (reader\n"
        f"+ fake server) / wall time. App idle CPU (prompt focused, after the replies): {', '.join(idle)}."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
