"""`tui-chat history ...` run as the user would: a subprocess with XDG_DATA_HOME set."""

from __future__ import annotations

import argparse
import io
import json
import os
import stat
from pathlib import Path

import pytest

from tui_chat.cli import build_parser
from tui_chat.core.sanitize import clean
from tui_chat.history import HistoryStore
from tui_chat.history.cli import run_history as run_in_process

from .helpers import TickingClock, run_history

EVIL = "\x1b]0;pwned\x07\x1b[31mred\x1b[0m"


def _shown(text: str) -> str:
    """One line as the shell commands print it (the cleaner decides what a sequence leaves)."""
    return " ".join(clean(text).split())


@pytest.fixture
def seeded(data_home: Path) -> dict[str, int]:
    """Three conversations: 1 sorting (4 messages), 2 escape-laden, 3 untitled."""
    with HistoryStore.open(clock=TickingClock()) as store:
        sort = store.new_conversation(api="chat", base_url=None, model="m1", system="be brief")
        store.add_message(sort, "user", "How do I sort a list in Python?")
        store.add_message(sort, "assistant", "Use sorted(xs) for a new list.")
        store.add_message(sort, "user", "And in place?")
        reply = store.add_message(sort, "assistant", "", "streaming")
        store.update_message(reply, "xs.sort() sorts in", status="stopped")
        evil = store.new_conversation(api="responses", base_url=None, model="m2", system=None)
        store.add_message(evil, "user", f"colour {EVIL} please")
        failed = store.add_message(evil, "assistant", "", "streaming")
        store.update_message(failed, f"partial {EVIL}", status="error", error=f"boom {EVIL}")
        empty = store.new_conversation(api="chat", base_url=None, model="m3", system=None)
    return {"sort": sort, "evil": evil, "empty": empty}


def _tty_run(*argv: str) -> tuple[int, str, str]:
    """Run in-process with a stdout that claims to be a terminal."""

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    out, err = Tty(), io.StringIO()
    args = build_parser()["history"].parse_args(list(argv))
    status = run_in_process(args, stdout=out, stderr=err)
    return status, out.getvalue(), err.getvalue()


def test_list_is_tab_separated_in_a_pipe(seeded: dict[str, int], data_home: Path) -> None:
    result = run_history(data_home, "list")
    assert result.returncode == 0, result.stderr
    rows = [line.split("\t") for line in result.stdout.splitlines()]
    assert [(r[0], r[2], r[3]) for r in rows] == [
        ("3", "(untitled)", "0"),
        ("2", _shown(f"colour {EVIL} please"), "2"),
        ("1", "How do I sort a list in Python?", "4"),
    ]
    assert all(len(r) == 4 and r[1][:4].isdigit() and "T" in r[1] for r in rows)
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout


def test_list_limit(seeded: dict[str, int], data_home: Path) -> None:
    result = run_history(data_home, "list", "-n", "1")
    assert [line.split("\t")[0] for line in result.stdout.splitlines()] == ["3"]


def test_list_is_aligned_on_a_terminal(seeded: dict[str, int], data_home: Path) -> None:
    status, out, _ = _tty_run("list")
    assert status == 0
    lines = out.splitlines()
    assert lines[0].split() == ["ID", "UPDATED", "TITLE", "MESSAGES"]
    assert "\t" not in out
    title_col = lines[0].index("TITLE")
    assert lines[3][title_col:].startswith("How do I sort a list in Python?")
    assert lines[2][title_col:].startswith("colour ")
    assert {len(line) for line in lines} == {len(lines[0])}  # counts right-aligned at one edge


def test_list_without_a_database_is_empty_and_creates_nothing(data_home: Path) -> None:
    result = run_history(data_home, "list")
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    assert not data_home.exists()


def test_show_prints_the_conversation_as_text(seeded: dict[str, int], data_home: Path) -> None:
    result = run_history(data_home, "show", str(seeded["sort"]))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("Conversation 1: How do I sort a list in Python?\n")
    assert "chat · m1" in out
    assert "System prompt: be brief" in out
    for text in ("How do I sort a list in Python?", "Use sorted(xs)", "And in place?"):
        assert text in out
    assert "── assistant ·" in out and "· stopped\nxs.sort() sorts in" in out


def test_show_never_prints_control_sequences(seeded: dict[str, int], data_home: Path) -> None:
    result = run_history(data_home, "show", str(seeded["evil"]))
    assert result.returncode == 0, result.stderr
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    assert f"partial {clean(EVIL)}" in result.stdout
    assert f"[error: {_shown(f'boom {EVIL}')}]" in result.stdout
    assert "· error" in result.stdout


def test_show_last_and_hash_ids(seeded: dict[str, int], data_home: Path) -> None:
    assert run_history(data_home, "show", "last").stdout.startswith("Conversation 3: (untitled)")
    assert run_history(data_home, "show", "#1").stdout.startswith("Conversation 1:")


