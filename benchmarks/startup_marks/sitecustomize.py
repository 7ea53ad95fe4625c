"""Marks on the way to the first frame, for `startup_latency.py --segments`.

On `PYTHONPATH` only for that run, and idle unless `TUI_CHAT_BENCH_MARKS` names a file:
then the process notes its CPU time and clock when Textual's import begins, when its
`App` is imported, when the driver starts, and when the first frame holding the
prompt's placeholder is written, and appends one JSON line to that file. The machine's noise is mostly in
importing Textual, which every Textual app pays: the segments after it compare what
an app adds, tightly enough to see 10 ms.
"""

from __future__ import annotations

import builtins
import json
import os
import sys
import time
from typing import Any

_OUT = os.environ.get("TUI_CHAT_BENCH_MARKS")
_READY = "Enter"


def _install() -> None:
    marks: dict[str, tuple[float, float]] = {}
    original_import = builtins.__import__

    def mark(name: str) -> None:
        marks[name] = (time.process_time(), time.perf_counter())

    def write_marks() -> None:
        (cpu, wall), (t_cpu, t_wall), (d_cpu, d_wall), (b_cpu, _) = (
            marks["frame"],
            marks["textual"],
            marks["driver"],
            marks["importing textual"],
        )
        row = {
            # CPU of all the process's threads since it began (the interpreter's own
            # start-up too): the whole cost of a start, and steadier than its clock time.
            "start_to_frame_cpu": cpu,
            "start_to_textual_cpu": b_cpu,
            "textual_to_frame_cpu": cpu - t_cpu,
            "textual_to_frame_wall": wall - t_wall,
            "driver_to_frame_cpu": cpu - d_cpu,
            "driver_to_frame_wall": wall - d_wall,
        }
        try:
            with open(str(_OUT), "a") as out:
                out.write(json.dumps(row) + "\n")
        except OSError as error:  # a benchmark's note must never stop the app
            print(f"startup_marks: {error}", file=sys.stderr)

    def patch_driver() -> bool:
        module = sys.modules.get("textual.drivers.linux_driver")
        driver = getattr(module, "LinuxDriver", None)
        if driver is None:
            return False
        start, write = driver.start_application_mode, driver.write

        def start_application_mode(self: Any) -> None:
            mark("driver")
            start(self)

        def first_write(self: Any, data: str) -> None:
            if "frame" not in marks and _READY in data:
                mark("frame")
                write_marks()
            write(self, data)

        driver.start_application_mode = start_application_mode
        driver.write = first_write
        return True

    def noting_import(name: str, *args: Any, **kwargs: Any) -> Any:
        module = original_import(name, *args, **kwargs)
        if "textual" not in marks and hasattr(sys.modules.get("textual.app"), "App"):
            mark("textual")
        if "textual" in marks and patch_driver():
            builtins.__import__ = original_import  # done: imports cost nothing more
        return module

    class NoteTextualsImport:  # finds nothing: notes when Textual's import begins
        def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
            if name == "textual":
                sys.meta_path.remove(self)
                mark("importing textual")

    sys.meta_path.insert(0, NoteTextualsImport())
    builtins.__import__ = noting_import


if _OUT:
    _install()
