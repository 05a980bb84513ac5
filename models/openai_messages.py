"""A side's inputs as the chat messages OpenAI-compatible servers take (vLLM, SGLang, Ollama, transformers serve).

Text parts, images as PNG data URLs in `image_url` parts, video as a data URL in a `video_url`
part, audio as 16 kHz WAV in an `input_audio` part. The system prompt is a plain string.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path

from modalities.audio import SAMPLE_RATE
from modalities.routing import RoutedInputs

from .backend import Turn

VIDEO_TYPES = {".mp4": "video/mp4", ".webm": "video/webm", ".mov": "video/quicktime", ".mkv": "video/x-matroska"}


def _png_data_url(image) -> str:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _wav_base64(waveform) -> str:
    import soundfile

    buffer = io.BytesIO()
    soundfile.write(buffer, waveform, SAMPLE_RATE, format="WAV", subtype="PCM_16")
    return base64.b64encode(buffer.getvalue()).decode()


def _video_data_url(path: Path) -> str:
    mime = VIDEO_TYPES.get(path.suffix.lower(), "video/mp4")
    return f"data:{mime};base64," + base64.b64encode(path.read_bytes()).decode()


def user_content(inputs: RoutedInputs) -> list[dict]:
    content: list[dict] = [{"type": "image_url", "image_url": {"url": _png_data_url(i.pixels())}} for i in inputs.images]
    if inputs.video:
        content.append({"type": "video_url", "video_url": {"url": _video_data_url(inputs.video.path)}})
    if inputs.audio:
        content.append({"type": "input_audio", "input_audio": {"data": _wav_base64(inputs.audio.samples()), "format": "wav"}})
    if inputs.prompt:
        content.append({"type": "text", "text": inputs.prompt})
    return content


def build_messages(inputs: RoutedInputs, history: list[Turn]) -> list[dict]:
    messages = [{"role": "system", "content": inputs.system}] if inputs.system else []
    for turn in history:
        messages += [{"role": "user", "content": user_content(turn.inputs)}, {"role": "assistant", "content": turn.answer}]
    messages.append({"role": "user", "content": user_content(inputs)})
    return messages
