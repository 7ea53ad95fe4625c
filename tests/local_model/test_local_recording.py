"""A reply from the default engine records (token by token, with llama.cpp's token ids)
and replays to the same text."""

from __future__ import annotations

import io
import json

from tui_chat.cli import main

from .conftest import requires_xllamacpp


@requires_xllamacpp
def test_a_local_reply_records_its_tokens_and_replays_to_the_same_text(
    tmp_path, capsys, monkeypatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    recording = tmp_path / "local.jsonl"
    argv = ["ask", "--api", "local", "--temperature", "0", "--record", str(recording)]
    assert main([*argv, "What is the capital of France?"]) == 0
    live = capsys.readouterr().out
    records = [json.loads(line) for line in recording.read_text().splitlines()]
    tokens = [r for r in records if r["type"] == "event" and r["kind"] == "token"]
    assert records[0]["protocol"] == "local"
    assert tokens[0]["payload"] == {"token_id": 60, "text": "L"}  # llama.cpp's greedy first
    assert "".join(t["text"] for t in tokens) == live.rstrip("\n")

    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert main(["ask", "--replay", str(recording), "--speed", "inf", "anything"]) == 0
    assert capsys.readouterr().out == live and live.strip()
