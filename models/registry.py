"""The real checkpoints this demo knows, and the matched pairs offered as presets.

Any other hub id or local folder of either family loads too (see models.loading); this list
only names what the presets and pickers offer. `params_b` is the checked size of each full
checkpoint (MODEL-FACTS), used to say up front what fits where.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Checkpoint:
    source: str  # the hub id
    family: str  # the side: "gemma" or "qwen"
    params_b: float
    # The text decoder's hyperparameters (its text config's fields), so a benchmark can build a
    # random-weight model of the real size without the Hub (benchmarks/realsize.py), and where
    # they come from. None where they were not checked.
    architecture: dict | None = field(default=None, compare=False)
    architecture_source: str = ""


# Checked in MODEL-FACTS (the checkpoints' config.json as transformers 5.24 reads it).
GEMMA_12B = dict(
    model_type="gemma4_unified", num_hidden_layers=48, hidden_size=3840, intermediate_size=15360, vocab_size=262144,
    num_attention_heads=16, num_key_value_heads=8, head_dim=256, sliding_window=1024, num_global_key_value_heads=1,
    attention_k_eq_v=True, global_head_dim=512, hidden_size_per_layer_input=0, vocab_size_per_layer_input=0,
)
GEMMA_31B = dict(
    model_type="gemma4", num_hidden_layers=60, hidden_size=5376, intermediate_size=21504, vocab_size=262144,
    num_attention_heads=32, num_key_value_heads=16, head_dim=256, sliding_window=1024, num_global_key_value_heads=4,
    attention_k_eq_v=True, global_head_dim=512, hidden_size_per_layer_input=0, vocab_size_per_layer_input=0,
)
QWEN_27B = dict(
    model_type="qwen3_5", num_hidden_layers=64, hidden_size=5120, intermediate_size=17408, vocab_size=248320,
    num_attention_heads=24, num_key_value_heads=4, head_dim=256,
    # Not in MODEL-FACTS: 48 value heads is the count whose size matches its 51 GiB (27.3B with the vision
    # tower; the class default, 32, gives 25.8B = 48 GiB).
    linear_num_value_heads=48,
)
QWEN_9B = dict(model_type="qwen3_5")  # Qwen3_5TextConfig's own defaults are the 9B
# The edge models, from Google's own C++ engine (gemma.cpp, gemma/configs.cc: ConfigGemma4_2B_LM and
# ConfigGemma4_E4B_LM). Their parameter counts agree with MODEL-FACTS' sizes (tests/test_fastpath.py).
# Not Gemma4TextConfig's defaults (hidden 2304, 30 layers, no shared KV): those give a model of
# another size, and 30 layers' per-layer table is 2.0B, not the checked 2.35B.
GEMMA_E2B = dict(
    model_type="gemma4", num_hidden_layers=35, hidden_size=1536, intermediate_size=6144, use_double_wide_mlp=True,
    num_kv_shared_layers=20, vocab_size=262144, num_attention_heads=8, num_key_value_heads=1, head_dim=256,
    global_head_dim=512, sliding_window=512, hidden_size_per_layer_input=256, vocab_size_per_layer_input=262144,
    layer_types=(["sliding_attention"] * 4 + ["full_attention"]) * 7,
)
GEMMA_E4B = dict(
    model_type="gemma4", num_hidden_layers=42, hidden_size=2560, intermediate_size=10240, num_kv_shared_layers=18,
    vocab_size=262144, num_attention_heads=8, num_key_value_heads=2, head_dim=256, global_head_dim=512,
    sliding_window=512, hidden_size_per_layer_input=256, vocab_size_per_layer_input=262144,
    layer_types=(["sliding_attention"] * 5 + ["full_attention"]) * 7,
)
GEMMA_CPP = "gemma.cpp configs.cc (Google's C++ engine); sizes agree with MODEL-FACTS"


CHECKPOINTS: tuple[Checkpoint, ...] = (
    Checkpoint("google/gemma-4-E2B-it", "gemma", 5.1, GEMMA_E2B, GEMMA_CPP),
    Checkpoint("google/gemma-4-E4B-it", "gemma", 7.9, GEMMA_E4B, GEMMA_CPP),
    Checkpoint("google/gemma-4-12B-it", "gemma", 11.9, GEMMA_12B, "MODEL-FACTS (config.json); layer pattern: config default"),
    Checkpoint("google/gemma-4-26B-A4B-it", "gemma", 25.8),
    Checkpoint("google/gemma-4-31B-it", "gemma", 31.0, GEMMA_31B, "MODEL-FACTS (config.json); layer pattern: config default"),
    Checkpoint("Qwen/Qwen3.5-0.8B", "qwen", 0.8),
    Checkpoint("Qwen/Qwen3.5-2B", "qwen", 2.0),
    Checkpoint("Qwen/Qwen3.5-4B", "qwen", 4.0),
    Checkpoint("Qwen/Qwen3.5-9B", "qwen", 9.4, QWEN_9B, "Qwen3_5TextConfig defaults (the 9B)"),
    Checkpoint("Qwen/Qwen3.5-27B", "qwen", 27.0, QWEN_27B,
               "MODEL-FACTS (config.json); linear-attention value heads (48) inferred from its checked size, "
               "the rest of the linear attention: config defaults"),
    Checkpoint("Qwen/Qwen3.5-35B-A3B", "qwen", 35.0),
)


@dataclass(frozen=True)
class Preset:
    name: str
    gemma: str
    qwen: str
    note: str


# There is no Qwen 3.5 32B: the closest dense peer of Gemma 4 31B is Qwen 3.5 27B.
PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset("edge", "google/gemma-4-E2B-it", "Qwen/Qwen3.5-2B", "on-device sizes"),
        Preset("small", "google/gemma-4-E4B-it", "Qwen/Qwen3.5-4B", "fits one consumer GPU"),
        Preset("mid", "google/gemma-4-12B-it", "Qwen/Qwen3.5-9B", "mid-size; Gemma 12B hears"),
        Preset("moe", "google/gemma-4-26B-A4B-it", "Qwen/Qwen3.5-35B-A3B", "mixture of experts, ~3-4B active"),
        Preset("large", "google/gemma-4-31B-it", "Qwen/Qwen3.5-27B", "largest dense models"),
    )
}
DEFAULT_PRESET = "small"


def checkpoint(source: str) -> Checkpoint | None:
    return next((c for c in CHECKPOINTS if c.source.lower() == source.lower()), None)
