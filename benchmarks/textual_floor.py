"""The framework's floor: the smallest Textual chat client, for start-up figures.

    python benchmarks/textual_floor.py --base-url URL/v1 --model M

A log and a prompt (a `TextArea` whose placeholder says "Enter"), nothing else: no
history, no styles of its own, no SDK. Enter streams the reply from an OpenAI-compatible
`/chat/completions` endpoint on a thread and appends each delta to the log. What this
costs is what any Textual app costs before its own code runs; `startup_latency.py` puts
it between the raw print and tui-chat. Only for benchmarking against a trusted fake
server: nothing is sanitised.
"""

from __future__ import annotations

import argparse
import sys

from raw_print import stream_deltas  # the same request and parsing as the raw floor
from textual import events, work
from textual.app import App, ComposeResult
from textual.widgets import Log, TextArea


class Prompt(TextArea):
    async def _on_key(self, event: events.Key) -> None:
        if event.key == "enter":  # sends, as tui-chat's prompt does
            event.stop()
            event.prevent_default()
            self.app.stream(self.text)  # type: ignore[attr-defined]
            self.clear()
        else:
            await super()._on_key(event)


class Floor(App[None]):
    AUTO_FOCUS = "TextArea"

    def __init__(self, base_url: str, model: str) -> None:
        super().__init__()
        self.base_url = base_url
        self.model = model

    def compose(self) -> ComposeResult:
        yield Log()
        yield Prompt(placeholder="Message  (Enter sends)")

    @work(thread=True)
    def stream(self, prompt: str) -> None:
        log = self.query_one(Log)
        for text in stream_deltas(self.base_url, self.model, prompt):
            self.call_from_thread(log.write, text)
        self.call_from_thread(log.write_line, " tok/s")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--model", default="bench")
    parser.add_argument("--api", default="chat")  # accepted like tui-chat's flags
    args = parser.parse_args()
    Floor(args.base_url, args.model).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