def test_export_markdown_to_stdout(seeded: dict[str, int], data_home: Path) -> None:
    result = run_history(data_home, "export", "1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("# How do I sort a list in Python?\n")
    assert "## Assistant\n\nUse sorted(xs) for a new list." in result.stdout


def test_export_json_to_a_file_is_cleaned_of_control_sequences(
    seeded: dict[str, int], data_home: Path, tmp_path: Path
) -> None:
    target = tmp_path / "out.json"
    result = run_history(data_home, "export", "2", "--format", "json", "-o", str(target))
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert str(target) in result.stderr
    raw = target.read_text(encoding="utf-8")
    assert "\x1b" not in raw and "\x07" not in raw
    data = json.loads(raw)
    assert data["id"] == 2
    assert [m["content"] for m in data["messages"]] == [
        f"colour {clean(EVIL)} please",
        f"partial {clean(EVIL)}",
    ]
    assert data["messages"][1]["error"] == f"boom {clean(EVIL)}"


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
@pytest.mark.parametrize("fmt", ["md", "json"])
def test_export_file_is_created_private_like_the_database(
    seeded: dict[str, int], data_home: Path, tmp_path: Path, fmt: str
) -> None:
    target = tmp_path / f"out.{fmt}"
    old = os.umask(0o022)  # the usual umask, which gives a plain file 0644
    try:
        result = run_history(data_home, "export", "1", "--format", fmt, "-o", str(target))
    finally:
        os.umask(old)
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert "How do I sort a list in Python?" in target.read_text(encoding="utf-8")


def test_export_to_a_pipe_or_a_terminal_has_no_control_sequences(
    seeded: dict[str, int], data_home: Path
) -> None:
    piped = run_history(data_home, "export", "2")
    assert "\x1b" not in piped.stdout and "\x07" not in piped.stdout
    assert f"partial {clean(EVIL)}" in piped.stdout
    status, out, _ = _tty_run("export", "2")
    assert status == 0
    assert out == piped.stdout


def test_delete_removes_and_says_what(seeded: dict[str, int], data_home: Path) -> None:
    result = run_history(data_home, "delete", "1")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Deleted conversation 1: How do I sort a list in Python? (4 messages)\n"
    assert run_history(data_home, "show", "1").returncode == 2
    listed = run_history(data_home, "list").stdout
    assert [line.split("\t")[0] for line in listed.splitlines()] == ["3", "2"]


def test_search_prints_hits_with_bracketed_matches(seeded: dict[str, int], data_home: Path) -> None:
    result = run_history(data_home, "search", "sorted", "list")
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        "1\tHow do I sort a list in Python?\tassistant\tUse [sorted](xs) for a new [list].\n"
    )


def test_search_on_a_terminal_highlights_and_cleans(
    seeded: dict[str, int], data_home: Path
) -> None:
    status, out, _ = _tty_run("search", "partial")
    assert status == 0
    assert "\x1b[7mpartial\x1b[27m" in out
    assert out.count("\x1b") == 2  # only our highlight; the stored escapes are gone
    assert "\x07" not in out


def test_search_with_odd_characters_and_no_hits(seeded: dict[str, int], data_home: Path) -> None:
    result = run_history(data_home, "search", 'foo"bar', "C++")
    assert result.returncode == 0
    assert result.stdout == ""
    assert "No messages match" in result.stderr


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["show", "99"], "no conversation 99"),
        (["export", "99"], "no conversation 99"),
        (["export", "99", "--format", "json"], "no conversation 99"),
        (["delete", "99"], "no conversation 99"),
        (["show", "abc"], "ids are numbers"),
    ],
)
def test_unknown_ids_are_one_line_and_status_2(
    seeded: dict[str, int], data_home: Path, args: list[str], needle: str
) -> None:
    result = run_history(data_home, *args)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("tui-chat history: error: ")
    assert needle in result.stderr


@pytest.mark.parametrize("args", [["show", "1"], ["delete", "last"], ["export", "1"]])
def test_ids_without_a_database_are_unknown_and_create_nothing(
    data_home: Path, args: list[str]
) -> None:
    status, out, err = _tty_run(*args)
    assert status == 2
    assert err.count("\n") == 1 and "error:" in err
    assert not data_home.exists()


def test_missing_subcommand_is_a_usage_error(data_home: Path) -> None:
    result = run_history(data_home)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1


def test_history_parser_is_wired_into_the_main_cli() -> None:
    args = build_parser()["history"].parse_args(["export", "3", "--format", "json"])
    assert args == argparse.Namespace(history_command="export", id="3", format="json", output=None)


def test_export_to_an_unwritable_place_is_one_line(
    seeded: dict[str, int], data_home: Path, tmp_path: Path
) -> None:
    result = run_history(data_home, "export", "1", "-o", str(tmp_path / "no" / "such" / "dir.md"))
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "error:" in result.stderr


def test_closed_pipe_ends_quietly(seeded: dict[str, int], data_home: Path) -> None:
    """`tui-chat history list | head`: no traceback, no error line, status 1."""

    class ClosedPipe(io.StringIO):
        def write(self, text: str) -> int:
            raise BrokenPipeError(32, "Broken pipe")

    err = io.StringIO()
    args = build_parser()["history"].parse_args(["list"])
    assert run_in_process(args, stdout=ClosedPipe(), stderr=err) == 1
    assert err.getvalue() == ""
