"""The NumPy forward pass against llama.cpp, and the GGUF reading under it.

`tests/fixtures/llamacpp_greedy.json` holds llama.cpp's greedy output on three chat
prompts (recorded by `benchmarks/record_llamacpp_fixture.py`). The exact kernels must
reproduce it token for token. The fast kernels add in BLAS order, which this model turns
into visibly different logits after some layers (see `numerics.py`), so for them we
check that they compute the same model, not the same bits.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from tui_chat.local_model.exact_numerics import ExactKernels, v_expf
from tui_chat.local_model.gguf_weights import GGUFFile, locate_model_file
from tui_chat.local_model.llama import LlamaModel

from .conftest import requires_model


@pytest.fixture(scope="module")
def exact_model(engine, llamacpp_fixture) -> LlamaModel:
    path = locate_model_file()
    if hashlib.sha256(path.read_bytes()).hexdigest() != llamacpp_fixture["model_sha256"]:
        pytest.skip(f"{path} is not the model the fixture was recorded with")
    weights = engine.backend.model.weights
    return LlamaModel(weights, ExactKernels())


@requires_model
@pytest.mark.parametrize("case_index", [0, 1, 2])
def test_greedy_tokens_equal_llamacpp(engine, exact_model, llamacpp_fixture, case_index) -> None:
    """Greedy decoding step by step, replayed in one batch: llama.cpp took step i+1 after
    seeing token i, and so would we iff our argmax at every step is the recorded token.
    `decode_attention` makes the batch use the kernels a lone decoding step uses, so the
    logits are bit for bit those of token-by-token decoding."""
    case = llamacpp_fixture["cases"][case_index]
    prompt, expected = case["prompt_token_ids"], case["generated_token_ids"]
    cache = exact_model.new_cache(len(prompt) + len(expected))
    exact_logits = exact_model.forward(prompt, cache)
    replay = LlamaModel(exact_model.weights, ExactKernels(decode_attention=True))
    replay.kernels._blocked = exact_model.kernels._blocked  # share the reordered weights
    steps = replay.forward(expected[:-1], cache, all_logits=True) if len(expected) > 1 else []
    got = [int(np.argmax(exact_logits)), *(int(np.argmax(row)) for row in steps)]
    assert got == expected

    # The fast kernels compute the same model, in another summation order.
    fast = engine.backend.model
    fast_logits = fast.forward(prompt, fast.new_cache(len(prompt)))
    assert np.corrcoef(fast_logits, exact_logits)[0, 1] > 0.995
    assert int(np.argmax(exact_logits)) in np.argsort(-fast_logits)[:3]


@requires_model
def test_prompt_at_once_equals_token_by_token(engine) -> None:
    model = engine.backend.model
    prompt = [1, 4093, 198, 19556, 28, 905, 17, 2, 198]
    whole = model.forward(prompt, model.new_cache(16))
    cache = model.new_cache(16)
    for token in prompt:
        stepped = model.forward([token], cache)
    # Same model, different BLAS shapes: close, not identical, and how close depends on
    # the CPU's kernels (correlations of 0.9989-0.9995 seen). So the yardstick is this
    # machine's own: the exact kernels' logits, which the fast ones differ from by BLAS
    # order alone. Token-by-token must be no further from the prompt at once than that,
    # give or take; a cache gone wrong gives a correlation near 0.2 and differences of 27.
    reference = LlamaModel(model.weights, ExactKernels())
    exact = reference.forward(prompt, reference.new_cache(16))
    noise = 1 - np.corrcoef(whole, exact)[0, 1]
    assert 1 - np.corrcoef(whole, stepped)[0, 1] < 3 * noise + 1e-4
    assert np.abs(whole - stepped).max() < 3 * np.abs(whole - exact).max()
    assert int(np.argmax(whole)) in np.argsort(-stepped)[:3]


@pytest.fixture(scope="module")
def gguf_reader(engine):
    """gguf's own reader (1.6 s to open: hence our parser)."""
    import gguf

    return gguf.GGUFReader(locate_model_file())


@requires_model
def test_gguf_header_parser_agrees_with_gguf_reader(gguf_reader) -> None:
    ours = GGUFFile(locate_model_file())
    reader = gguf_reader
    for key, field in reader.fields.items():
        if key.startswith("GGUF."):
            continue
        value = field.contents()
        assert ours.metadata[key] == (
            pytest.approx(value) if isinstance(value, float) else value
        ), key
    assert len(ours.tensors) == len(reader.tensors)
    for t in reader.tensors:
        info = ours.tensors[t.name]
        assert (info.offset, info.qtype, info.nbytes) == (t.data_offset, t.tensor_type, t.n_bytes)
    ours.close()


@requires_model
def test_dequantized_weights_equal_gguf_dequantize(engine, gguf_reader) -> None:
    from gguf.quants import dequantize

    tensors = {t.name: t for t in gguf_reader.tensors}
    weights = engine.backend.model.weights
    k = tensors["blk.3.attn_k.weight"]  # Q4_1: scaled part + block minimum columns
    qkv = weights.layers[3].qkv
    n = qkv.in_features
    rows = qkv.weight[576:768]
    rebuilt = rows[:, :n].reshape(192, n // 32, 32) + rows[:, n:, None]
    assert np.array_equal(rebuilt.reshape(192, n), dequantize(k.data, k.tensor_type))
    embd = tensors["token_embd.weight"]  # Q8_0
    assert np.array_equal(weights.token_embd, dequantize(embd.data, embd.tensor_type))


def test_ggml_expf_is_close_to_exp_and_exact_zero_for_masked_scores() -> None:
    x = np.linspace(-80, 80, 10001, dtype=np.float32)
    rel = np.abs(v_expf(x) / np.exp(x.astype(np.float64)) - 1)
    assert rel.max() < 1e-6
    assert v_expf(np.array([-np.inf, -200.0], np.float32)).tolist() == [0.0, 0.0]
