"""llama.cpp's x86 CPU kernels reproduced bit for bit, to prove the forward pass matches.

`numerics.FastKernels` rounds where llama.cpp rounds but adds in BLAS order, and this
model amplifies last-bit differences (see that module), so only an exact copy of
llama.cpp's summation order lets a test compare greedy output token for token. This is
it, for the build `CMAKE_ARGS="-DGGML_NATIVE=OFF" pip install llama-cpp-python` gives on
x86-64 (AVX2 + FMA + F16C kernels, no flash attention). Each piece was checked against
llama.cpp's own intermediate tensors:

- Q4_1 × Q8_1 (`ggml_vec_dot_q4_1_q8_1`): per 32-block, 8 lanes each holding an exact
  integer sum of 4 products, accumulated over blocks with one FMA per lane
  (`acc = fma(d_w·d_x, lanes, acc)`), then `hsum_float_8(acc) + Σ m_w·s_x`.
- F16 × F16, for Q·K and P·V: with several query rows `llamafile_sgemm` (tinyBLAS):
  8 lanes of FMA over k, then the same horizontal sum; with one row (decoding)
  `ggml_vec_dot_f16`: 4 × 8 lanes over steps of 32 and a different final reduction.
- Softmax: ggml's polynomial `ggml_v_expf`, sums of 8 in float added into a double.
- SiLU with the same `expf`; RoPE with `cosf`/`sinf` from the C library and the products
  fused as GCC compiles them (`fma(x0, cos, -x1·sin)`, `fma(x0, sin, x1·cos)`).
- RMSNorm: squares added in order into a double.

An FMA is emulated in float64: the product of two float32s is exact there, and the sum
is exact unless the operands are 2^29 apart (then double rounding could, very rarely,
differ in the last bit). The lane sums come from one batched BLAS product over
(block, lane) pairs: every partial sum is a small integer times the block scale, so
float32 holds it exactly.

Several times slower than the fast kernels, and a second copy of the weights; meant for tests and checks, not for chatting.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from tui_chat.local_model.gguf_weights import QK, Linear
from tui_chat.local_model.numerics import (
    F32,
    F64,
    FastKernels,
    causal_mask,
    q8_blocks,
    round_f16,
    shaped_view,
)

I32 = np.int32
#: Rows of activations handled at once (bounds the float64 temporaries).
_ROW_CHUNK = 16
#: Logits within this distance of the fast maximum are recomputed exactly.
_LOGIT_MARGIN = 0.05


def fma(a: np.ndarray, b: np.ndarray | np.float32, c: np.ndarray) -> np.ndarray:
    return (np.asarray(a, F64) * np.asarray(b, F64) + np.asarray(c, F64)).astype(F32)


def hsum8(a: np.ndarray) -> np.ndarray:
    """`hsum_float_8` over the last axis (8 lanes): (x4+x0)+(x6+x2) + (x5+x1)+(x7+x3)."""
    r = a[..., 4:] + a[..., :4]
    return (r[..., 0] + r[..., 2]) + (r[..., 1] + r[..., 3])


def fma_chain(terms: np.ndarray) -> np.ndarray:
    """acc = fma(…, …, acc) over axis 0, where `terms` (float64) are the exact products:
    each step adds in float64 and rounds the sum to float32, as one fused op would."""
    acc = np.zeros(terms.shape[1:], F32)
    for term in terms:
        np.add(acc, term, out=acc, casting="same_kind")
    return acc


def _hex(s: str) -> np.float32:
    return F32(float.fromhex(s))


_R = _hex("0x1.8p23")
_LOG2E = _hex("0x1.715476p+0")
_LN2_HI, _LN2_LO = _hex("0x1.62e4p-1"), _hex("0x1.7f7d1cp-20")
_C4, _C3 = _hex("0x1.0e4020p-7"), _hex("0x1.573e2ep-5")
_C2, _C1, _C0 = _hex("0x1.555e66p-3"), _hex("0x1.fffdb6p-2"), _hex("0x1.ffffecp-1")
_ONE_BITS = np.array(1.0, F32).view(I32)


def v_expf(x: np.ndarray) -> np.ndarray:
    """ggml's AVX2 `ggml_v_expf`, operation by operation."""
    x = np.asarray(x, F32)
    with np.errstate(all="ignore"):
        z = fma(x, _LOG2E, np.full_like(x, _R))
        n = z - _R
        b = fma(-n, _LN2_LO, fma(-n, _LN2_HI, x))
        e = z.view(I32) << I32(23)
        k = (e + _ONE_BITS).view(F32)
        u = b * b
        j = fma(fma(fma(np.full_like(b, _C4), b, np.full_like(b, _C3)), u, fma(np.full_like(b, _C2), b, np.full_like(b, _C1))), u, _C0 * b)  # fmt: skip
        out = fma(j, k, k)
        big = np.abs(n) > F32(126)
        if big.any():  # overflow / underflow path (e.g. masked -inf scores → exactly 0)
            g = np.where(n <= 0, np.array(0x82000000, np.uint32).view(I32), I32(0))
            s1 = (g + I32(0x7F000000)).view(F32)
            s2 = (e - g).view(F32)
            huge = np.abs(n) > F32(192)
            out = np.where(huge, s1 * s1, np.where(big, fma(s2, j, s2) * s1, out))
    return out


