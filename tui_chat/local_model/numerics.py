"""The arithmetic of the forward pass: fast BLAS kernels that round like llama.cpp.

llama.cpp rounds on purpose in a few places, and we copy those roundings because they are
cheap and large compared to float32 noise:

- Before a matmul with a quantized weight the activation is quantized too, per block of
  32: Q8_1 (int8 codes + f16 scale + f16 block sum) for Q4_1 weights, Q8_0 for Q8_0
  weights (x86 kernel: scale 127/amax, round half to even).
- The KV cache is float16, and the query is rounded to float16 before its product with
  the keys (llama.cpp's non-flash attention path; it also rounds the softmax
  probabilities, which here is left to the exact kernels, see `attention`).

What these fast kernels do not copy is the order in which llama.cpp's SIMD code adds
things up. That matters more than one would think: a 1-ulp difference can move an
activation across a Q8 rounding boundary, and in a block holding one of this model's
huge outlier activations (|x| ≈ 80, so one step ≈ 0.6) that is a visible change that
then spreads. So greedy output follows llama.cpp for a while and then takes another,
equally plausible path. `exact_numerics.ExactKernels` reproduces the summation order
too, bit for bit, for tests.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from typing import Protocol

import numpy as np

from tui_chat.local_model.gguf_weights import QK, Linear

F32 = np.float32
F64 = np.float64
_127 = F32(127.0)
#: Query rows per attention block when processing a prompt.
_ATTN_ROWS = 128


class Kernels(Protocol):
    """What `llama.LlamaModel` needs; rows of `x` are tokens."""

    name: str

    def rms_norm(self, x: np.ndarray, weight: np.ndarray, eps: float) -> np.ndarray: ...

    def matmul(self, x: np.ndarray, lin: Linear) -> np.ndarray: ...

    def rope(self, x: np.ndarray, cos: np.ndarray, sin: np.ndarray) -> np.ndarray: ...

    def attention(
        self, q: np.ndarray, k: np.ndarray, v: np.ndarray, p0: int, scale: float
    ) -> np.ndarray: ...

    def swiglu(self, gate: np.ndarray, up: np.ndarray) -> np.ndarray: ...

    def logits(self, x: np.ndarray, lin: Linear) -> np.ndarray: ...


def round_f16(x: np.ndarray) -> np.ndarray:
    """Round to the nearest float16 value, kept as float32 (exactly representable)."""
    return x.astype(np.float16).astype(F32)


def shaped_view(a: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """`a` reshaped without copying (`reshape` silently copies strided slices)."""
    v = a.view()
    v.shape = shape
    return v


def q8_blocks(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """llama.cpp's x86 `quantize_row_q8_0/1` per 32-block of each row of `x`:
    integer codes q (as float32, shape rows × blocks × 32), the float32 scale d and its
    float16 rounding (the stored one)."""
    rows, n = x.shape
    xb = x.reshape(rows, n // QK, QK)
    amax = np.abs(xb).max(axis=-1)
    d = amax / _127
    # An all-zero block gets codes 0 whatever the multiplier; avoid dividing by zero.
    inv = _127 / np.where(amax == 0, _127, amax)
    q = np.rint(xb * inv[..., None])
    return q, d, round_f16(d)


def quantize_q8_0(x: np.ndarray) -> np.ndarray:
    """The activation as llama.cpp's Q8_0 dot product sees it (dequantized, same shape)."""
    q, _, d16 = q8_blocks(x)
    return (q * d16[..., None]).reshape(x.shape)


