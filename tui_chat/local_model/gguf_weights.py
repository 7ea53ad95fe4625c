"""Find the GGUF file, read its metadata, and turn its tensors into float32 matrices.

The header is parsed here rather than with `gguf.GGUFReader`: the reader builds one NumPy
view per vocabulary string (~98k of them) and takes 1.6 s on this model, most of the load
budget. The file layout is simple and `gguf` still supplies the type enums, block sizes
and dequantization (`gguf.quants.dequantize`); a test checks this parser against
`GGUFReader`.

Matrices are kept in the form the forward pass wants (see `numerics.py`): float32,
C-contiguous, (out_features, in_features). For Q4_1 weights llama.cpp computes
`Σ d_w·d_x·(q4·q8) + m_w·s_x` per 32-block, so the block minimums `m_w` are kept apart from
the scaled part `d_w·q4` and appended as extra columns; the activation side appends the
matching block sums `s_x`. One BLAS call then gives llama.cpp's result.
"""

from __future__ import annotations

import mmap
import os
import struct
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from gguf import GGML_QUANT_SIZES, GGMLQuantizationType, GGUFValueType
from gguf.quants import dequantize

from tui_chat.local_model.common import (  # noqa: F401  (re-exported: the old home)
    INSTALL_COMMAND,
    MODEL_ENV,
    MODEL_FILENAME,
    MODEL_PACKAGE,
    ModelLoadError,
    locate_model_file,
)

GGUF_MAGIC = b"GGUF"
DEFAULT_ALIGNMENT = 32

#: How llama.cpp's CPU backend feeds the activation into a matmul with this weight type
#: (`vec_dot_type` in ggml-cpu): Q8_0 for symmetric quants, Q8_1 (with block sums) for
#: quants with a minimum, F16 for F16 weights, nothing for F32.
ActQuant = Literal["q8_0", "q8_1", "f16", "none"]
_ACT_BY_TYPE: dict[GGMLQuantizationType, ActQuant] = {
    GGMLQuantizationType.F32: "none",
    GGMLQuantizationType.F16: "f16",
    GGMLQuantizationType.Q4_0: "q8_0",
    GGMLQuantizationType.Q5_0: "q8_0",
    GGMLQuantizationType.Q8_0: "q8_0",
    GGMLQuantizationType.Q4_1: "q8_1",
}
QK = 32  # block size of Q4_0/Q4_1/Q8_0/Q8_1


@dataclass(frozen=True, slots=True)
class TensorInfo:
    name: str
    #: NumPy order (rows first): the reverse of GGUF's `ne`.
    shape: tuple[int, ...]
    qtype: GGMLQuantizationType
    offset: int  # absolute file offset of the data

    @property
    def nbytes(self) -> int:
        block, size = GGML_QUANT_SIZES[self.qtype]
        return int(np.prod(self.shape)) // block * size


