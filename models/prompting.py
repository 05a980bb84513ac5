"""From routed inputs to the tensors one model's `generate` takes, through its own chat template and processor.

Media placeholders go in the chat messages and the processor expands them, so the token
counts by modality are read back from the placeholders it actually inserted. Video frames
are chosen by the model's own video processor (`sample_frames`), decoded here with PyAV,
and passed with their metadata so both families put real timestamps on each frame.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from modalities.routing import RoutedInputs
from modalities.video import decode_frames

from .backend import InputTokens, Turn
from .loading import LoadedModel


@dataclass
class PreparedInputs:
    batch: object  # transformers BatchFeature, on the model's device
    prompt_text: str
    input_tokens: InputTokens
    preprocess_s: float
    starts_in_thinking: bool
    notes: list[str] = field(default_factory=list)


def _user_content(inputs: RoutedInputs) -> list[dict]:
    content: list[dict] = [{"type": "image"} for _ in inputs.images]
    if inputs.video:
        content.append({"type": "video"})
    if inputs.audio:
        content.append({"type": "audio"})
    if inputs.prompt:
        content.append({"type": "text", "text": inputs.prompt})
    return content


def build_messages(inputs: RoutedInputs, history: list[Turn] = ()) -> list[dict]:
    messages = []
    if inputs.system:
        # A plain string: as a list of parts, Gemma 4's template renders it with a trailing space
        # (and revisions before 2026-05 with the Python repr of the list).
        messages.append({"role": "system", "content": inputs.system})
    for turn in history:
        messages.append({"role": "user", "content": _user_content(turn.inputs)})
        messages.append({"role": "assistant", "content": [{"type": "text", "text": turn.answer}]})
    messages.append({"role": "user", "content": _user_content(inputs)})
    return messages


def _video_frames(loaded: LoadedModel, video):
    from transformers.video_utils import VideoMetadata

    metadata = VideoMetadata(
        total_num_frames=video.total_frames,
        fps=video.fps,
        width=video.decode_width,
        height=video.decode_height,
        duration=video.duration_s,
        video_backend="pyav",
    )
    sampler = loaded.processor.video_processor
    wanted = getattr(sampler, "num_frames", None)
    # A fixed frame budget (Gemma 4) cannot exceed a short video's frames: take them all.
    kwargs = {"num_frames": video.total_frames} if wanted and wanted > video.total_frames else {}
    indices = [int(i) for i in sampler.sample_frames(metadata, **kwargs)]
    metadata.frames_indices = indices
    return decode_frames(video, indices), metadata


def count_input_tokens(input_ids, config) -> InputTokens:
    """Each modality's placeholder tokens as the processor inserted them; the rest is text."""
    ids = input_ids[0]
    media = {}
    for modality in ("image", "video", "audio"):
        token_id = getattr(config, f"{modality}_token_id", None)
        media[modality] = int((ids == token_id).sum()) if token_id is not None else 0
    total = int(ids.numel())
    return InputTokens(total=total, text=total - sum(media.values()), **media)


def prepare(loaded: LoadedModel, inputs: RoutedInputs, thinking: bool, history: list[Turn] = ()) -> PreparedInputs:
    """Render the chat template, sample and decode media, and run the processor."""
    start = time.perf_counter()
    processor = loaded.processor
    turns = [*(t.inputs for t in history), inputs]
    text = processor.apply_chat_template(
        build_messages(inputs, history), tokenize=False, add_generation_prompt=True, enable_thinking=thinking
    )
    kwargs: dict = {"text": [text], "return_tensors": "pt"}
    images = [img.pixels() for turn in turns for img in turn.images]
    if images:
        kwargs["images"] = images
    videos = [_video_frames(loaded, turn.video) for turn in turns if turn.video]
    notes = []
    if videos:
        kwargs["videos"] = [frames for frames, _ in videos]
        kwargs["video_metadata"] = [metadata for _, metadata in videos]
        kwargs["do_sample_frames"] = False  # already sampled above, by this processor's own rule
        n = len(videos[-1][1].frames_indices)
        if inputs.video:
            notes.append(f"{inputs.video.name}: {n} frames sampled of {inputs.video.total_frames}")
    audios = [turn.audio.samples() for turn in turns if turn.audio]
    if audios:
        kwargs["audio"] = audios
    batch = processor(**kwargs).to(loaded.model.device)
    if loaded.dtype != "float32":
        batch = batch.to(loaded.model.dtype)  # casts only the floating-point inputs
    think_start, think_end = loaded.family.think_start, loaded.family.think_end
    return PreparedInputs(
        batch=batch,
        prompt_text=text,
        input_tokens=count_input_tokens(batch["input_ids"], loaded.model.config),
        preprocess_s=time.perf_counter() - start,
        # Qwen's template opens the think block in the prompt itself when thinking is on.
        starts_in_thinking=text.rfind(think_start) > text.rfind(think_end),
        notes=notes,
    )
