"""Every place tui-chat keeps something of the user's, decided here and nowhere else.

`platformdirs` gives each OS its usual directories, but people who set
`XDG_CONFIG_HOME` / `XDG_DATA_HOME` (also on macOS and Windows) expect them to be
honoured, so they win everywhere. Nothing here touches the disk: computing a path
never creates it.
"""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "tui-chat"
DB_FILENAME = "history.sqlite3"


def _xdg(variable: str) -> Path | None:
    value = os.environ.get(variable, "")
    return Path(value) / APP_NAME if value and os.path.isabs(value) else None


def config_dir() -> Path:
    """`$XDG_CONFIG_HOME/tui-chat` when set (and absolute), else the platform's config dir."""
    if (xdg := _xdg("XDG_CONFIG_HOME")) is not None:
        return xdg
    import platformdirs  # deferred: only needed when XDG_CONFIG_HOME is not set

    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def data_dir() -> Path:
    """`$XDG_DATA_HOME/tui-chat` when set (and absolute, as the XDG spec requires), else the
    platform's data dir."""
    if (xdg := _xdg("XDG_DATA_HOME")) is not None:
        return xdg
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def config_path() -> Path:
    """Profiles (`config.toml`)."""
    return config_dir() / "config.toml"


def preferences_path() -> Path:
    """UI preferences that outlive a session (the theme)."""
    return config_dir() / "ui-state.json"


def default_db_path() -> Path:
    """The history database."""
    return data_dir() / DB_FILENAME
