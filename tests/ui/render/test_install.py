"""How big a paced part of a frame may be, behind a terminal that answers probes."""

from __future__ import annotations

from types import SimpleNamespace

from textual.app import App

from tui_chat.ui.render.install import IN_FLIGHT, KEY_WAIT, PART_MIN, RenderLayer


def answered_layer(answered: int, rate: float = 0.0) -> RenderLayer:
    """A layer whose terminal has answered for the first `answered` characters."""
    layer = RenderLayer(App())
    layer.answers, layer.answered, layer.rate = True, answered, rate
    return layer


def test_a_part_fills_only_what_is_left_of_the_window() -> None:
    """A key's echo goes in the part after this one: with the window's worth already
    out, a whole window more would make it wait behind twice as much."""
    layer = answered_layer(answered=1_000)
    assert layer.part_budget(SimpleNamespace(render_queued=1_000)) == IN_FLIGHT
    assert layer.part_budget(SimpleNamespace(render_queued=1_300)) == IN_FLIGHT - 300
    assert layer.part_budget(SimpleNamespace(render_queued=1_000 + IN_FLIGHT)) == PART_MIN


def test_a_fast_terminal_gets_a_window_of_key_wait_at_its_rate() -> None:
    layer = answered_layer(answered=0, rate=100_000.0)
    window = int(100_000 * KEY_WAIT)
    assert window > IN_FLIGHT
    assert layer.part_budget(SimpleNamespace(render_queued=1_000)) == window - 1_000


def test_a_terminal_that_does_not_answer_gets_whole_frames() -> None:
    layer = RenderLayer(App())
    assert layer.part_budget(SimpleNamespace(render_queued=5_000)) is None
    layer.answers = False  # stopped answering
    assert layer.part_budget(SimpleNamespace(render_queued=5_000)) is None
