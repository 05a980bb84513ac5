"""Qwen 3.5 replicas: small (0.8B, 2B template) and 4B-and-larger. Same tiny architecture, the
real processor classes, each its own template, and the real sampling defaults on disk."""

from __future__ import annotations

from pathlib import Path

from . import templates
from .tokenizer import qwen_tokenizer, readable_output, write_generation_config

# The tokens that end a turn and open or close a thought (tokenizer.readable_output).
ENDS = ["<|im_end|>", "<|endoftext|>", "<think>", "</think>"]

# As Qwen 3.5's own generation_config.json.
SAMPLING_DEFAULTS = {"top_k": 20, "top_p": 0.95}


def _build(out: Path, template: str) -> None:
    from transformers import (
        Qwen2VLImageProcessor,
        Qwen3_5Config,
        Qwen3_5ForConditionalGeneration,
        Qwen3VLProcessor,
        Qwen3VLVideoProcessor,
    )

    tok = qwen_tokenizer()
    ids = tok.convert_tokens_to_ids
    config = Qwen3_5Config(
        text_config=dict(
            vocab_size=len(tok),
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
    readable_output(model, tok, ENDS)
    model.save_pretrained(out)
    write_generation_config(
        out, dict(pad_token_id=ids("<|endoftext|>"), eos_token_id=[ids("<|im_end|>"), ids("<|endoftext|>")], **SAMPLING_DEFAULTS)
    )
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
        chat_template=template,
    )
    processor.save_pretrained(out)


def build_small(out: Path) -> None:
    _build(out, templates.QWEN_SMALL)


def build(out: Path) -> None:
    _build(out, templates.QWEN)
