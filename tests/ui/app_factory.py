"""The one way the UI tests build a `ChatApp`, plus the Pilot helpers they share.

One factory keeps every test's app alike (model, key, idle timeout, no retries), so a
test says only what it changes: the server, the protocol, a history store, Settings fields.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from textual.pilot import Pilot

from tui_chat.core.protocol import Provider
from tui_chat.history import HistoryStore
from tui_chat.providers import make_provider
from tui_chat.settings.config import Settings
from tui_chat.settings.profiles import ConfigFile
from tui_chat.ui.app import ChatApp
from tui_chat.ui.widgets.conversation.message import AssistantMessage
from tui_chat.ui.widgets.history.sidebar import Sidebar
from tui_chat.ui.widgets.prompt import PromptInput

from fake_server import FakeLLMServer

KEY = "sk-test-key-123"


def make_app(
    server: FakeLLMServer | None = None,
    *,
    api: str = "chat",
    store: HistoryStore | None = None,
    provider: Provider | None = None,
    max_retries: int = 0,
    config: ConfigFile | None = None,
    resume: int | None = None,
    compare: tuple[tuple[str, Settings], tuple[str, Settings]] | None = None,
    **changes: object,
) -> ChatApp:
    """A `ChatApp` talking `api` to `server` (its `/v1` URL, or its root for "backend").

    `changes` are `Settings` fields (`model=`, `record=`, `timeout=`, `base_url=`, ...);
    without a server and without `base_url` the app has no URL (a replay, the local model).
    The provider is made from the final settings unless one is given.
    """
    base_url = None
    if server is not None:
        base_url = server.url if api == "backend" else server.openai_url
    settings = Settings(
        api=api, base_url=base_url, model="fake-model", api_key=KEY, timeout=5
    ).with_(**changes)
    if provider is None:
        provider = make_provider(settings, max_retries=max_retries)
    return ChatApp(settings, provider, config=config, store=store, resume=resume, compare=compare)


async def wait_for(pilot: Pilot[None], condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Let the app run until `condition` holds (the server runs in its own thread)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await pilot.pause(0.02)


async def filled_sidebar(pilot: Pilot[None]) -> Sidebar:
    """The chat list once its search box and list are in (after the first frame)."""
    sidebar = pilot.app.query_one(Sidebar)
    await wait_for(pilot, lambda: sidebar.filled)
    return sidebar


async def send(pilot: Pilot[None], text: str) -> None:
    prompt = pilot.app.query_one(PromptInput)
    prompt.focus()
    prompt.load_text(text)
    await pilot.press("enter")


def replies(app: ChatApp) -> list[AssistantMessage]:
    return list(app.query(AssistantMessage))


def shown_text(reply: AssistantMessage) -> str:
    return reply.shown_source