class GGUFFile:
    """Metadata and tensor index of a little-endian GGUF v2/v3 file.

    Tensor bytes are read on demand with `pread` rather than kept memory-mapped, so the
    quantized file does not sit in the process's resident memory next to the float32
    copies.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        try:
            self._map = mmap.mmap(self._fd, 0, access=mmap.ACCESS_READ)
            try:
                self._parse_header()
            finally:
                self._map.close()
        except BaseException:
            os.close(self._fd)
            raise

    def _parse_header(self) -> None:
        buf = self._map
        if buf[:4] != GGUF_MAGIC:
            raise ValueError("not a GGUF file (bad magic)")
        version, n_tensors, n_kv = struct.unpack_from("<IQQ", buf, 4)
        if version not in (2, 3):
            raise ValueError(f"unsupported GGUF version {version}")
        self._pos = 24
        self.metadata: dict[str, Any] = {}
        for _ in range(n_kv):
            key = self._string()
            (vtype,) = self._unpack("<I")
            self.metadata[key] = self._value(vtype)
        infos = []
        for _ in range(n_tensors):
            name = self._string()
            (n_dims,) = self._unpack("<I")
            dims = self._unpack(f"<{n_dims}Q")
            qtype, offset = self._unpack("<IQ")
            infos.append((name, tuple(reversed(dims)), GGMLQuantizationType(qtype), offset))
        align = int(self.metadata.get("general.alignment", DEFAULT_ALIGNMENT))
        data_start = -(-self._pos // align) * align
        self.tensors: dict[str, TensorInfo] = {
            name: TensorInfo(name, shape, qtype, data_start + offset)
            for name, shape, qtype, offset in infos
        }

    def raw(self, name: str) -> np.ndarray:
        """The tensor's bytes as uint8 rows."""
        info = self.tensors[name]
        data = os.pread(self._fd, info.nbytes, info.offset)
        if len(data) != info.nbytes:
            raise ValueError(f"{self.path} is truncated (tensor {name})")
        rows = int(np.prod(info.shape[:-1]))
        return np.frombuffer(data, np.uint8).reshape(rows, -1)

    def float32(self, name: str, out: np.ndarray | None = None) -> np.ndarray:
        """The tensor dequantized to float32 in NumPy shape (into `out` if given)."""
        info = self.tensors[name]
        if out is None:
            out = np.empty(info.shape, np.float32)
        raw = self.raw(name)
        if info.qtype == GGMLQuantizationType.F32:
            out[...] = raw.view(np.float32).reshape(info.shape)
        elif info.qtype == GGMLQuantizationType.F16:
            out[...] = raw.view(np.float16).reshape(info.shape)
        elif info.qtype == GGMLQuantizationType.Q8_0:
            _fill_q8_0(raw, _view(out, (raw.shape[0], -1)))
        else:
            out[...] = dequantize(raw, info.qtype).reshape(info.shape)
        return out

    def close(self) -> None:
        os.close(self._fd)

    def __enter__(self) -> GGUFFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- header parsing -------------------------------------------------------------
    def _unpack(self, fmt: str) -> tuple[Any, ...]:
        values = struct.unpack_from(fmt, self._map, self._pos)
        self._pos += struct.calcsize(fmt)
        return values

    def _string(self) -> str:
        (n,) = struct.unpack_from("<Q", self._map, self._pos)
        start = self._pos + 8
        self._pos = start + n
        return self._map[start : start + n].decode("utf-8", errors="replace")

    _SCALARS = {
        GGUFValueType.UINT8: "<B",
        GGUFValueType.INT8: "<b",
        GGUFValueType.UINT16: "<H",
        GGUFValueType.INT16: "<h",
        GGUFValueType.UINT32: "<I",
        GGUFValueType.INT32: "<i",
        GGUFValueType.FLOAT32: "<f",
        GGUFValueType.BOOL: "<?",
        GGUFValueType.UINT64: "<Q",
        GGUFValueType.INT64: "<q",
        GGUFValueType.FLOAT64: "<d",
    }

    def _value(self, vtype: int) -> Any:
        if vtype == GGUFValueType.STRING:
            return self._string()
        if vtype == GGUFValueType.ARRAY:
            item_type, count = self._unpack("<IQ")
            if item_type == GGUFValueType.STRING:
                return [self._string() for _ in range(count)]
            if item_type == GGUFValueType.ARRAY:
                return [self._value(item_type) for _ in range(count)]
            fmt = self._SCALARS[GGUFValueType(item_type)]
            return list(self._unpack(f"<{count}{fmt[1]}"))
        return self._unpack(self._SCALARS[GGUFValueType(vtype)])[0]