def _f16_dot_tinyblas(prod: np.ndarray) -> np.ndarray:
    """tinyBLAS F16 dot products: 8 lanes (index mod 8) of FMA, then `hsum_float_8`.
    `prod`: exact products, summed over the last axis (zero-padded to a multiple of 8)."""
    prod = _pad_last(prod, 8)
    lanes = prod.reshape(*prod.shape[:-1], -1, 8)
    return hsum8(fma_chain(np.moveaxis(lanes, -2, 0)))


def _f16_dot_vec(prod: np.ndarray) -> np.ndarray:
    """`ggml_vec_dot_f16` (AVX2): 4 accumulators × 8 lanes over steps of 32, then
    GGML_F32x8_REDUCE: (a0+a2)+(a1+a3), fold halves, two horizontal adds."""
    prod = _pad_last(prod, 32)
    lanes = prod.reshape(*prod.shape[:-1], -1, 4, 8)
    acc = fma_chain(np.moveaxis(lanes, -3, 0))  # (..., 4, 8)
    x = (acc[..., 0, :] + acc[..., 2, :]) + (acc[..., 1, :] + acc[..., 3, :])
    t0 = x[..., :4] + x[..., 4:]
    return (t0[..., 0] + t0[..., 1]) + (t0[..., 2] + t0[..., 3])


def _pad_last(a: np.ndarray, multiple: int) -> np.ndarray:
    extra = -a.shape[-1] % multiple
    if not extra:
        return a
    return np.concatenate([a, np.zeros((*a.shape[:-1], extra), a.dtype)], axis=-1)


