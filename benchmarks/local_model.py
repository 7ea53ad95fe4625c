"""Benchmark the embedded local model: load, first token, tokens/s, peak memory, keys.

    python benchmarks/local_model.py                      # every installed engine
    python benchmarks/local_model.py --engine xllamacpp --threads 1 2
    python benchmarks/local_model.py --keys --threads 1 2 # key latency while generating

Each measurement runs in its own child process, so load is from cold and peak RSS
(`ru_maxrss`) is that engine's own. Through `LocalProvider.stream` (the app's path):
- load: what the first request loads (imports, GGUF, weights, llama.cpp context);
- first token: request sent -> first text, after load, for a 50-token prompt
  (chat template included); the first request after load, and the best of the runs;
- tokens/s: the following tokens of a 128-token reply, sampling included;
- floor: llama.cpp's own prompt and generation figures from the same run (its
  `timings`), i.e. what is left when our thread, queue and event loop are taken away.

`--keys` runs the real app (headless, 80x24) on the local model and, while a reply
streams, types into the prompt: each figure is key delivered (as the terminal driver
delivers it) -> the prompt holds the key. The floor is the same with no reply running.

Targets on 2 cores: >= 90 tok/s, load <= 0.5 s, first token <= 0.3 s, peak RSS
<= 250 MB, keys acted on within 50 ms while generating.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

STORY = "Write a long story about a lighthouse keeper who finds a message in a bottle."
#: With SmolLM2's template (default system turn) this user message makes a 50-token prompt.
PROMPT_50 = STORY + " Make it sad."


def _rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


async def _engine_child(engine: str, n_tokens: int, repeat: int) -> dict:
    from tui_chat.core.protocol import ChatMessage, ChatRequest, Done, TextDelta
    from tui_chat.providers.local import LocalProvider

    provider = LocalProvider(backend=engine, seed=0, reuse_prompt=False)
    t0 = time.perf_counter()
    provider._engine()  # what the first request loads (imports included), in this thread
    load = time.perf_counter() - t0

    firsts, rates, prompt_tokens, counts = [], [], 0, []
    for i in range(repeat):
        provider.seed = i
        req = ChatRequest(
            messages=(ChatMessage("user", PROMPT_50),), model="m", max_tokens=n_tokens + 1
        )
        t0 = time.perf_counter()
        first = last = None
        async for event in provider.stream(req):
            if isinstance(event, TextDelta):
                last = time.perf_counter()
                first = first or last
            elif isinstance(event, Done):
                prompt_tokens = event.usage.input_tokens
                counts.append(event.usage.output_tokens)
        assert first is not None and last is not None
        firsts.append(first - t0)
        rates.append((counts[-1] - 1) / (last - first) if last > first else 0.0)
    floor = _floor(engine, n_tokens)
    return {
        "engine": engine,
        "threads": os.environ.get("TUI_CHAT_LOCAL_THREADS", "default"),
        "prompt_tokens": prompt_tokens,
        "tokens": counts,
        "load_s": round(load, 3),
        "first_token_s": [round(x, 3) for x in firsts],
        "tokens_per_s": [round(x, 1) for x in rates],
        "floor": floor,
        "peak_rss_mb": _rss_mb(),
    }


def _floor(engine: str, n_tokens: int) -> dict | None:
    """llama.cpp's own timings for the same prompt, straight from its server."""
    if engine != "xllamacpp":
        return None
    from tui_chat.local_model.gguf_weights import locate_model_file
    from tui_chat.local_model.xllama import get_model

    server = get_model(locate_model_file())._server
    body = {
        "messages": [{"role": "user", "content": PROMPT_50}],
        "max_tokens": n_tokens,
        "ignore_eos": True,
        "cache_prompt": False,
        "stream": True,
    }
    timings: dict = {}
    server.handle_chat_completions(body, lambda c: bool(timings.update(c.get("timings") or {})))
    return {
        "prompt_ms": round(timings.get("prompt_ms", 0), 1),
        "tokens_per_s": round(timings.get("predicted_per_second", 0), 1),
    }


