"""Byte-level BPE built from the GGUF's own vocabulary and merges, as llama.cpp runs it.

Hand-written rather than via the `tokenizers` package (which would also bring in
`huggingface_hub`): the whole algorithm is short, and following llama.cpp step by step is
what makes prompts tokenize exactly as it does. For `tokenizer.ggml.pre` "smollm" (also
starcoder, refact, ...) llama.cpp splits text in two passes:

1. `\\p{N}`: every digit (any Unicode number) becomes its own piece;
2. GPT-2's pattern `'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+`,
   which llama.cpp implements by hand (`unicode_regex_split_custom_gpt2`); `_gpt2_split`
   mirrors that code. Python's `re` has no `\\p{L}`, and `unicodedata` supplies the same
   categories (Unicode 14 here vs. llama.cpp's newer tables: only characters added since
   could split differently).

Each piece is mapped to GPT-2's printable byte alphabet and merged pair by pair, lowest
merge rank first (leftmost on ties). Special tokens (control and user-defined types) are
matched as whole strings first when `special=True`, longest first.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

TOKEN_NORMAL, TOKEN_UNKNOWN, TOKEN_CONTROL, TOKEN_USER_DEFINED = 1, 2, 3, 4

#: White_Space characters, as llama.cpp's `unicode_set_whitespace` lists them.
WHITESPACE = frozenset(
    [0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0x85, 0xA0, 0x1680, *range(0x2000, 0x200B)]
    + [0x2028, 0x2029, 0x202F, 0x205F, 0x3000]
)
_LETTER, _NUMBER, _SPACE, _OTHER = 1, 2, 3, 4
SUPPORTED_PRE = frozenset({"smollm", "starcoder", "refact", "codeshell", "gpt-2", "default"})


def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's reversible byte → printable character map (space becomes 'Ġ', etc.)."""
    keep = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1)]
    keep += range(ord("®"), ord("ÿ") + 1)
    mapping, extra = {}, 0
    for b in range(256):
        if b in keep:
            mapping[b] = chr(b)
        else:
            mapping[b] = chr(256 + extra)
            extra += 1
    return mapping


@lru_cache(maxsize=65536)
def _kind(ch: str) -> int:
    cp = ord(ch)
    if cp in WHITESPACE:
        return _SPACE
    cat = unicodedata.category(ch)
    if cat[0] == "L":
        return _LETTER
    if cat[0] == "N":
        return _NUMBER
    return _OTHER


def _gpt2_split(text: str) -> list[str]:
    """llama.cpp's hand-coded GPT-2 split of one fragment (see module docstring)."""
    out: list[str] = []
    n, pos = len(text), 0
    kinds = [_kind(c) for c in text]

    def kind(i: int) -> int:
        return kinds[i] if i < n else 0

    while pos < n:
        ch = text[pos]
        if ch == "'" and pos + 1 < n:
            nxt = text[pos + 1]
            if nxt in "stmd":
                out.append(text[pos : pos + 2])
                pos += 2
                continue
            if pos + 2 < n and text[pos + 1 : pos + 3] in ("re", "ve", "ll"):
                out.append(text[pos : pos + 3])
                pos += 3
                continue
        start = pos
        k2 = kind(pos + 1) if ch == " " else kinds[pos]
        if k2 in (_LETTER, _NUMBER, _OTHER):
            pos += ch == " "
            while kind(pos) == k2:
                pos += 1
            out.append(text[start:pos])
            continue
        spaces = 0
        while kind(pos + spaces) == _SPACE:
            spaces += 1
        if spaces > 1 and pos + spaces < n:  # \s+(?!\S): leave one for the next word
            pos += spaces - 1
        elif spaces > 0:
            pos += spaces
        else:
            pos += 1
        out.append(text[start:pos])
    return out


def pre_tokenize(text: str) -> list[str]:
    """Digits isolated, then the GPT-2 split inside each remaining run."""
    pieces: list[str] = []
    run = 0
    for i, ch in enumerate(text):
        if _kind(ch) == _NUMBER:
            if run < i:
                pieces.extend(_gpt2_split(text[run:i]))
            pieces.append(ch)
            run = i + 1
    if run < len(text):
        pieces.extend(_gpt2_split(text[run:]))
    return pieces


