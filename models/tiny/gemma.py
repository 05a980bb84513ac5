"""Gemma 4 replicas: edge (audio tower), large (no audio) and the encoder-free 12B ("unified").

Real config, model and processor classes at tiny sizes, the template of the real checkpoint
they stand for, and the real checkpoints' sampling defaults in `generation_config.json`, so
that anything inherited from a checkpoint shows in tests as it would with the real one.
"""

from __future__ import annotations

from pathlib import Path

from . import templates
from .tokenizer import GEMMA_EXTRA, gemma_tokenizer, readable_output, write_generation_config

# The tokens that end a turn and open or close a thought (tokenizer.readable_output).
ENDS = ["<eos>", "<turn|>", "<|channel>", "<channel|>"]

# As every Gemma 4 checkpoint's own generation_config.json (the eos ids are the replica's own).
SAMPLING_DEFAULTS = {"do_sample": True, "temperature": 1.0, "top_k": 64, "top_p": 0.95}


def _text_config(ids, vocab: int, **extra) -> dict:
    return {**dict(
        vocab_size=vocab,
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        # The last layer must be full attention, as in every real Gemma 4.
        layer_types=["sliding_attention", "full_attention"],
        num_attention_heads=2,
        num_key_value_heads=1,
        head_dim=16,
        global_head_dim=16,  # defaults to the real 512
        sliding_window=64,
        max_position_embeddings=8192,
        final_logit_softcapping=30.0,
        pad_token_id=ids("<pad>"),
        eos_token_id=ids("<eos>"),
        bos_token_id=ids("<bos>"),
    ), **extra}


def _token_ids(ids) -> dict:
    return dict(
        image_token_id=ids(GEMMA_EXTRA["image_token"]),
        boi_token_id=ids(GEMMA_EXTRA["boi_token"]),
        eoi_token_id=ids(GEMMA_EXTRA["eoi_token"]),
        audio_token_id=ids(GEMMA_EXTRA["audio_token"]),
        boa_token_id=ids(GEMMA_EXTRA["boa_token"]),
        eoa_token_index=ids(GEMMA_EXTRA["eoa_token"]),
        video_token_id=ids("<|video|>"),
    )


def _save(model, processor, ids, out: Path) -> None:
    readable_output(model, processor.tokenizer, ENDS)
    model.save_pretrained(out)
    processor.save_pretrained(out)
    write_generation_config(
        out,
        dict(bos_token_id=ids("<bos>"), pad_token_id=ids("<pad>"), eos_token_id=[ids("<eos>"), ids("<turn|>")], **SAMPLING_DEFAULTS),
    )


def _build_gemma4(out: Path, audio: bool, template: str) -> None:
    from transformers import (
        Gemma4AudioFeatureExtractor,
        Gemma4Config,
        Gemma4ForConditionalGeneration,
        Gemma4ImageProcessor,
        Gemma4Processor,
        Gemma4VideoProcessor,
    )

    tok = gemma_tokenizer()
    ids = tok.convert_tokens_to_ids
    config = Gemma4Config(
        text_config=_text_config(ids, len(tok), vocab_size_per_layer_input=len(tok), hidden_size_per_layer_input=8),
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
        # 26B-A4B and 31B have no audio tower: audio_config None, as theirs.
        audio_config=dict(
            hidden_size=32,
            num_hidden_layers=1,
            num_attention_heads=2,
            subsampling_conv_channels=[128, 8],
            output_proj_dims=32,
        ) if audio else None,
        **_token_ids(ids),
    )
    processor = Gemma4Processor(
        feature_extractor=Gemma4AudioFeatureExtractor(),
        image_processor=Gemma4ImageProcessor(max_soft_tokens=70),
        # Fewer frames than the real 32 keep the replica quick on two CPU cores.
        video_processor=Gemma4VideoProcessor(num_frames=8, max_soft_tokens=70),
        tokenizer=tok,
        chat_template=template,
    )
    _save(Gemma4ForConditionalGeneration(config), processor, ids, out)


