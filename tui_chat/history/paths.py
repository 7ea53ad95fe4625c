"""Where the history database lives.

`platformdirs` gives each OS its usual data directory, but people who set
`XDG_DATA_HOME` (also on macOS and Windows) expect it to be honoured, so it wins
everywhere. Nothing here touches the disk: computing a path never creates it.
"""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "tui-chat"
DB_FILENAME = "history.sqlite3"


def data_dir() -> Path:
    """`$XDG_DATA_HOME/tui-chat` if set (and absolute, as the XDG spec requires), else the OS default."""
    xdg = os.environ.get("XDG_DATA_HOME", "")
    if xdg and os.path.isabs(xdg):
        return Path(xdg) / APP_NAME
    import platformdirs  # deferred: only needed when XDG_DATA_HOME is not set

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def default_db_path() -> Path:
    return data_dir() / DB_FILENAME
