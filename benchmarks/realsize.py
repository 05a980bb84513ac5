"""Random-weight models of the real checkpoints' sizes, built in memory from the registry, for speed figures.

A GPU benchmark needs the real sizes, not the real weights: `real_size_side("google/gemma-4-12B-it")`
builds that checkpoint's text decoder as the registry describes it (models.registry:
`architecture`, with where each figure came from), random bf16 weights straight on the device,
with the offline replica's processor and token ids (so prompts go through the same template and
processor as in the app), and makes it a Side through the app's own `ready_side` (drafter, warm-up,
fast path). Nothing is downloaded or written to disk. With `draft`, a random drafter of the
assistant's shape is attached: 4 layers, hidden 1024 (the 12B assistant's, checked; the other
sizes' drafters are assumed alike); with random weights every drafted token is rejected, so a
drafted figure shows the drafter's cost only.
"""

from __future__ import annotations

DRAFTER_LAYERS, DRAFTER_HIDDEN = 4, 1024


def _replica_for(architecture: dict) -> str:
    if architecture["model_type"] == "gemma4" and architecture.get("hidden_size_per_layer_input"):
        return "gemma4-edge-tiny"  # per-layer embeddings: E2B, E4B (edge template, audio tower)
    return {"gemma4_unified": "gemma4-12b-tiny", "gemma4": "gemma4-large-tiny"}.get(
        architecture["model_type"], "qwen3_5-tiny"
    )


def _fields(text_config) -> dict:
    """A text config's own fields, less what its class derives or stamps (rebuilt from the rest)."""
    derived = ("layer_types", "per_layer_config", "model_type", "transformers_version", "architectures", "dtype")
    return {k: v for k, v in text_config.to_dict().items() if k not in derived}


def _text_config(config, architecture: dict):
    """The registry's architecture over its config class's own defaults; only the token ids come from the
    replica (its processor and template use them). Every other replica field is tiny: keeping one that the
    registry does not name would shrink the model (it once gave Qwen 3.5 27B two linear-attention heads of 16)."""
    ids = {k: v for k, v in _fields(config.text_config).items() if k in ("pad_token_id", "eos_token_id", "bos_token_id")}
    return type(config.text_config)(**ids, **{k: v for k, v in architecture.items() if k != "model_type"})


def real_size_config(source: str):
    """The replica folder (processor, template) and the full config of `source` at its real size."""
    from transformers import AutoConfig

    from models.registry import checkpoint
    from models.tiny import build

    known = checkpoint(source)
    if known is None or known.architecture is None:
        raise ValueError(f"{source}: no checked architecture in the registry")
    replica = _replica_for(known.architecture)
    folder = build((replica,))[replica]
    config = AutoConfig.from_pretrained(folder)
    config.text_config = _text_config(config, known.architecture)
    return folder, config


def real_size_side(source: str, device: str = "cuda", fast: bool = False, draft: bool = False):
    import torch
    from transformers import AutoModelForImageTextToText, AutoProcessor

    from engine.sides import ready_side
    from models.families import FAMILIES
    from models.loading import LoadedModel, read_capabilities
    from models.registry import checkpoint

    known = checkpoint(source)
    folder, config = real_size_config(source)
    dtype = torch.bfloat16 if device.startswith("cuda") else torch.float32
    with torch.device(device):
        model = AutoModelForImageTextToText.from_config(config, dtype=dtype).eval()
    processor = AutoProcessor.from_pretrained(folder)
    family = FAMILIES[known.family]
    loaded = LoadedModel(
        source=f"{source} (random weights, real size)", family=family, model=model, processor=processor,
        capabilities=read_capabilities(config, processor, family), device=device,
        dtype=str(dtype).removeprefix("torch."), revision=None, is_replica=True, fast=fast,
    )
    if draft and family.drafter_suffix:
        loaded.drafter = _drafter(config, known.architecture, device, dtype)
        loaded.drafter_source = f"random drafter, {DRAFTER_LAYERS} layers, hidden {DRAFTER_HIDDEN}"
    return ready_side(known.family, loaded)


def _drafter(config, architecture: dict, device: str, dtype):
    import torch
    from transformers import Gemma4AssistantConfig, Gemma4AssistantForCausalLM
    from transformers import Gemma4UnifiedAssistantConfig, Gemma4UnifiedAssistantForCausalLM

    text = _fields(config.text_config)
    text.update(num_hidden_layers=DRAFTER_LAYERS, hidden_size=DRAFTER_HIDDEN, intermediate_size=4 * DRAFTER_HIDDEN,
                hidden_size_per_layer_input=0, vocab_size_per_layer_input=0, num_kv_shared_layers=0,
                use_double_wide_mlp=False)
    unified = architecture["model_type"] == "gemma4_unified"
    text_config = type(config.text_config)(**text)
    backbone = config.text_config.hidden_size
    with torch.device(device):
        if unified:
            model = Gemma4UnifiedAssistantForCausalLM(
                Gemma4UnifiedAssistantConfig(text_config=text_config, backbone_hidden_size=backbone))
        else:
            model = Gemma4AssistantForCausalLM(Gemma4AssistantConfig(text_config=text_config, backbone_hidden_size=backbone))
    model.generation_config.num_assistant_tokens = 4
    return model.to(dtype).eval()
