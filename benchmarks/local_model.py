"""Benchmark the embedded local model: load time, first token, tokens/s, peak memory.

    python benchmarks/local_model.py                 # numpy, and llama_cpp if importable
    python benchmarks/local_model.py --backend numpy --tokens 128 --repeat 3

Each backend runs in its own child process so peak RSS (`ru_maxrss`) is its own.
- load: `get_engine()` from cold (GGUF parse, dequantize, tokenizer), in-process;
- first token: chat prompt → prompt processed → first token sampled (after load);
- tokens/s: the next N tokens (sampling included, stop tokens ignored so N is fixed);
- peak RSS of the whole child process.
Targets on 2 cores: load ≤ 2 s, first token ≤ 1.5 s, ≥ 30 tokens/s, peak ≤ 700 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PROMPT = "Write a short story about a lighthouse keeper who finds a message in a bottle."


def child(backend: str, n_tokens: int, repeat: int, prompt_words: int = 0) -> dict:
    from tui_chat.local_model.engine import get_engine
    from tui_chat.local_model.sampling import Sampler, SamplingParams

    t0 = time.perf_counter()
    engine = get_engine(backend)
    load = time.perf_counter() - t0

    text = (
        PROMPT + " Some context: " + " ".join(["lighthouse"] * prompt_words)
        if prompt_words
        else PROMPT
    )
    prompt, _ = engine.chat.prompt_ids([("user", text)], engine.config.context_length // 2)
    firsts, rates = [], []
    for i in range(repeat):
        sampler = Sampler(SamplingParams(seed=i))
        history = list(prompt)
        t0 = time.perf_counter()
        seq = engine.backend.new_sequence(len(prompt) + n_tokens + 1)
        logits = seq.feed(prompt)
        token = sampler(logits, history)
        firsts.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        for _ in range(n_tokens):
            history.append(token)
            logits = seq.feed([token])
            token = sampler(logits, history)
        rates.append(n_tokens / (time.perf_counter() - t0))
    return {
        "backend": engine.backend.name,
        "numerics": os.environ.get("TUI_CHAT_LOCAL_NUMERICS", "fast") if backend == "numpy" else "",
        "prompt_tokens": len(prompt),
        "load_s": round(load, 3),
        "first_token_s": [round(x, 3) for x in firsts],
        "tokens_per_s": [round(x, 1) for x in rates],
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "threads": threading.active_count(),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--backend", choices=["numpy", "llama_cpp"], action="append")
    ap.add_argument("--tokens", type=int, default=128)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--prompt-words", type=int, default=0, help="pad the prompt (long-prompt TTFT)")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.child:
        print(json.dumps(child(args.backend[0], args.tokens, args.repeat, args.prompt_words)))
        return

    from tui_chat.local_model.engine import llama_cpp_available

    backends = args.backend or (["numpy", "llama_cpp"] if llama_cpp_available() else ["numpy"])
    print(
        f"# {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    )
    for backend in backends:
        cmd = [sys.executable, __file__, "--child", "--backend", backend]
        cmd += ["--tokens", str(args.tokens), "--repeat", str(args.repeat)]
        cmd += ["--prompt-words", str(args.prompt_words)]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        r = json.loads(out.strip().splitlines()[-1])
        name = f"{r['backend']} ({r['numerics']})" if r["numerics"] else r["backend"]
        print(
            f"{name:>14}: load {r['load_s']:.2f} s | first token {min(r['first_token_s']):.2f} s"
            f" ({r['prompt_tokens']} prompt tokens) | {max(r['tokens_per_s']):.1f} tokens/s"
            f" over {args.tokens} (runs: {r['tokens_per_s']}) | peak RSS {r['peak_rss_mb']:.0f} MB"
        )


if __name__ == "__main__":
    main()