class ExactKernels(FastKernels):
    name = "exact"

    def __init__(self, *, decode_attention: bool = False) -> None:
        """`decode_attention`: treat every row as llama.cpp treats a lone decoding step,
        so a recorded generation can be replayed in one batch (teacher forcing) and give
        the logits each step had."""
        self.decode_attention = decode_attention
        self._blocked: dict[int, np.ndarray] = {}

    def rms_norm(self, x: np.ndarray, weight: np.ndarray, eps: float) -> np.ndarray:
        sumsq = np.cumsum(np.square(x).astype(F64), axis=-1)[:, -1]
        mean = (sumsq / x.shape[-1]).astype(F32)
        scale = F32(1.0) / np.sqrt(mean + F32(eps))
        return x * scale[:, None] * weight

    def matmul(self, x: np.ndarray, lin: Linear) -> np.ndarray:
        if lin.act != "q8_1" or lin.scales is None:
            return super().matmul(x, lin)  # not used by this model's layers
        return np.concatenate(
            [self._q4_1(x[i : i + _ROW_CHUNK], lin) for i in range(0, len(x), _ROW_CHUNK)]
        )

    def _q4_1(self, x: np.ndarray, lin: Linear) -> np.ndarray:
        t, n = x.shape
        nb = n // QK
        q, d, d16 = q8_blocks(x)  # (t, nb, 32)
        s = round_f16(d * q.sum(axis=-1))  # (t, nb): Q8_1 block sums
        # Lane j of block b sums elements 4j..4j+3: (nb, 8, rows, 4) @ (nb, 8, 4, t).
        codes = q.reshape(t, nb, 8, 4).transpose(1, 2, 3, 0)
        sums = self._lanes(lin) @ codes  # (nb, 8, rows, t) = d_w · integer sums, exact
        # d_x · d_w · L is llama.cpp's fma operand product (d_w·d_x is exact in float32),
        # exact in float64. Formed block by block into one buffer: cheaper than a big temp.
        dx = d16.T.astype(F64)  # (nb, t)
        acc = np.zeros(sums.shape[1:], F32)  # (8, rows, t)
        term = np.empty(sums.shape[1:], F64)
        for b in range(nb):
            np.multiply(sums[b], dx[b], out=term)
            np.add(acc, term, out=acc, casting="same_kind")
        mins = lin.weight[:, n:]  # (rows, nb)
        summs = np.cumsum(mins[:, :, None] * s.T[None, :, :], axis=1, dtype=F32)[:, -1]
        return (hsum8(np.moveaxis(acc, 0, -1)) + summs).T

    def _lanes(self, lin: Linear) -> np.ndarray:
        """The scaled weights as (blocks, lane, rows, 4), contiguous, so one batched BLAS
        call yields every lane sum. A second copy of the weights (~425 MB), made on first
        use: exact mode is for tests."""
        key = id(lin.weight)
        cached = self._blocked.get(key)
        if cached is None:
            n, rows = lin.in_features, lin.weight.shape[0]
            view = shaped_view(lin.weight[:, :n], (rows, n // QK, 8, 4))
            cached = self._blocked[key] = np.ascontiguousarray(view.transpose(1, 2, 0, 3))
        return cached

    def logits(self, x: np.ndarray, lin: Linear) -> np.ndarray:
        """Fast logits, with the ones that could be the maximum recomputed exactly
        (`ggml_vec_dot_q8_0_q8_0`: same lanes and FMA chain as Q4_1, no minimums)."""
        out = super().logits(x, lin)
        if lin.act != "q8_0" or lin.scales is None:
            return out
        nb = lin.in_features // QK
        q, _, d16 = q8_blocks(x)
        for r, row in enumerate(out):
            cand = np.nonzero(row >= row.max() - _LOGIT_MARGIN)[0]
            w = lin.weight[cand].reshape(len(cand), nb, QK)
            wcodes = np.rint(w / lin.scales[cand][:, :, None]).astype(F64)
            ints = (wcodes * q[r].astype(F64)).reshape(len(cand), nb, 8, 4).sum(axis=-1)
            dd = (lin.scales[cand] * d16[r]).astype(F64)  # (cand, nb), exact
            row[cand] = hsum8(fma_chain((ints * dd[:, :, None]).transpose(1, 0, 2)))
        return out

    def rope(self, x: np.ndarray, cos: np.ndarray, sin: np.ndarray) -> np.ndarray:
        pairs = x.reshape(*x.shape[:-1], -1, 2)
        x0, x1 = pairs[..., 0], pairs[..., 1]
        c, s = cos[:, None, :], sin[:, None, :]
        out = np.empty_like(pairs)
        out[..., 0] = fma(x0, c, -(x1 * s))
        out[..., 1] = fma(x0, s, x1 * c)
        return out.reshape(x.shape)

    def attention(
        self, q: np.ndarray, k: np.ndarray, v: np.ndarray, p0: int, scale: float
    ) -> np.ndarray:
        t = q.shape[0]
        n = k.shape[1]
        # One query row: ggml's vec_dot_f16; several: llamafile's tinyBLAS (see module doc).
        dot = _f16_dot_tinyblas if t > 1 and not self.decode_attention else _f16_dot_vec
        # Keep the float64 products near 32 MB: rows × keys per chunk.
        step = max(1, 6000 // max(n, 1))
        return np.concatenate(
            [
                self._attention_rows(q[i : i + step], k, v, p0 + i, scale, n, dot)
                for i in range(0, t, step)
            ]
        )

    def _attention_rows(
        self,
        q: np.ndarray,
        k: np.ndarray,
        v: np.ndarray,
        p0: int,
        scale: float,
        n: int,
        dot: Callable[[np.ndarray], np.ndarray],
    ) -> np.ndarray:
        t, heads, hd = q.shape
        kvh = k.shape[0]
        group = heads // kvh
        n32 = -(-n // 32) * 32  # llama.cpp pads the KV length; padding adds exact zeros
        qh = round_f16(q).reshape(t, kvh, group, hd).transpose(1, 2, 0, 3)  # (kvh, g, t, hd)
        seen = min(n, p0 + t)  # later keys are masked for every row of this chunk
        scores = dot(qh[:, :, :, None, :].astype(F64) * k[:, None, None, :seen].astype(F64))

        wp = np.full((kvh, group, t, n32), -np.inf, F32)
        wp[..., :seen] = scores * F32(scale)
        wp[..., :seen] += causal_mask(t, p0, seen)
        val = v_expf(wp - wp.max(axis=-1, keepdims=True))
        chunks = hsum8(val.reshape(*val.shape[:-1], n32 // 8, 8)).astype(F64)
        inv = (1.0 / np.cumsum(chunks, axis=-1)[..., -1]).astype(F32)
        p16 = round_f16(val[..., :seen] * inv[..., None])

        values = v[:, :seen].transpose(0, 2, 1).astype(F64)  # (kvh, hd, seen)
        att = dot(p16[:, :, :, None, :].astype(F64) * values[:, None, None])  # (kvh, g, t, hd)
        return att.transpose(2, 0, 1, 3).reshape(t, heads * hd)

    def swiglu(self, gate: np.ndarray, up: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore"):
            return gate / (F32(1.0) + v_expf(F32(0.0) - gate)) * up