class Tokenizer:
    def __init__(
        self,
        tokens: Sequence[str],
        token_types: Sequence[int],
        merges: Iterable[str],
        *,
        bos_id: int | None,
        eos_id: int | None,
        pre: str = "smollm",
        add_bos: bool = False,
    ) -> None:
        if pre not in SUPPORTED_PRE:
            raise ValueError(f"pre-tokenizer {pre!r} is not supported")
        self.tokens = list(tokens)
        self.token_types = list(token_types)
        self.vocab = {t: i for i, t in enumerate(self.tokens)}
        self.ranks: dict[tuple[str, str], int] = {}
        for rank, merge in enumerate(merges):
            left, _, right = merge.partition(" ")
            self.ranks.setdefault((left, right), rank)
        self.bos_id, self.eos_id, self.add_bos = bos_id, eos_id, add_bos
        self._byte_enc = bytes_to_unicode()
        self._byte_dec = {c: b for b, c in self._byte_enc.items()}
        self._special = {
            t: i
            for i, (t, kind) in enumerate(zip(self.tokens, self.token_types, strict=True))
            if kind in (TOKEN_CONTROL, TOKEN_USER_DEFINED) and t
        }
        self._user_defined = {
            t: i for t, i in self._special.items() if self.token_types[i] == TOKEN_USER_DEFINED
        }
        self._special_re = self._alternation(self._special)
        self._user_re = self._alternation(self._user_defined)
        self._pieces = [self._piece_bytes(i) for i in range(len(self.tokens))]
        self._bpe_cache: dict[str, tuple[int, ...]] = {}

    @classmethod
    def from_gguf_metadata(cls, meta: dict[str, Any]) -> Tokenizer:
        model = meta.get("tokenizer.ggml.model")
        if model != "gpt2":
            raise ValueError(f"tokenizer model {model!r} is not supported (only byte-level BPE)")
        return cls(
            meta["tokenizer.ggml.tokens"],
            meta.get("tokenizer.ggml.token_type")
            or [TOKEN_NORMAL] * len(meta["tokenizer.ggml.tokens"]),
            meta["tokenizer.ggml.merges"],
            bos_id=meta.get("tokenizer.ggml.bos_token_id"),
            eos_id=meta.get("tokenizer.ggml.eos_token_id"),
            pre=meta.get("tokenizer.ggml.pre", "default"),
            add_bos=bool(meta.get("tokenizer.ggml.add_bos_token", False)),
        )

    @staticmethod
    def _alternation(specials: dict[str, int]) -> re.Pattern[str] | None:
        if not specials:
            return None
        ordered = sorted(specials, key=len, reverse=True)  # longest match wins
        return re.compile("|".join(re.escape(s) for s in ordered))

    def _piece_bytes(self, token_id: int) -> bytes:
        if self.token_types[token_id] in (TOKEN_CONTROL, TOKEN_UNKNOWN):
            return b""  # never shown: the chat template's markers, end of text
        text = self.tokens[token_id]
        if self.token_types[token_id] == TOKEN_USER_DEFINED:
            return text.encode()
        return bytes(self._byte_dec.get(c, 0x3F) for c in text)

    def __len__(self) -> int:
        return len(self.tokens)

    def token_id(self, text: str) -> int:
        """Id of one whole token (e.g. "<|im_end|>"); KeyError if absent."""
        return self.vocab[text]

    # --- encoding -----------------------------------------------------------------------
    def encode(self, text: str, *, special: bool = False, add_bos: bool = False) -> list[int]:
        """Token ids of `text`. With `special`, control tokens written out in the text
        ("<|im_start|>") become those tokens; without, they are ordinary characters
        (user-defined tokens always match, as in llama.cpp)."""
        ids: list[int] = [self.bos_id] if add_bos and self.bos_id is not None else []
        pattern = self._special_re if special else self._user_re
        specials = self._special if special else self._user_defined
        pos = 0
        if pattern is not None:
            for m in pattern.finditer(text):
                self._encode_plain(text[pos : m.start()], ids)
                ids.append(specials[m.group()])
                pos = m.end()
        self._encode_plain(text[pos:], ids)
        return ids

    def _encode_plain(self, text: str, out: list[int]) -> None:
        for piece in pre_tokenize(text):
            cached = self._bpe_cache.get(piece)
            if cached is None:
                cached = self._bpe(piece)
                if len(self._bpe_cache) < 100_000:
                    self._bpe_cache[piece] = cached
            out.extend(cached)

    def _bpe(self, piece: str) -> tuple[int, ...]:
        word = "".join(self._byte_enc[b] for b in piece.encode("utf-8", "surrogatepass"))
        symbols = list(word)
        ranks = self.ranks
        while len(symbols) > 1:
            best, best_rank = -1, None
            for i in range(len(symbols) - 1):
                rank = ranks.get((symbols[i], symbols[i + 1]))
                if rank is not None and (best_rank is None or rank < best_rank):
                    best, best_rank = i, rank
            if best < 0:
                break
            symbols[best : best + 2] = [symbols[best] + symbols[best + 1]]
        ids: list[int] = []
        for sym in symbols:
            tid = self.vocab.get(sym)
            if tid is not None:
                ids.append(tid)
            else:  # not in the vocabulary: one token per byte (as llama.cpp falls back)
                ids.extend(self.vocab[c] for c in sym if c in self.vocab)
        return tuple(ids)

    # --- decoding -----------------------------------------------------------------------
    def token_bytes(self, token_id: int) -> bytes:
        """The bytes a token stands for (empty for control tokens). Not always valid
        UTF-8 alone: a character can be split across tokens."""
        return self._pieces[token_id]

    def decode(self, ids: Iterable[int]) -> str:
        return b"".join(self._pieces[i] for i in ids).decode("utf-8", errors="replace")

    def is_control(self, token_id: int) -> bool:
        return self.token_types[token_id] == TOKEN_CONTROL
