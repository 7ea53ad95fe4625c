"""Regenerate the example recordings in this folder.

Each one is a real `tui-chat ask --record` run against the scripted fake server from
`tests/fake_server.py` (so no network and no key), which gives repeatable timing:

- ``chat-slow-first-token.jsonl``: Chat Completions, 2 s before the first token, then
  an ~80-token reply at ~25 tokens/s.
- ``backend-chunks.jsonl``: the backend protocol's raw text chunks, cut mid-word as a
  network would, one of them held back as a possible error marker.
- ``backend-error.jsonl``: a backend reply that fails with an error marker split
  across two chunks.
- ``local.jsonl`` (with ``--local``): the embedded local model, token by token.

Run from the repository root: ``python examples/make_recordings.py [--local]``.
Play one back with ``tui-chat ask --replay examples/chat-slow-first-token.jsonl hi``.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "tests"))

from fake_server import FakeLLMServer, Script  # noqa: E402

#: About 80 tokens, the length of a short but real answer.
SLOW_REPLY = (
    "A time-to-first-token of two seconds is common when a server is busy or the prompt"
    " is long: the model must read the whole prompt before it can write a word.\n\n"
    "After that, text arrives at a steady pace, here about 25 tokens per second, which"
    " feels like fast typing. tui-chat shows both numbers in the status line, so you can"
    " tell them apart."
)

BACKEND_CHUNKS = [
    "Chu",
    "nks on the w",
    "ire rarely line up ",
    "with words.\nThis re",
    "ply came in ragged pi",
    "eces; compare each payload",
    " with its text.\n",  # the trailing "\n" could start "\n[Error ...]": held back
    "[1] The text field sh",
    "ows what reached the screen.",
]

BACKEND_ERROR_CHUNKS = [
    "The answer starts well",
    " and then the backend",
    "\n[Error during",
    " generation]",
]


def tokens(text: str) -> list[str]:
    """Split like a BPE tokenizer roughly would: words with their leading space, long
    words in pieces of up to five characters."""
    pieces: list[str] = []
    for word in re.findall(r"\s*\S+|\s+", text):
        while len(word) > 6:
            pieces.append(word[:5])
            word = word[5:]
        pieces.append(word)
    return pieces


def ask(out: Path, *args: str) -> None:
    """`tui-chat ask ... --record out` with a clean environment (no key, no .env)."""
    out.unlink(missing_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "TUI_CHAT_"))}
    command = [sys.executable, "-m", "tui_chat", "ask", "--record", str(out), *args]
    result = subprocess.run(
        command, env=env, cwd=HERE, capture_output=True, text=True, timeout=300, check=False
    )
    status = "ok" if result.returncode == 0 else f"exit {result.returncode}"
    size = out.stat().st_size if out.exists() else 0
    print(f"{out.name}: {status}, {size / 1024:.1f} kB", result.stderr.strip())


def fake(
    server: FakeLLMServer, api: str, out: str, script: Script, prompt: str, *args: str
) -> None:
    server.enqueue(script)
    url = server.url if api == "backend" else server.openai_url
    ask(HERE / out, "--api", api, "--base-url", url, "--model", "fake-model", *args, prompt)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--local", action="store_true", help="also record the local model")
    options = parser.parse_args()
    with FakeLLMServer() as server:
        slow = tokens(SLOW_REPLY)
        fake(
            server,
            "chat",
            "chat-slow-first-token.jsonl",
            Script(chunks=slow, first_delay=2.0, delay=0.04, usage=(31, len(slow))),
            "Why does the first token take so long?",
        )
        fake(
            server,
            "backend",
            "backend-chunks.jsonl",
            Script(chunks=BACKEND_CHUNKS, delay=0.12),
            "Show me raw chunks.",
        )
        fake(
            server,
            "backend",
            "backend-error.jsonl",
            Script(chunks=BACKEND_ERROR_CHUNKS, first_delay=0.3, delay=0.2),
            "Fail half-way, please.",
        )
    if options.local:
        ask(
            HERE / "local.jsonl",
            "--api",
            "local",
            "--temperature",
            "0",
            "What is a terminal? Answer in two sentences.",
        )


if __name__ == "__main__":
    main()
