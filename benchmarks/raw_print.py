"""The floor: a chat client that prints each streamed delta raw, as `print` would.

    python benchmarks/raw_print.py --base-url URL/v1 --model M

Reads one prompt per line from stdin, streams the reply from an OpenAI-compatible
`/chat/completions` endpoint and writes its text straight to stdout, then a meta line
ending in "tok/s" (the benchmark's end-of-reply marker). No screen, no styles, no
sanitising: only for benchmarking against a trusted fake server.
"""

from __future__ import annotations

import argparse
import json
import sys
import termios
import time
import urllib.request
from collections.abc import Iterator


def stream_deltas(base_url: str, model: str, prompt: str) -> Iterator[str]:
    """Each delta's text of a streamed `/chat/completions` reply, as it is read."""
    body = {"model": model, "stream": True, "messages": [{"role": "user", "content": prompt}]}
    request = urllib.request.Request(
        base_url.rstrip("/") + "/chat/completions",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request) as response:
        for raw in response:
            line = raw.strip()
            if not line.startswith(b"data: ") or line == b"data: [DONE]":
                continue
            for choice in json.loads(line[6:]).get("choices", []):
                if text := (choice.get("delta") or {}).get("content"):
                    yield text


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--model", default="bench")
    parser.add_argument("--api", default="chat")  # accepted like tui-chat's flags
    args = parser.parse_args()
    if sys.stdin.isatty():  # no echo of the prompt: only the reply counts
        attrs = termios.tcgetattr(0)
        attrs[3] &= ~termios.ECHO
        termios.tcsetattr(0, termios.TCSANOW, attrs)
    out = sys.stdout
    out.write("Enter a prompt\n")
    out.flush()
    for prompt in sys.stdin:
        start, tokens = time.monotonic(), 0
        for text in stream_deltas(args.base_url, args.model, prompt.strip()):
            tokens += 1
            out.write(text)
            out.flush()
        rate = tokens / max(time.monotonic() - start, 1e-9)
        out.write(f"\n{tokens} tokens, {rate:.1f} tok/s\n")
        out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
