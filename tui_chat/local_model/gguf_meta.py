"""What a GGUF file says about itself, read with the standard library alone.

Used before a model is handed to llama.cpp, which fails any bad file with one opaque
"Failed to init server" line: here a file that is not a GGUF, or is a GGUF without a
chat template (a base model, an embedding model), gets a sentence that says so. Only
the header is read; array values (the vocabulary) are skipped, not decoded.
"""

from __future__ import annotations

import mmap
import os
import struct
from dataclasses import dataclass
from pathlib import Path

from tui_chat.local_model.common import ModelLoadError

GGUF_MAGIC = b"GGUF"
#: Value types (gguf's GGUFValueType): fixed-size scalars by struct code.
_SCALARS = {
    0: "B",
    1: "b",
    2: "H",
    3: "h",
    4: "I",
    5: "i",
    6: "f",
    7: "?",
    10: "Q",
    11: "q",
    12: "d",
}
_STRING, _ARRAY = 8, 9


class NotAChatModel(ModelLoadError):
    """The file is readable but cannot be chatted with; the message says why."""


@dataclass(frozen=True, slots=True)
class ChatModelInfo:
    path: Path
    name: str
    architecture: str
    context_length: int
    chat_template: str


def read_chat_model_info(path: str | os.PathLike[str]) -> ChatModelInfo:
    """The file's name, architecture, trained context and chat template; raises
    `ModelLoadError` (unreadable) or `NotAChatModel` (not a GGUF, no chat template)."""
    path = Path(path)
    try:
        with open(path, "rb") as file:
            if file.read(4) != GGUF_MAGIC:
                raise NotAChatModel(
                    f"{path} is not a GGUF model file (it does not start with GGUF)."
                )
            file.seek(0)
            with mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as buf:
                meta = _metadata(buf)
    except OSError as exc:
        raise ModelLoadError(f"Cannot read the local model {path}: {exc.strerror or exc}.") from exc
    except (struct.error, ValueError, UnicodeDecodeError) as exc:
        raise NotAChatModel(f"{path} is not a valid GGUF file ({exc}).") from exc
    arch = str(meta.get("general.architecture", ""))
    template = meta.get("tokenizer.chat_template")
    if not isinstance(template, str) or not template.strip():
        raise NotAChatModel(
            f"{path} has no chat template (tokenizer.chat_template), so it is not a chat"
            " model: use an instruct/chat GGUF."
        )
    context = meta.get(f"{arch}.context_length")
    return ChatModelInfo(
        path=path,
        name=str(meta.get("general.name") or path.stem),
        architecture=arch,
        context_length=int(context) if isinstance(context, int) else 0,
        chat_template=template,
    )


def _metadata(buf: mmap.mmap) -> dict[str, object]:
    version, _n_tensors, n_kv = struct.unpack_from("<IQQ", buf, 4)
    if version not in (2, 3):
        raise ValueError(f"unsupported GGUF version {version}")
    pos = 24
    meta: dict[str, object] = {}
    for _ in range(n_kv):
        key, pos = _string(buf, pos)
        (vtype,) = struct.unpack_from("<I", buf, pos)
        value, pos = _value(buf, pos + 4, vtype)
        meta[key] = value
    return meta


def _string(buf: mmap.mmap, pos: int) -> tuple[str, int]:
    (n,) = struct.unpack_from("<Q", buf, pos)
    end = pos + 8 + n
    if end > len(buf):
        raise ValueError("truncated string")
    return buf[pos + 8 : end].decode("utf-8"), end


def _value(buf: mmap.mmap, pos: int, vtype: int) -> tuple[object, int]:
    if vtype in _SCALARS:
        code = "<" + _SCALARS[vtype]
        return struct.unpack_from(code, buf, pos)[0], pos + struct.calcsize(code)
    if vtype == _STRING:
        return _string(buf, pos)
    if vtype == _ARRAY:
        item, n = struct.unpack_from("<IQ", buf, pos)
        pos += 12
        if item in _SCALARS:  # skipped: nothing here needs an array's contents
            return None, pos + n * struct.calcsize("<" + _SCALARS[item])
        if item == _STRING:
            for _ in range(n):
                (length,) = struct.unpack_from("<Q", buf, pos)
                pos += 8 + length
            return None, pos
        for _ in range(n):
            _, pos = _value(buf, pos, item)
        return None, pos
    raise ValueError(f"unknown metadata value type {vtype}")
