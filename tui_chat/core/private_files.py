"""Files the app writes for the user (exports, recordings, saved copies) are theirs alone.

A conversation or a recording can hold anything the user typed, so it is created 0600
like the history database, whatever the umask says.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO

PRIVATE_MODE = 0o600


def open_private(path: Path, mode: str = "w") -> IO[str]:
    """Open `path` for text writing ("w" or "a"), creating it 0600 if it is new."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if mode == "a" else os.O_TRUNC)
    fd = os.open(path, flags, PRIVATE_MODE)
    try:
        return os.fdopen(fd, mode, encoding="utf-8")
    except BaseException:
        os.close(fd)
        raise


def write_private(path: Path, text: str) -> None:
    """`Path.write_text`, but a new file is readable by its owner only."""
    with open_private(path, "w") as file:
        file.write(text)
