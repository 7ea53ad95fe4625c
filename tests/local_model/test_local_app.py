"""The chat on the default engine: keys are handled while the model generates (it runs
off the UI thread), and Esc stops it at once: no more text, and llama.cpp computes at
most the token in progress and the one after it."""

from __future__ import annotations

import asyncio

from textual import events
from ui.app_factory import replies, send, wait_for

from tui_chat.local_model.common import locate_model_file
from tui_chat.providers.local import LocalProvider
from tui_chat.settings.config import LOCAL_MODEL, Settings
from tui_chat.ui.app import ChatApp
from tui_chat.ui.widgets.prompt import PromptInput

from .conftest import requires_xllamacpp


@requires_xllamacpp
async def test_keys_work_while_the_model_generates_and_esc_stops_it_within_one_token() -> None:
    from tui_chat.local_model.xllama import get_model

    settings = Settings(api="local", model=LOCAL_MODEL, history=False)
    provider = LocalProvider(settings, max_tokens=3000, seed=3)
    computed = get_model(locate_model_file()).tokens_predicted
    app = ChatApp(settings, provider)
    async with app.run_test() as pilot:
        before = computed()
        await send(pilot, "Write a very long story about the sea, in many chapters.")
        await wait_for(pilot, lambda: bool(replies(app) and replies(app)[0].shown_source), 30)
        prompt = app.query_one(PromptInput)
        key = events.Key("x", "x")
        key.set_sender(app)
        app._driver.send_message(key)  # as the terminal delivers it
        await wait_for(pilot, lambda: prompt.text.endswith("x"))
        run = provider.last_run
        assert run is not None and not run.finished.is_set(), "handled while generating"
        await pilot.press("escape")
        await wait_for(pilot, lambda: replies(app)[0].status == "stopped")
        assert await asyncio.to_thread(run.finished.wait, 10)
        assert run.generated_at_cancel is not None
        # The token in progress at Esc, and the next: llama.cpp hears the stop only when
        # it hands over a token, and has begun the next one by then (see xllama.py). On a
        # busy machine its loop can run a few tokens ahead of the callback that hears the
        # stop (CI once saw 3), so the bound is a handful, not the ideal 2; what counts is
        # that it stops now and shows nothing more (below).
        assert computed() - before - run.generated_at_cancel <= 6
        assert run.stats.generated - run.generated_at_cancel <= 1  # none of them shown
