"""An installed wheel must carry the one stylesheet, or the app starts unstyled."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_ships_the_repo_stylesheet(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = tmp_path.glob("tui_chat-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        shipped = archive.read("tui_chat/ui/styles.tcss")
        entry_points = archive.read(
            next(n for n in archive.namelist() if n.endswith("entry_points.txt"))
        )
    assert shipped == (ROOT / "styles.tcss").read_bytes()
    assert b"tui-chat = tui_chat.cli:main" in entry_points


def test_app_loads_the_stylesheet_beside_its_module() -> None:
    from tui_chat.ui.app import STYLESHEET

    assert STYLESHEET.read_bytes() == (ROOT / "styles.tcss").read_bytes()