def quantize_q8_1(x: np.ndarray) -> np.ndarray:
    """Q8_1 activation plus one column per block holding the f16 block sum `s = d·Σq`,
    which meets the weight's block minimums (see `gguf_weights.Linear`)."""
    rows, n = x.shape
    q, d, d16 = q8_blocks(x)
    out = np.empty((rows, n + n // QK), F32)
    np.multiply(q, d16[..., None], out=shaped_view(out[:, :n], (rows, n // QK, QK)))
    out[:, n:] = round_f16(d * q.sum(axis=-1))
    return out


def _libm() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("m")
    if name is None:
        return None
    try:
        lib = ctypes.CDLL(name)
        for fn in ("cosf", "sinf", "powf"):
            getattr(lib, fn).restype = ctypes.c_float
        lib.cosf.argtypes = lib.sinf.argtypes = [ctypes.c_float]
        lib.powf.argtypes = [ctypes.c_float, ctypes.c_float]
    except (OSError, AttributeError):
        return None
    return lib


_LIBM = _libm()


def rope_cos_sin(positions: range, dims: int, base: float) -> tuple[np.ndarray, np.ndarray]:
    """cos/sin tables (len(positions), dims/2) built as ggml builds them: θ_{i+1} = θ_i·s in
    float32 with s = powf(base, -2/dims), θ_0 = position, then the C library's cosf/sinf
    (via ctypes; they differ from correctly rounded values in the last bit now and then).
    Without a C math library, float64 NumPy rounded to float32."""
    half = dims // 2
    if _LIBM is not None:
        scale = F32(_LIBM.powf(F32(base), F32(-2.0) / F32(dims)))
    else:
        scale = F32(F64(F32(base)) ** F64(F32(-2.0) / F32(dims)))
    theta = np.empty((len(positions), half), F32)
    theta[:, 0] = np.asarray(positions, F32)
    for i in range(1, half):
        np.multiply(theta[:, i - 1], scale, out=theta[:, i])
    if _LIBM is None:
        t64 = theta.astype(F64)
        return np.cos(t64).astype(F32), np.sin(t64).astype(F32)
    cosf, sinf = _LIBM.cosf, _LIBM.sinf
    flat = theta.ravel().tolist()
    cos = np.array([cosf(t) for t in flat], F32).reshape(theta.shape)
    sin = np.array([sinf(t) for t in flat], F32).reshape(theta.shape)
    return cos, sin


def causal_mask(t: int, p0: int, n: int) -> np.ndarray:
    """(t, n): 0 where row i (position p0+i) may see key j, else -inf."""
    return np.where(np.arange(n)[None, :] <= np.arange(p0, p0 + t)[:, None], F32(0), F32(-np.inf))


class FastKernels:
    """BLAS matmuls with llama.cpp's deliberate roundings (see the module docstring)."""

    name = "fast"

    def rms_norm(self, x: np.ndarray, weight: np.ndarray, eps: float) -> np.ndarray:
        sumsq = np.square(x).sum(axis=-1, dtype=F64)
        mean = (sumsq / x.shape[-1]).astype(F32)
        scale = F32(1.0) / np.sqrt(mean + F32(eps))
        return x * scale[:, None] * weight

    def matmul(self, x: np.ndarray, lin: Linear) -> np.ndarray:
        if lin.act == "q8_1":
            xq = quantize_q8_1(x)
        elif lin.act == "q8_0":
            xq = quantize_q8_0(x)
        elif lin.act == "f16":
            xq = round_f16(x)
        else:
            xq = x
        return xq @ lin.weight.T

    def logits(self, x: np.ndarray, lin: Linear) -> np.ndarray:
        return self.matmul(x, lin)

    def rope(self, x: np.ndarray, cos: np.ndarray, sin: np.ndarray) -> np.ndarray:
        """Rotate adjacent pairs (x[2i], x[2i+1]) of each head: ggml's "normal" RoPE.

        HF Llama rotates the two halves of a head instead; llama.cpp's converter permutes
        the Q/K weight rows when writing the GGUF so that pairs are adjacent, hence this.
        x: (tokens, heads, head_dim); cos/sin: (tokens, head_dim/2).
        """
        pairs = x.reshape(*x.shape[:-1], -1, 2)
        x0, x1 = pairs[..., 0], pairs[..., 1]
        c, s = cos[:, None, :], sin[:, None, :]
        out = np.empty_like(pairs)
        out[..., 0] = x0 * c - x1 * s
        out[..., 1] = x0 * s + x1 * c
        return out.reshape(x.shape)

    def attention(
        self, q: np.ndarray, k: np.ndarray, v: np.ndarray, p0: int, scale: float
    ) -> np.ndarray:
        """Causal grouped-query attention for t new rows at positions p0.. .

        q: (t, heads, hd); k, v: (kv_heads, n, hd) cache views, n = p0 + t, values already
        float16-rounded. Query head h uses KV head h // (heads / kv_heads). Long prompts
        go in blocks of query rows, each looking only at the keys it may see: half the
        work of the full square, and blocks that stay in cache.
        """
        t, heads, hd = q.shape
        kvh = k.shape[0]
        group = heads // kvh
        # Scaling by 1/sqrt(64) = 2^-3 is exact, so it can come before the dot products.
        qs = round_f16(q) * F32(scale)
        out = np.empty((t, heads * hd), F32)
        for i0 in range(0, t, _ATTN_ROWS):
            i1 = min(t, i0 + _ATTN_ROWS)
            rows, seen = i1 - i0, p0 + i1
            qc = qs[i0:i1].reshape(rows, kvh, group, hd).transpose(1, 3, 0, 2)
            # keys @ queries keeps the (contiguous) cache as BLAS's left operand.
            scores = k[:, :seen] @ qc.reshape(kvh, hd, rows * group)  # (kvh, seen, rows·g)
            scores = np.ascontiguousarray(scores.transpose(0, 2, 1))
            if rows > 1:
                mask = causal_mask(rows, p0 + i0, seen)[None, :, None, :]
                scores = (scores.reshape(kvh, rows, group, seen) + mask).reshape(scores.shape)
            e = np.exp(scores - scores.max(axis=-1, keepdims=True))
            inv = (1.0 / e.sum(axis=-1, dtype=F64, keepdims=True)).astype(F32)
            # llama.cpp rounds these probabilities to float16; on a long prompt that costs a
            # third of the time (NumPy casts to float16 without SIMD), for an effect well
            # below that of the summation order, so the fast kernels skip it.
            att = (e * inv) @ v[:, :seen]  # (kvh, rows·g, hd)
            out[i0:i1] = att.reshape(kvh, rows, group, hd).transpose(1, 0, 2, 3).reshape(rows, -1)
        return out

    def swiglu(self, gate: np.ndarray, up: np.ndarray) -> np.ndarray:
        return gate / (F32(1.0) + np.exp(-gate)) * up
