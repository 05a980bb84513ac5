"""The replicas' tokenizer: byte-level (one token per byte), carrying each family's special tokens."""

from __future__ import annotations

GEMMA_SPECIAL = {"pad_token": "<pad>", "eos_token": "<eos>", "bos_token": "<bos>"}
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


def byte_tokenizer(special: dict[str, str], extra: dict[str, str], other: list[str]):
    """Special tokens first, then one token per byte, no merges."""
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


def gemma_tokenizer():
    return byte_tokenizer(GEMMA_SPECIAL, GEMMA_EXTRA, GEMMA_OTHER)


def qwen_tokenizer():
    return byte_tokenizer(QWEN_SPECIAL, QWEN_EXTRA, QWEN_OTHER)


def write_generation_config(out, fields: dict) -> None:
    """Write `generation_config.json` as the checkpoint's own file reads, field for field.

    Written directly: `GenerationConfig.save_pretrained` refuses sampling fields without
    `do_sample`, which is exactly what Qwen 3.5's real file holds.
    """
    import json
    from pathlib import Path

    fields = {**fields, "transformers_version": __import__("transformers").__version__}
    (Path(out) / "generation_config.json").write_text(json.dumps(fields, indent=2) + "\n")