async def _keys_child(presses: int) -> dict:
    from tui_chat.providers.local import LocalProvider
    from tui_chat.settings.config import LOCAL_MODEL, Settings
    from tui_chat.ui.app import ChatApp
    from tui_chat.ui.widgets.conversation.message import AssistantMessage
    from tui_chat.ui.widgets.prompt import PromptInput

    settings = Settings(api="local", model=LOCAL_MODEL, history=False)
    provider = LocalProvider(settings, max_tokens=4000, seed=0)
    app = ChatApp(settings, provider)

    async def typing(pilot: object, prompt: PromptInput) -> list[float]:
        """Each key as the terminal driver delivers it; timed until the prompt holds it.
        (Pilot's `press` also waits for the process to go idle, which a generating model
        never does.)"""
        from textual import events

        out = []
        for i in range(presses):
            key = "abcdefghij"[i % 10]
            before = len(prompt.text)
            event = events.Key(key, key)
            event.set_sender(app)
            t0 = time.perf_counter()
            app._driver.send_message(event)  # type: ignore[union-attr]
            while len(prompt.text) == before:
                await asyncio.sleep(0.0005)
            out.append((time.perf_counter() - t0) * 1000)
            await asyncio.sleep(0.03)  # a fast typist: ~30 keys/s
        prompt.clear()
        return out

    async with app.run_test(size=(80, 24)) as pilot:
        prompt = app.query_one(PromptInput)
        prompt.focus()
        idle = await typing(pilot, prompt)
        prompt.load_text(STORY)
        await pilot.press("enter")
        deadline = time.perf_counter() + 30
        while not any(m.shown_source for m in app.query(AssistantMessage)):
            assert time.perf_counter() < deadline, "no reply"
            await pilot.pause(0.02)
        stats = provider.last_run.stats if provider.last_run else None
        start_tokens, t0 = (stats.generated if stats else 0), time.perf_counter()
        streaming = await typing(pilot, prompt)
        generated = (stats.generated if stats else 0) - start_tokens
        rate = generated / (time.perf_counter() - t0)
        still = provider.last_run is not None and not provider.last_run.finished.is_set()
        await pilot.press("escape")
    return {
        "threads": os.environ.get("TUI_CHAT_LOCAL_THREADS", "default"),
        "idle_ms": idle,
        "streaming_ms": streaming,
        "tokens_during": generated,
        "tokens_per_s": round(rate, 1),
        "still_generating": still,
    }


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--engine", choices=["xllamacpp", "numpy"], action="append")
    ap.add_argument("--threads", type=int, nargs="*", default=[], help="llama.cpp threads to try")
    ap.add_argument("--tokens", type=int, default=128)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--keys", action="store_true", help="key latency while generating")
    ap.add_argument("--presses", type=int, default=40)
    ap.add_argument("--child", choices=["engine", "keys"], help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.child == "engine":
        result = asyncio.run(_engine_child(args.engine[0], args.tokens, args.repeat))
        print(json.dumps(result))
        return
    if args.child == "keys":
        print(json.dumps(asyncio.run(_keys_child(args.presses))))
        return

    from tui_chat.local_model.engine import xllamacpp_available

    print(
        f"# {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs,"
        f" Python {platform.python_version()}, load average {os.getloadavg()[0]:.2f}"
        " (other processes on these cores lower every figure)"
    )
    threads = args.threads or [0]

    def child(kind: str, extra: list[str], n_threads: int) -> dict:
        env = dict(os.environ)
        if n_threads:
            env["TUI_CHAT_LOCAL_THREADS"] = str(n_threads)
        cmd = [sys.executable, __file__, "--child", kind, *extra]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
        return json.loads(out.strip().splitlines()[-1])

    if args.keys:
        for n in threads:
            r = child("keys", ["--presses", str(args.presses)], n)
            s, idle = r["streaming_ms"], r["idle_ms"]
            print(
                f"keys, {r['threads']} threads: while generating median {statistics.median(s):.1f} ms,"
                f" p95 {_pct(s, 0.95):.1f} ms, max {max(s):.1f} ms"
                f" ({len(s)} keys; meanwhile the app showed {r['tokens_during']} tokens,"
                f" {r['tokens_per_s']} tok/s;"
                f" still generating at the end: {r['still_generating']})"
                f" | floor, no reply: median {statistics.median(idle):.1f} ms, max {max(idle):.1f} ms"
            )
        return

    engines = args.engine or (["xllamacpp", "numpy"] if xllamacpp_available() else ["numpy"])
    for engine in engines:
        for n in threads if engine == "xllamacpp" else [0]:
            extra = ["--engine", engine, "--tokens", str(args.tokens), "--repeat", str(args.repeat)]
            r = child("engine", extra, n)
            name = f"{engine} ({r['threads']} threads)" if engine == "xllamacpp" else engine
            floor = r["floor"]
            floor_text = (
                f" | floor (llama.cpp's timings): prompt {floor['prompt_ms']:.0f} ms,"
                f" {floor['tokens_per_s']:.1f} tok/s"
                if floor
                else ""
            )
            print(
                f"{name}: load {r['load_s']:.2f} s | first token {r['first_token_s'][0]:.3f} s"
                f" (best {min(r['first_token_s']):.3f} s)"
                f" ({r['prompt_tokens']}-token prompt) | {max(r['tokens_per_s']):.1f} tok/s"
                f" (runs {r['tokens_per_s']}, tokens {r['tokens']}) | peak RSS"
                f" {r['peak_rss_mb']:.0f} MB{floor_text}"
            )


if __name__ == "__main__":
    main()
