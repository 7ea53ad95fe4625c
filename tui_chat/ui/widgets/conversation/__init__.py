"""The conversation as drawn: the log, messages, the typing indicator."""
