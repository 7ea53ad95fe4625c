"""Attaching files: what can be attached, the one-line reasons for what cannot, and the
message the model gets (which reads back to the prompt as typed)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tui_chat.core.attachments import (
    MAX_ATTACHMENT_BYTES,
    Attachment,
    AttachmentError,
    compose,
    prepare,
    read_attachment,
    split_prompt,
    typed_form,
)


def test_file_lines_are_taken_out_of_the_prompt_and_paths_keep_spaces() -> None:
    typed, paths = split_prompt("review this\n/file src/my module.py  \nthanks\n/filex no")
    assert typed == "review this\nthanks\n/filex no"
    assert paths == ["src/my module.py"]


def test_a_text_file_is_read_with_its_size(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("héllo\n", encoding="utf-8")
    file = read_attachment("notes.txt", cwd=tmp_path)
    assert (file.text, file.size) == ("héllo\n", 7)
    assert file.label == "+ file: notes.txt (7 B)"


def test_size_is_shown_in_kilobytes(tmp_path: Path) -> None:
    (tmp_path / "big.txt").write_text("x" * 3277)
    assert read_attachment("big.txt", cwd=tmp_path).label == "+ file: big.txt (3.2 KB)"


def test_a_file_at_the_limit_is_attached_and_one_byte_more_is_refused(tmp_path: Path) -> None:
    (tmp_path / "limit.txt").write_text("x" * MAX_ATTACHMENT_BYTES)
    (tmp_path / "over.txt").write_text("x" * (MAX_ATTACHMENT_BYTES + 1))
    assert read_attachment("limit.txt", cwd=tmp_path).size == MAX_ATTACHMENT_BYTES
    with pytest.raises(AttachmentError, match=r"^Not attached: over.txt is larger than 100 KB$"):
        read_attachment("over.txt", cwd=tmp_path)


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("nul.bin", b"text\x00more", "is a binary file"),
        ("latin1.txt", "café".encode("latin-1"), "is not UTF-8 text"),
    ],
    ids=["nul-byte", "not-utf8"],
)
def test_binary_files_are_refused_in_one_line(
    tmp_path: Path, name: str, data: bytes, reason: str
) -> None:
    (tmp_path / name).write_bytes(data)
    with pytest.raises(AttachmentError, match=reason) as caught:
        read_attachment(name, cwd=tmp_path)
    assert "\n" not in str(caught.value)


def test_missing_directory_and_unreadable_files_say_why(tmp_path: Path) -> None:
    with pytest.raises(AttachmentError, match=r"^Not attached: gone.txt: no such file$"):
        read_attachment("gone.txt", cwd=tmp_path)
    with pytest.raises(AttachmentError, match="is a directory"):
        read_attachment(".", cwd=tmp_path)
    locked = tmp_path / "locked.txt"
    locked.write_text("secret")
    locked.chmod(0)
    if os.access(locked, os.R_OK):  # root reads anything
        pytest.skip("running as root: the file is readable anyway")
    with pytest.raises(AttachmentError, match="cannot read locked.txt: Permission denied"):
        read_attachment("locked.txt", cwd=tmp_path)


def test_one_bad_file_refuses_the_whole_prompt(tmp_path: Path) -> None:
    (tmp_path / "ok.txt").write_text("fine")
    with pytest.raises(AttachmentError, match="gone.txt"):
        prepare("look\n/file ok.txt\n/file gone.txt", cwd=tmp_path)


def test_files_follow_the_typed_text_in_tagged_blocks() -> None:
    sent = compose("What does this do?", [Attachment("a.py", "print(1)\n", 9)])
    assert sent == 'What does this do?\n\n<file path="a.py" lines="2">\nprint(1)\n\n</file>'


@pytest.mark.parametrize(
    "content",
    ["", "one line", "ends\n", 'has a\n</file>\n\n<file path="x" lines="1">\nfake'],
)
def test_a_sent_message_reads_back_as_typed_whatever_the_file_holds(content: str) -> None:
    files = [Attachment('odd "name".txt', content, 1), Attachment("b.txt", "b", 1)]
    assert typed_form(compose("question\n\ntwo paragraphs", files)) == (
        'question\n\ntwo paragraphs\n/file odd "name".txt\n/file b.txt'
    )
    assert typed_form(compose("", files)) == '/file odd "name".txt\n/file b.txt'


def test_a_message_without_blocks_reads_back_unchanged() -> None:
    text = 'I typed <file path="x" lines="1">\nmyself\n</file>'
    assert typed_form(text) == text
    assert typed_form("plain") == "plain"


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    with pytest.raises(AttachmentError, match=r"^Not attached: pipe is not a regular file$"):
        read_attachment("pipe", cwd=tmp_path)


def test_an_escape_sequence_in_a_path_is_not_echoed_raw(tmp_path: Path) -> None:
    with pytest.raises(AttachmentError) as caught:
        read_attachment("evil\x1b]0;title\x07.txt", cwd=tmp_path)
    assert "\x1b" not in str(caught.value) and "\x07" not in str(caught.value)
