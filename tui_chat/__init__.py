"""tui-chat: a full-screen terminal chat client that streams LLM replies word by word."""

__version__ = "0.1.0"
