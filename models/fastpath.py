"""The fast generation path: a static KV cache sized once, compiled decoding (CUDA graphs on a GPU).

With plain `generate` a small model mostly measures Python overhead, not the model. Here the
cache is a static one of FAST_CACHE_TOKENS (so every request up to that length reuses one
compiled graph instead of compiling again), and transformers' own generation compile support
compiles the decoding step ("reduce-overhead" = CUDA graphs on CUDA). Compilation happens in
the warm-up when a model loads, never inside a user's request; torch's compile cache
(TORCHINDUCTOR_CACHE_DIR, on by default) lets a restart reuse it. The eager path stays the
default on the CPU and gives the same greedy tokens (a test checks it).
"""

from __future__ import annotations

import importlib.util

# One static cache size for every request: prompt plus new tokens up to this length.
FAST_CACHE_TOKENS = 8192


def fast_overrides(device: str) -> dict:
    """GenerationConfig fields that switch a generation onto the fast path."""
    from transformers import CompileConfig

    on_gpu = device.startswith("cuda")
    compile_config = CompileConfig(fullgraph=False, mode="reduce-overhead" if on_gpu else "default")
    compile_config._compile_all_devices = not on_gpu  # transformers compiles on GPUs only unless told
    return {"cache_implementation": "static", "max_cache_len": FAST_CACHE_TOKENS, "compile_config": compile_config}


def compiled_graphs() -> int:
    """How many graphs torch has compiled in this process so far (dynamo's own count): a warm-up
    that leaves it unchanged compiled nothing."""
    from torch._dynamo.utils import counters

    return counters["stats"]["unique_graphs"]


def linear_attention_kernels() -> str:
    """Which implementation Qwen 3.5's Gated DeltaNet layers get (transformers falls back to PyTorch)."""
    fla = importlib.util.find_spec("fla") is not None
    conv = importlib.util.find_spec("causal_conv1d") is not None
    if fla and conv:
        return "flash-linear-attention + causal-conv1d"
    if fla:
        return "flash-linear-attention (causal-conv1d: PyTorch fallback)"
    return "PyTorch fallback (install flash-linear-attention and causal-conv1d on a GPU)"