def build_edge(out: Path) -> None:
    """Like E2B/E4B: an audio tower, the edge template."""
    _build_gemma4(out, audio=True, template=templates.GEMMA_EDGE)


def build_large(out: Path) -> None:
    """Like 26B-A4B/31B: no audio, the large template (empty thought channel when not thinking)."""
    _build_gemma4(out, audio=False, template=templates.GEMMA_LARGE)


def build_unified(out: Path) -> None:
    """Like 12B: encoder-free, raw image patches and 40 ms audio frames straight into the decoder."""
    from transformers import (
        Gemma4UnifiedAudioFeatureExtractor,
        Gemma4UnifiedConfig,
        Gemma4UnifiedForConditionalGeneration,
        Gemma4UnifiedImageProcessor,
        Gemma4UnifiedProcessor,
        Gemma4UnifiedVideoProcessor,
    )

    tok = gemma_tokenizer()
    ids = tok.convert_tokens_to_ids
    config = Gemma4UnifiedConfig(
        # Full-attention layers have one KV head whose keys are also its values, as the real 12B.
        text_config=_text_config(ids, len(tok), num_global_key_value_heads=1, attention_k_eq_v=True),
        # Raw 48x48 patches (16 px, pooled 3x3) are projected to mm_embed_dim, then to the decoder.
        # The position table covers every patch row and column of the largest image the
        # processor makes (the real one: 1120 for its 1120-token budget).
        vision_config=dict(mm_embed_dim=32, mm_posemb_size=256, output_proj_dims=32),
        # Each audio soft token is 640 raw samples (40 ms at 16 kHz), as the real one.
        audio_config=dict(audio_embed_dim=640),
        **_token_ids(ids),
    )
    processor = Gemma4UnifiedProcessor(
        feature_extractor=Gemma4UnifiedAudioFeatureExtractor(),
        image_processor=Gemma4UnifiedImageProcessor(max_soft_tokens=70),
        video_processor=Gemma4UnifiedVideoProcessor(num_frames=8, max_soft_tokens=70),
        tokenizer=tok,
        chat_template=templates.GEMMA_LARGE,  # byte-identical to 26B-A4B's and 31B's
    )
    _save(Gemma4UnifiedForConditionalGeneration(config), processor, ids, out)


# Drafted tokens per round. The real drafters carry their own value in generation_config.json;
# a few keep the replicas quick, and random weights have every one of them rejected anyway.
DRAFT_TOKENS = 4


def build_drafter(out: Path, unified: bool = False) -> None:
    """Like the "-assistant" checkpoints: a small multi-token-prediction drafter that reads the
    target's KV cache (the same heads and head sizes as its target) and its last hidden state
    (backbone_hidden_size = the target's hidden size). gemma4_unified_assistant drafts for the 12B."""
    from transformers import (
        Gemma4AssistantConfig,
        Gemma4AssistantForCausalLM,
        Gemma4TextConfig,
        Gemma4UnifiedAssistantConfig,
        Gemma4UnifiedAssistantForCausalLM,
        Gemma4UnifiedTextConfig,
    )

    tok = gemma_tokenizer()
    ids = tok.convert_tokens_to_ids
    target = _text_config(ids, len(tok))
    # No per-layer inputs (the assistant classes refuse them): the drafter reads the target's states instead.
    text = _text_config(ids, len(tok), hidden_size=32, intermediate_size=64, hidden_size_per_layer_input=0,
                        vocab_size_per_layer_input=0)
    if unified:
        text.update(num_global_key_value_heads=1, attention_k_eq_v=True)
        config = Gemma4UnifiedAssistantConfig(text_config=Gemma4UnifiedTextConfig(**text),
                                              backbone_hidden_size=target["hidden_size"])
        model = Gemma4UnifiedAssistantForCausalLM(config)
    else:
        config = Gemma4AssistantConfig(text_config=Gemma4TextConfig(**text), backbone_hidden_size=target["hidden_size"])
        model = Gemma4AssistantForCausalLM(config)
    model.generation_config.num_assistant_tokens = DRAFT_TOKENS
    model.save_pretrained(out)
