"""Offline replicas: tiny random-weight models of the real Gemma 4 and Qwen 3.5 architectures.

Nothing in this project's tests may download weights, so these replicas stand in for real
checkpoints. They use the real config, model and processor classes with small sizes, a
byte-level tokenizer (one token per byte) carrying each family's special tokens, and a chat
template of this project's own that follows each family's turn format. They are saved with
`save_pretrained` and then loaded through exactly the same `from_pretrained` path as a hub
checkpoint (`models.loading`), so every code path under test is the real one.

Their outputs are noise. Whatever shows them must say so (see `TINY_NOTICE`).
The Gemma replica has an audio tower and the Qwen replica none, as the real E2B/E4B and
Qwen 3.5 checkpoints, so routing by capability is exercised for real.
"""

from __future__ import annotations

import os
from pathlib import Path

TINY_NOTICE = "Offline replica with random weights: its output is noise, not a real model's answer."

# Bump when the replicas change shape, so old caches are rebuilt rather than reused.
TINY_VERSION = "1"
GEMMA_DIR = "gemma4-tiny"
# A file in each replica folder that marks it as one (models.loading reads it).
MARKER = ".tiny-replica"
QWEN_DIR = "qwen3_5-tiny"

# Gemma 4 turn format, as the real template: <|turn>role ... <turn|>, thinking switched on by
# <|think|> in the system turn, media as one placeholder per item that the processor expands.
GEMMA_CHAT_TEMPLATE = """{{ bos_token }}
{%- set sys = messages[0] if messages and messages[0].role == 'system' else none -%}
{%- if enable_thinking or sys -%}
<|turn>system
{% if enable_thinking %}<|think|>{% endif %}
{%- if sys %}{% if sys.content is string %}{{ sys.content }}{% else %}{% for c in sys.content %}{% if c.type == 'text' %}{{ c.text }}{% endif %}{% endfor %}{% endif %}{% endif -%}
<turn|>
{% endif -%}
{%- for m in messages if m.role != 'system' -%}
<|turn>{{ 'model' if m.role == 'assistant' else 'user' }}
{% if m.content is string %}{{ m.content }}{% else %}{% for c in m.content %}
{%- if c.type == 'image' %}<|image|>{% elif c.type == 'video' %}<|video|>{% elif c.type == 'audio' %}<|audio|>{% elif c.type == 'text' %}{{ c.text }}{% endif %}
{%- endfor %}{% endif %}<turn|>
{% endfor -%}
{%- if add_generation_prompt %}<|turn>model
{% endif -%}"""

# Qwen 3.5 ChatML format; with thinking off the generation prompt holds an empty think block,
# with it on an open one, as the real template does.
QWEN_CHAT_TEMPLATE = """{%- for m in messages -%}
<|im_start|>{{ m.role }}
{% if m.content is string %}{{ m.content }}{% else %}{% for c in m.content %}
{%- if c.type == 'image' %}<|vision_start|><|image_pad|><|vision_end|>{% elif c.type == 'video' %}<|vision_start|><|video_pad|><|vision_end|>{% elif c.type == 'text' %}{{ c.text }}{% endif %}
{%- endfor %}{% endif %}<|im_end|>
{% endfor -%}
{%- if add_generation_prompt %}<|im_start|>assistant
{% if enable_thinking %}<think>
{% else %}<think>

</think>

{% endif %}{% endif -%}"""

GEMMA_SPECIAL = {
    "pad_token": "<pad>",
    "eos_token": "<eos>",
    "bos_token": "<bos>",
}
GEMMA_EXTRA = {
    "image_token": "<|image|>",
    "boi_token": "<|image>",
    "eoi_token": "<image|>",
    "audio_token": "<|audio|>",
    "boa_token": "<|audio>",
    "eoa_token": "<audio|>",
}
GEMMA_OTHER = ["<|turn>", "<turn|>", "<|think|>", "<|channel>", "<channel|>", "<|video|>"]

