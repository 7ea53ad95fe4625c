"""Draw compare mode as SVG for the README, offline, from a shipped recording.

    python examples/screenshot_compare.py          # writes docs/compare-*.svg

Both panes replay `examples/chat-slow-first-token.jsonl` at its recorded pace: the
left one streams, the right one (non-streaming) gets the whole text when the recorded
reply ended. One picture mid-race, one with the verdict.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from tui_chat.providers import make_provider
from tui_chat.settings.config import Settings
from tui_chat.ui.app import ChatApp
from tui_chat.ui.screens.compare import CompareScreen, Contender
from tui_chat.ui.widgets.prompt import PromptInput

ROOT = Path(__file__).resolve().parent.parent
RECORDING = ROOT / "examples" / "chat-slow-first-token.jsonl"
OUT = ROOT / "docs"
PROMPT = "Why does the first token take so long?"


async def main() -> None:
    settings = Settings(api="replay", replay=RECORDING, model="fake-model", history=False)
    left = Contender("streaming", settings, make_provider(settings))
    right_settings = settings.with_(stream=False)
    right = Contender("non-streaming", right_settings, make_provider(right_settings))
    app = ChatApp(settings, provider=make_provider(settings), remember_ui=False)
    async with app.run_test(size=(100, 28)) as pilot:
        screen = CompareScreen(left, right)
        await app.push_screen(screen)
        screen.query_one(PromptInput).load_text(PROMPT)
        await pilot.press("enter")
        await pilot.pause(3.2)  # first token at 2 s, then ~25 tokens/s
        OUT.mkdir(exist_ok=True)
        app.save_screenshot("compare-race.svg", str(OUT))
        while screen.busy:
            await pilot.pause(0.1)
        await pilot.pause(0.3)
        app.save_screenshot("compare-verdict.svg", str(OUT))
    print(f"wrote {OUT / 'compare-race.svg'} and {OUT / 'compare-verdict.svg'}")


if __name__ == "__main__":
    asyncio.run(main())