@dataclass(frozen=True, slots=True)
class ModelConfig:
    n_layers: int
    dim: int
    ffn_dim: int
    n_heads: int
    n_kv_heads: int
    head_dim: int
    rope_dims: int
    rope_base: float
    rms_eps: float
    context_length: int
    vocab_size: int

    @classmethod
    def from_metadata(cls, meta: dict[str, Any]) -> ModelConfig:
        arch = meta.get("general.architecture")
        if arch != "llama":
            raise ValueError(f"architecture {arch!r} is not supported (only llama)")

        def get(key: str) -> Any:
            return meta[f"llama.{key}"]

        dim = int(get("embedding_length"))
        n_heads = int(get("attention.head_count"))
        head_dim = dim // n_heads
        return cls(
            n_layers=int(get("block_count")),
            dim=dim,
            ffn_dim=int(get("feed_forward_length")),
            n_heads=n_heads,
            n_kv_heads=int(meta.get("llama.attention.head_count_kv", n_heads)),
            head_dim=head_dim,
            rope_dims=int(meta.get("llama.rope.dimension_count", head_dim)),
            rope_base=float(meta.get("llama.rope.freq_base", 10000.0)),
            rms_eps=float(get("attention.layer_norm_rms_epsilon")),
            context_length=int(get("context_length")),
            vocab_size=len(meta["tokenizer.ggml.tokens"]),
        )


@dataclass(frozen=True, slots=True)
class Linear:
    """A weight matrix ready for the kernels in `numerics.py`.

    `weight` is (out, in) float32, plus in/32 columns of block minimums for Q4_1.
    `scales` holds the per-block weight scales d_w (out, in/32) of Q4_1/Q8_0 weights: the
    bit-exact kernels need them to recover llama.cpp's integer block sums.
    """

    weight: np.ndarray
    act: ActQuant
    in_features: int
    scales: np.ndarray | None = None


@dataclass(frozen=True, slots=True)
class LayerWeights:
    attn_norm: np.ndarray
    qkv: Linear  # Q, K and V rows fused: one matmul instead of three
    wo: Linear
    ffn_norm: np.ndarray
    gate_up: Linear  # gate rows then up rows
    down: Linear


@dataclass(frozen=True, slots=True)
class LlamaWeights:
    config: ModelConfig
    token_embd: np.ndarray  # (vocab, dim) float32, rows looked up per token
    layers: tuple[LayerWeights, ...]
    output_norm: np.ndarray
    output: Linear  # often the same storage as token_embd (tied embeddings)


