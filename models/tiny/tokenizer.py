"""The replicas' tokenizer: byte-level, carrying each family's special tokens and a few hundred
whole English words.

Text is encoded one token per byte (no merges), so any input encodes and prompt lengths are
simple to reason about. The words (models/tiny/words.txt) are tokens a model can emit: with
random weights the replicas' answers are still noise, but noise that reads as words rather
than as stray bytes that do not decode (see `readable_output`).
"""

from __future__ import annotations

from pathlib import Path

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


WORDS_FILE = Path(__file__).with_name("words.txt")
SPACE = "\u0120"  # the byte-level alphabet's spelling of a leading space ("Ġ")
# Tokens other than words that keep the noise readable: punctuation and the line break ("Ċ").
PUNCTUATION = [".", ",", "\u010a"]


def words() -> list[str]:
    lines = WORDS_FILE.read_text(encoding="utf-8").splitlines()
    return list(dict.fromkeys(w.strip() for w in lines if w.strip() and not w.startswith("#")))


def byte_tokenizer(special: dict[str, str], extra: dict[str, str], other: list[str]):
    """Special tokens first, then one token per byte, then the words; no merges, so text is
    encoded byte by byte and the words only ever come out of a model."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    specials = list(dict.fromkeys([*special.values(), *extra.values(), *other]))
    alphabet = pre_tokenizers.ByteLevel.alphabet()
    vocab = {tok: i for i, tok in enumerate(specials)}
    for ch in sorted(alphabet):
        vocab[ch] = len(vocab)
    for word in words():
        vocab.setdefault(SPACE + word, len(vocab))
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


# How far the readable tokens' rows are moved along one shared direction (`readable_output`).
# The tokens that end a turn or a thought move as far as the words: any further and greedy
# decoding ends most answers within a few tokens (1.6 does); as far, and sampled answers at the
# app's default settings run a median of about 80 tokens (Gemma) and 220 (Qwen), greedy ones
# to their limit.
WORD_LIFT = 1.5


def readable_output(model, tokenizer, ends: list[str]) -> None:
    """Move the embedding rows (input and output) of the words, the punctuation and `ends` (the
    tokens that end a turn or open and close a thought) by WORD_LIFT along one random direction
    they share.

    With every row drawn alike, a random model's next token is close to uniform over the whole
    vocabulary, and 161 of the 256 byte tokens alone decode to nothing readable. Sharing a
    direction, these rows lift each other's logits together once a model's state points that
    way, which a word it has just read (or the line break that ends every generation prompt)
    makes it do: sampling then stays on words, among which it is as random as before, and the
    turn still ends and thoughts still close about as often as any one word is chosen. Moving
    all of them alike, rather than widening each row, keeps a tied embedding from simply
    repeating the last word. The weights stay random: one shared offset is added to some rows.
    """
    import torch

    vocab = tokenizer.get_vocab()
    chosen = [vocab[SPACE + w] for w in words()] + [vocab[p] for p in PUNCTUATION] + [vocab[t] for t in ends]
    inputs, outputs = model.get_input_embeddings().weight, model.get_output_embeddings().weight
    direction = torch.randn(outputs.shape[1])
    with torch.no_grad():
        for rows in {id(inputs): inputs, id(outputs): outputs}.values():  # once where tied
            rows[torch.tensor(chosen)] += WORD_LIFT * direction / direction.norm()
