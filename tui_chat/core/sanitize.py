"""Strip terminal control sequences from untrusted text (model output, server errors).

Model and server text must never reach a terminal as raw escape sequences: an
ESC byte could move the cursor, retitle the window or write to the clipboard.
Newlines and tabs survive; every other C0/C1 control character is dropped, and so are
the bidi embedding, override and isolate controls, which can make text read in an
order other than the one it is stored in ("Trojan Source", CVE-2021-42574).
"""

from __future__ import annotations

import re

_KEEP = {"\n", "\t"}
#: U+202A-U+202E (LRE, RLE, PDF, LRO, RLO) and U+2066-U+2069 (LRI, RLI, FSI, PDI).
BIDI_CONTROLS = (*range(0x202A, 0x202F), *range(0x2066, 0x206A))
_TABLE = {
    code: None
    for code in (*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0), *BIDI_CONTROLS)
    if chr(code) not in _KEEP
}
# A carriage return becomes nothing rather than a jump back to the start of the line.


#: Whole escape sequences (CSI, OSC, DCS/SOS/PM/APC strings, two-byte escapes), in 7-bit
#: and C1 form, so that no "]52;c;..." residue is left once the ESC byte is gone.
_SEQUENCE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"
    r"|\x9b[0-?]*[ -/]*[@-~]"
    r"|(?:\x1b[\]PX^_]|[\x9d\x90\x98\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[ -/]*[0-~]"
)


def clean(text: str) -> str:
    """Return `text` without escape sequences, control or bidi characters.

    Cheap on the hot path (every streamed fragment): the regex runs only when an
    escape introducer is present, otherwise it is one `str.translate`.
    """
    if "\x1b" in text or "\x9b" in text or "\x9d" in text:
        text = _SEQUENCE.sub("", text)
    return text.translate(_TABLE)
