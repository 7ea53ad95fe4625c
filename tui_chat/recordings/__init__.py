"""A reply's wire events written as JSONL (`--record`) and played back (`--replay`)."""