def _view(a: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """`a` reshaped without copying (reshape would silently copy a strided slice)."""
    v = a.view()
    v.shape = shape
    return v


def _block_scales(raw: np.ndarray, block_bytes: int) -> np.ndarray:
    """The f16 scale `d` that starts every block, as float32 (rows, blocks)."""
    blocks = raw.reshape(raw.shape[0], -1, block_bytes)
    return np.ascontiguousarray(blocks[:, :, 0:2]).view(np.float16)[..., 0].astype(np.float32)


def _fill_q8_0(raw: np.ndarray, out: np.ndarray) -> None:
    """Q8_0 blocks [d:f16, 32 × int8] → d·q. Same values as `gguf.quants.dequantize`, but
    about 10× faster on the 28M-entry embedding (it dominated load time)."""
    rows = raw.shape[0]
    blocks = raw.reshape(rows, -1, 34)
    nb = blocks.shape[1]
    d = np.ascontiguousarray(blocks[:, :, 0:2]).view(np.float16).astype(np.float32)
    qs = np.ascontiguousarray(blocks[:, :, 2:]).view(np.int8)
    np.multiply(qs, d, out=_view(out, (rows, nb, QK)))


def _fill_q4_1(raw: np.ndarray, scaled: np.ndarray, mins: np.ndarray) -> None:
    """Split Q4_1 blocks [d:f16, m:f16, 16 bytes of nibbles] into d·q (→ scaled) and m (→ mins).

    Low nibbles are elements 0-15 of a block, high nibbles 16-31 (ggml's layout).
    """
    rows = raw.shape[0]
    blocks = raw.reshape(rows, -1, 20)
    nb = blocks.shape[1]
    d = np.ascontiguousarray(blocks[:, :, 0:2]).view(np.float16).reshape(rows, nb, 1)
    mins[...] = np.ascontiguousarray(blocks[:, :, 2:4]).view(np.float16).reshape(rows, nb)
    qs = np.ascontiguousarray(blocks[:, :, 4:])
    out = _view(scaled, (rows, nb, QK))
    d32 = d.astype(np.float32)
    np.multiply(qs & 0x0F, d32, out=out[:, :, :16], casting="unsafe")
    np.multiply(qs >> 4, d32, out=out[:, :, 16:], casting="unsafe")


def _linear(gguf: GGUFFile, names: Sequence[str]) -> Linear:
    """One matrix from the row-wise concatenation of `names` (which share in_features)."""
    infos = [gguf.tensors[n] for n in names]
    in_features = infos[0].shape[-1]
    out_features = sum(i.shape[0] for i in infos)
    acts = {_ACT_BY_TYPE.get(i.qtype, "none") for i in infos}
    # Mixed types cannot share one activation format; feed plain f32 (close, not exact).
    act: ActQuant = acts.pop() if len(acts) == 1 else "none"
    extra = in_features // QK if act == "q8_1" else 0
    weight = np.empty((out_features, in_features + extra), np.float32)
    exact_types = {GGMLQuantizationType.Q4_1, GGMLQuantizationType.Q8_0}
    with_scales = all(i.qtype in exact_types for i in infos) and len({i.qtype for i in infos}) == 1
    scales = np.empty((out_features, in_features // QK), np.float32) if with_scales else None
    row = 0
    for info in infos:
        rows = slice(row, row + info.shape[0])
        raw = gguf.raw(info.name)
        if act == "q8_1" and info.qtype == GGMLQuantizationType.Q4_1:
            _fill_q4_1(raw, weight[rows, :in_features], weight[rows, in_features:])
        elif act == "q8_1":
            raise ValueError(f"{info.name}: weight type {info.qtype.name} is not supported")
        elif info.qtype == GGMLQuantizationType.Q8_0:
            _fill_q8_0(raw, weight[rows])
        else:
            gguf.float32(info.name, out=weight[rows])
        if scales is not None:
            scales[rows] = _block_scales(raw, GGML_QUANT_SIZES[info.qtype][1])
        row += info.shape[0]
    return Linear(weight=weight, act=act, in_features=in_features, scales=scales)


def _layer(gguf: GGUFFile, i: int) -> LayerWeights:
    p = f"blk.{i}."
    return LayerWeights(
        attn_norm=gguf.float32(p + "attn_norm.weight"),
        qkv=_linear(gguf, [p + "attn_q.weight", p + "attn_k.weight", p + "attn_v.weight"]),
        wo=_linear(gguf, [p + "attn_output.weight"]),
        ffn_norm=gguf.float32(p + "ffn_norm.weight"),
        gate_up=_linear(gguf, [p + "ffn_gate.weight", p + "ffn_up.weight"]),
        down=_linear(gguf, [p + "ffn_down.weight"]),
    )


def _output(gguf: GGUFFile) -> tuple[Linear, np.ndarray]:
    """The output projection and the embedding table (often one tensor: tied weights)."""
    if "output.weight" in gguf.tensors:
        return _linear(gguf, ["output.weight"]), gguf.float32("token_embd.weight")
    # Tied: llama.cpp looks rows up (exact dequantization) and multiplies by the same
    # matrix with activations in the embedding type's vec_dot format.
    output = _linear(gguf, ["token_embd.weight"])
    if output.act == "q8_1":  # rows carry the min columns; lookups need plain values
        return output, gguf.float32("token_embd.weight")
    return output, output.weight


def load_weights(gguf: GGUFFile) -> LlamaWeights:
    """Dequantize everything; two threads, since NumPy releases the GIL and much of the
    time is the kernel handing out fresh pages for ~550 MB of float32."""
    config = ModelConfig.from_metadata(gguf.metadata)
    with ThreadPoolExecutor(max_workers=min(2, os.cpu_count() or 1)) as pool:
        output_job = pool.submit(_output, gguf)
        layers = list(pool.map(lambda i: _layer(gguf, i), range(config.n_layers)))
        output, token_embd = output_job.result()
    if token_embd.shape != (config.vocab_size, config.dim):
        raise ValueError(f"token_embd has shape {token_embd.shape}, expected vocab × dim")
    return LlamaWeights(
        config=config,
        token_embd=token_embd,
        layers=tuple(layers),
        output_norm=gguf.float32("output_norm.weight"),
        output=output,
    )
