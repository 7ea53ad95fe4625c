"""A failure while the SDK is still being imported (on its thread) is still said plainly."""

from __future__ import annotations

import sys
import types

import httpx
import pytest

from tui_chat.providers.errors import ErrorContext, to_provider_error


@pytest.fixture
def half_imported_openai(monkeypatch: pytest.MonkeyPatch) -> None:
    """`import openai` has begun on another thread: the module exists, its classes not yet."""
    monkeypatch.setitem(sys.modules, "openai", types.ModuleType("openai"))


@pytest.mark.usefixtures("half_imported_openai")
def test_a_connection_failure_during_the_sdk_import_is_a_connection_error() -> None:
    ctx = ErrorContext(url="http://127.0.0.1:9/v1", timeout=5)
    error = to_provider_error(httpx.ConnectError("refused"), ctx)
    assert error is not None and error.kind == "connection"


@pytest.mark.usefixtures("half_imported_openai")
def test_a_bad_json_body_during_the_sdk_import_is_a_protocol_error() -> None:
    ctx = ErrorContext(url="http://127.0.0.1:9/api/chat", timeout=5)
    error = to_provider_error(ValueError("Expecting value"), ctx)
    assert error is not None and "Unexpected" not in error.message
