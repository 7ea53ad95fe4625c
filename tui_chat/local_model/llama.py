"""The Llama forward pass in NumPy: RMSNorm, RoPE, grouped-query attention, SwiGLU.

Rows are tokens throughout, so the same code runs the prompt (many rows, BLAS matrix
products) and each new token (one row). Per-token cost is dominated by reading ~540 MB of
float32 weights; fused QKV and gate/up matrices halve the BLAS calls per layer. How the
arithmetic rounds is the `kernels`' business (`numerics.py`, `exact_numerics.py`).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np

from tui_chat.local_model.gguf_weights import LlamaWeights
from tui_chat.local_model.numerics import FastKernels, Kernels, rope_cos_sin, round_f16

F32 = np.float32


class KVCache:
    """Keys and values of one sequence, preallocated for `capacity` positions.

    float32 arrays holding float16-rounded values: llama.cpp's cache is float16, and
    keeping the rounded values as float32 spares converting the whole cache every token.
    """

    def __init__(self, weights: LlamaWeights, capacity: int) -> None:
        c = weights.config
        shape = (c.n_layers, c.n_kv_heads, capacity, c.head_dim)
        self.k = np.zeros(shape, F32)
        self.v = np.zeros(shape, F32)
        self.capacity = capacity
        self.length = 0


class LlamaModel:
    """Read-only weights plus RoPE tables; all per-sequence state lives in a `KVCache`,
    so one model can serve several generations (one at a time per cache)."""

    def __init__(
        self, weights: LlamaWeights, kernels: Kernels | None = None, *, max_batch: int = 256
    ) -> None:
        """`max_batch`: prompt tokens per pass. Bounds the temporaries of a long prompt
        (llama.cpp splits prompts the same way, at 512 by default)."""
        c = weights.config
        if c.rope_dims != c.head_dim:
            raise ValueError("partial rotary embeddings are not supported")
        self.weights = weights
        self.config = c
        self.kernels: Kernels = kernels or FastKernels()
        self.max_batch = max_batch
        self.scale = float(F32(1.0) / np.sqrt(F32(c.head_dim)))
        self._cos = np.empty((0, c.head_dim // 2), F32)
        self._sin = self._cos
        self._rope_lock = threading.Lock()

    def new_cache(self, capacity: int | None = None) -> KVCache:
        limit = self.config.context_length
        return KVCache(self.weights, limit if capacity is None else min(capacity, limit))

    def _rope(self, p0: int, n: int) -> tuple[np.ndarray, np.ndarray]:
        """cos/sin rows for positions p0..n-1, computed on first use (in 256-row steps)."""
        with self._rope_lock:
            have = len(self._cos)
            if n > have:
                upto = min(-(-n // 256) * 256, self.config.context_length)
                cos, sin = rope_cos_sin(
                    range(have, upto), self.config.rope_dims, self.config.rope_base
                )
                self._cos = np.concatenate([self._cos, cos])
                self._sin = np.concatenate([self._sin, sin])
            return self._cos[p0:n], self._sin[p0:n]

    def forward(
        self, tokens: Sequence[int], cache: KVCache, *, all_logits: bool = False
    ) -> np.ndarray:
        """Append `tokens` to the sequence in `cache`; return the last position's logits
        (or, with `all_logits`, one row per token)."""
        if len(tokens) > self.max_batch:
            parts = [
                self.forward(tokens[i : i + self.max_batch], cache, all_logits=all_logits)
                for i in range(0, len(tokens), self.max_batch)
            ]
            return np.concatenate(parts) if all_logits else parts[-1]
        c, w, kern = self.config, self.weights, self.kernels
        t = len(tokens)
        p0, n = cache.length, cache.length + t
        if t == 0:
            raise ValueError("no tokens")
        if n > cache.capacity:
            raise ValueError(f"sequence of {n} tokens exceeds the cache ({cache.capacity})")
        hd, kvh = c.head_dim, c.n_kv_heads
        q_end, k_end = c.n_heads * hd, (c.n_heads + kvh) * hd
        cos, sin = self._rope(p0, n)

        x = w.token_embd[np.asarray(tokens)]
        for li, layer in enumerate(w.layers):
            h = kern.rms_norm(x, layer.attn_norm, c.rms_eps)
            qkv = kern.matmul(h, layer.qkv)
            q = kern.rope(qkv[:, :q_end].reshape(t, c.n_heads, hd), cos, sin)
            k = kern.rope(qkv[:, q_end:k_end].reshape(t, kvh, hd), cos, sin)
            v = qkv[:, k_end:].reshape(t, kvh, hd)
            cache.k[li, :, p0:n] = round_f16(k).transpose(1, 0, 2)
            cache.v[li, :, p0:n] = round_f16(v).transpose(1, 0, 2)
            att = kern.attention(q, cache.k[li, :, :n], cache.v[li, :, :n], p0, self.scale)
            x = x + kern.matmul(att, layer.wo)

            h = kern.rms_norm(x, layer.ffn_norm, c.rms_eps)
            gate_up = kern.matmul(h, layer.gate_up)
            ffn = kern.swiglu(gate_up[:, : c.ffn_dim], gate_up[:, c.ffn_dim :])
            x = x + kern.matmul(ffn, layer.down)
        cache.length = n
        h = kern.rms_norm(x if all_logits else x[-1:], w.output_norm, c.rms_eps)
        logits = kern.logits(h, w.output)
        return logits if all_logits else logits[0]