QWEN_SPECIAL = {"pad_token": "<|endoftext|>", "eos_token": "<|im_end|>"}
QWEN_EXTRA = {
    "image_token": "<|image_pad|>",
    "video_token": "<|video_pad|>",
    "vision_bos_token": "<|vision_start|>",
    "vision_eos_token": "<|vision_end|>",
}
QWEN_OTHER = ["<|im_start|>", "<think>", "</think>"]


def default_cache_dir() -> Path:
    """Where replicas are built once and reused (override with GEMMA_QWEN_TINY_DIR)."""
    env = os.environ.get("GEMMA_QWEN_TINY_DIR")
    if env:
        return Path(env)
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return base / "gemma-qwen-compare" / f"tiny-v{TINY_VERSION}"


def _byte_tokenizer(special: dict[str, str], extra: dict[str, str], other: list[str]):
    """A byte-level tokenizer: special tokens first, then one token per byte, no merges."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    specials = list(dict.fromkeys([*special.values(), *extra.values(), *other]))
    alphabet = pre_tokenizers.ByteLevel.alphabet()
    vocab = {tok: i for i, tok in enumerate(specials)}
    for ch in sorted(alphabet):
        vocab[ch] = len(vocab)
    backend = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    backend.decoder = decoders.ByteLevel()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, extra_special_tokens=extra, **special)
    tokenizer.add_special_tokens({"additional_special_tokens": [*extra.values(), *other]})
    return tokenizer


def _build_gemma(out: Path) -> None:
    from transformers import (
        Gemma4AudioFeatureExtractor,
        Gemma4Config,
        Gemma4ForConditionalGeneration,
        Gemma4ImageProcessor,
        Gemma4Processor,
        Gemma4VideoProcessor,
        GenerationConfig,
    )

    tok = _byte_tokenizer(GEMMA_SPECIAL, GEMMA_EXTRA, GEMMA_OTHER)
    ids = tok.convert_tokens_to_ids
    vocab = len(tok)
    config = Gemma4Config(
        text_config=dict(
            vocab_size=vocab,
            vocab_size_per_layer_input=vocab,
            hidden_size=64,
            hidden_size_per_layer_input=8,
            intermediate_size=128,
            num_hidden_layers=2,
            layer_types=["sliding_attention", "full_attention"],
            num_attention_heads=2,
            num_key_value_heads=1,
            head_dim=16,
            global_head_dim=16,
            sliding_window=64,
            max_position_embeddings=8192,
            final_logit_softcapping=30.0,
            pad_token_id=ids("<pad>"),
            eos_token_id=ids("<eos>"),
            bos_token_id=ids("<bos>"),
        ),
        vision_config=dict(
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=1,
            num_attention_heads=2,
            num_key_value_heads=2,
            head_dim=16,
            patch_size=16,
            pooling_kernel_size=3,
            position_embedding_size=1024,
        ),
        # subsampling_conv_channels[0] must equal the feature extractor's 128 mel bins.
        audio_config=dict(
            hidden_size=32,
            num_hidden_layers=1,
            num_attention_heads=2,
            subsampling_conv_channels=[128, 8],
            output_proj_dims=32,
        ),
        image_token_id=ids(GEMMA_EXTRA["image_token"]),
        boi_token_id=ids(GEMMA_EXTRA["boi_token"]),
        eoi_token_id=ids(GEMMA_EXTRA["eoi_token"]),
        audio_token_id=ids(GEMMA_EXTRA["audio_token"]),
        boa_token_id=ids(GEMMA_EXTRA["boa_token"]),
        eoa_token_index=ids(GEMMA_EXTRA["eoa_token"]),
        video_token_id=ids("<|video|>"),
    )
    model = Gemma4ForConditionalGeneration(config)
    model.generation_config = GenerationConfig(
        bos_token_id=ids("<bos>"),
        pad_token_id=ids("<pad>"),
        eos_token_id=[ids("<eos>"), ids("<turn|>")],
    )
    model.save_pretrained(out)
    processor = Gemma4Processor(
        feature_extractor=Gemma4AudioFeatureExtractor(),
        image_processor=Gemma4ImageProcessor(max_soft_tokens=70),
        # Fewer frames than the real 32 keep the replica quick on two CPU cores.
        video_processor=Gemma4VideoProcessor(num_frames=8, max_soft_tokens=70),
        tokenizer=tok,
        chat_template=GEMMA_CHAT_TEMPLATE,
    )
    processor.save_pretrained(out)


def _build_qwen(out: Path) -> None:
    from transformers import (
        GenerationConfig,
        Qwen2VLImageProcessor,
        Qwen3_5Config,
        Qwen3_5ForConditionalGeneration,
        Qwen3VLProcessor,
        Qwen3VLVideoProcessor,
    )

    tok = _byte_tokenizer(QWEN_SPECIAL, QWEN_EXTRA, QWEN_OTHER)
    ids = tok.convert_tokens_to_ids
    vocab = len(tok)
    config = Qwen3_5Config(
        text_config=dict(
            vocab_size=vocab,
            hidden_size=64,
            intermediate_size=128,
            num_hidden_layers=2,
            layer_types=["linear_attention", "full_attention"],
            num_attention_heads=2,
            num_key_value_heads=1,
            head_dim=32,
            linear_key_head_dim=16,
            linear_value_head_dim=16,
            linear_num_key_heads=2,
            linear_num_value_heads=2,
            hidden_act="silu",
            max_position_embeddings=8192,
            # 32 * 0.25 = 8 rotary dims; mrope_section sums to half of them.
            rope_parameters=dict(
                rope_type="default",
                rope_theta=10_000_000.0,
                partial_rotary_factor=0.25,
                mrope_section=[2, 1, 1],
                mrope_interleaved=True,
            ),
            pad_token_id=ids("<|endoftext|>"),
            eos_token_id=ids("<|im_end|>"),
        ),
        vision_config=dict(
            depth=1,
            hidden_size=32,
            intermediate_size=64,
            num_heads=2,
            patch_size=16,
            spatial_merge_size=2,
            temporal_patch_size=2,
            out_hidden_size=64,  # must equal the text hidden size
            num_position_embeddings=256,
        ),
        image_token_id=ids("<|image_pad|>"),
        video_token_id=ids("<|video_pad|>"),
        vision_start_token_id=ids("<|vision_start|>"),
        vision_end_token_id=ids("<|vision_end|>"),
    )
    model = Qwen3_5ForConditionalGeneration(config)
    model.generation_config = GenerationConfig(
        pad_token_id=ids("<|endoftext|>"),
        eos_token_id=[ids("<|im_end|>"), ids("<|endoftext|>")],
    )
    model.save_pretrained(out)
    # patch_size=16 matches the vision tower (the image processor's default is 14); small pixel
    # budgets keep the replica quick.
    processor = Qwen3VLProcessor(
        image_processor=Qwen2VLImageProcessor(
            patch_size=16, merge_size=2, size={"shortest_edge": 32 * 32, "longest_edge": 256 * 256}
        ),
        video_processor=Qwen3VLVideoProcessor(
            patch_size=16,
            merge_size=2,
            fps=2,
            min_frames=4,
            max_frames=16,
            size={"shortest_edge": 32 * 32, "longest_edge": 16 * 128 * 128},
        ),
        tokenizer=tok,
        chat_template=QWEN_CHAT_TEMPLATE,
    )
    processor.save_pretrained(out)


def build_replicas(directory: Path | None = None, force: bool = False) -> tuple[Path, Path]:
    """Build both replicas into `directory` (once) and return their two folders."""
    import torch

    root = Path(directory) if directory else default_cache_dir()
    folders = (root / GEMMA_DIR, root / QWEN_DIR)
    for folder, build in zip(folders, (_build_gemma, _build_qwen)):
        done = folder / MARKER
        if done.exists() and not force:
            continue
        folder.mkdir(parents=True, exist_ok=True)
        # A fixed seed makes the replicas the same on every machine that builds them.
        with torch.random.fork_rng():
            torch.manual_seed(0)
            build(folder)
        done.write_text(TINY_VERSION)
    return folders
