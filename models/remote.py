"""The remote backend: a model served by an OpenAI-compatible server (vLLM, SGLang, Ollama, transformers serve).

Inputs go as the servers expect them: text parts, images as PNG data URLs in `image_url` parts,
video as a data URL in a `video_url` part, audio as 16 kHz WAV in an `input_audio` part.
Timing is measured here, on the client, from the streamed chunks, so it includes the network
(`Metrics.includes_network`); token counts are the server's own (`usage`) when it sends them,
else the number of content chunks, and the result says which. Thinking comes from the
server's reasoning field where it separates it, else from each family's markers in the text.
Every failure (refused connection, timeout, an HTTP error, a stream cut off, a model the server
does not serve) is raised with a message naming the server, and becomes this side's error.
"""

from __future__ import annotations

import base64
import io
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from modalities.audio import SAMPLE_RATE
from modalities.request import GenerationSettings
from modalities.routing import Capabilities, RoutedInputs

from .families import Family
from .generation import Snapshot
from .prompting import Turn
from .results import Metrics
from .tiny import MARKER

API_KEY_ENV = "OPENAI_API_KEY"
DEFAULT_TIMEOUT_S = 300.0
VIDEO_TYPES = {".mp4": "video/mp4", ".webm": "video/webm", ".mov": "video/quicktime", ".mkv": "video/x-matroska"}


class RemoteError(RuntimeError):
    pass


def default_capabilities(family: Family, model: str, accepts: list[str] | None) -> Capabilities:
    """What a served model takes: as the user says (`--gemma-accepts`), else the family's usual inputs.

    The OpenAI API does not say which modalities a served model takes. Without `accepts`,
    Gemma 4 is assumed to hear audio only when its name says E2B or E4B (the checkpoints with
    an audio tower); Qwen 3.5 never.
    """
    if accepts is None:
        name = model.lower()
        accepts = ["image", "video"] + (["audio"] if family.key == "gemma" and ("e2b" in name or "e4b" in name) else [])
    return Capabilities(
        label=family.label,
        image="image" in accepts,
        video="video" in accepts,
        audio="audio" in accepts,
        max_audio_s=30.0 if family.key == "gemma" else None,
    )


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
    content: list[dict] = [{"type": "image_url", "image_url": {"url": _png_data_url(i.image)}} for i in inputs.images]
    if inputs.video:
        content.append({"type": "video_url", "video_url": {"url": _video_data_url(inputs.video.path)}})
    if inputs.audio:
        content.append({"type": "input_audio", "input_audio": {"data": _wav_base64(inputs.audio.waveform), "format": "wav"}})
    if inputs.prompt:
        content.append({"type": "text", "text": inputs.prompt})
    return content


def build_messages(inputs: RoutedInputs, history: list[Turn]) -> list[dict]:
    messages = [{"role": "system", "content": inputs.system}] if inputs.system else []
    for turn in history:
        messages += [{"role": "user", "content": user_content(turn.inputs)}, {"role": "assistant", "content": turn.answer}]
    messages.append({"role": "user", "content": user_content(inputs)})
    return messages


class MarkerSplitter:
    """Splits streamed text into thinking and answer by the family's markers (when the server does not)."""

    def __init__(self, family: Family):
        self.family = family
        self.raw = ""

    def add(self, text: str) -> None:
        self.raw += text

    def split(self) -> tuple[str, str]:
        start, end = self.family.think_start, self.family.think_end
        raw = self.raw
        if end in raw and start not in raw.split(end, 1)[0]:
            # Templates that open the think block in the prompt stream only its end marker.
            thinking, answer = raw.split(end, 1)
            return answer.strip(), thinking.strip()
        if start not in raw:
            return raw.lstrip(), ""
        before, rest = raw.split(start, 1)
        thinking, _, after = rest.partition(end)
        thinking = thinking.strip()
        if self.family.thinking_label and thinking.startswith(self.family.thinking_label):
            thinking = thinking[len(self.family.thinking_label) :].lstrip()
        return (before + after).strip(), thinking


@dataclass
class RemoteBackend:
    url: str
    model: str
    family: Family
    capabilities: Capabilities
    api_key_env: str = API_KEY_ENV
    timeout_s: float = DEFAULT_TIMEOUT_S
    is_replica: bool = False

    @property
    def source(self) -> str:
        return f"{self.model} @ {self.url}"

    def describe(self) -> dict:
        # The API key is never part of what is described, logged or recorded.
        return {
            "id": self.model,
            "family": self.family.label,
            "backend": "remote",
            "endpoint": self.url,
            "accepts": self.capabilities.modalities,
            "replica": self.is_replica,
        }

    def _client(self):
        import openai

        return openai.OpenAI(
            base_url=self.url, api_key=os.environ.get(self.api_key_env) or "none", timeout=self.timeout_s, max_retries=0
        )

    def release(self) -> None:
        pass

    def run(
        self,
        routed: RoutedInputs,
        settings: GenerationSettings,
        history: list[Turn],
        stop_event: threading.Event,
        timeout_s: float | None,
        contended: bool,
        notes: list[str],
    ) -> Iterator[Snapshot]:
        import openai

        start = time.perf_counter()
        messages = build_messages(routed, history)
        preprocess_s = time.perf_counter() - start
        params = dict(
            model=self.model,
            messages=messages,
            stream=True,
            stream_options={"include_usage": True},
            max_tokens=settings.max_new_tokens,
            temperature=settings.temperature,
            top_p=settings.top_p if settings.temperature > 0 else 1.0,
            seed=settings.seed,
            extra_body={"chat_template_kwargs": {"enable_thinking": settings.thinking}},
        )
        splitter = MarkerSplitter(self.family)
        reasoning = ""
        times: list[float] = []
        first_answer = None
        usage = None
        stopped = False
        t0 = time.perf_counter()
        try:
            stream = self._client().chat.completions.create(**params)
            with stream:
                for chunk in stream:
                    now = time.perf_counter() - t0
                    if chunk.usage:
                        usage = chunk.usage
                    if not chunk.choices:
                        continue
                    delta = chunk.choices[0].delta
                    thought = getattr(delta, "reasoning_content", None) or getattr(delta, "reasoning", None)
                    if thought:
                        reasoning += thought
                    if delta.content:
                        splitter.add(delta.content)
                    if thought or delta.content:
                        times.append(now)
                        answer, marked = splitter.split()
                        if answer and first_answer is None:
                            first_answer = now
                        yield Snapshot(answer, (reasoning + marked).strip(), times)
                    if stop_event.is_set():
                        stopped = True
                        break
        except openai.APITimeoutError:
            raise RemoteError(f"{self.family.label} server at {self.url}: timed out after {self.timeout_s:.0f} s") from None
        except openai.APIConnectionError as e:
            cause = "the stream was cut off" if times else "could not connect"
            raise RemoteError(f"{self.family.label} server at {self.url}: {cause} ({_reason(e)})") from None
        except openai.APIStatusError as e:
            raise RemoteError(
                f"{self.family.label} server at {self.url} answered HTTP {e.status_code} for model "
                f"'{self.model}': {_reason(e)}"
            ) from None
        end = time.perf_counter() - t0
        answer, marked = splitter.split()
        thinking = (reasoning + marked).strip()
        notes.append("timed on the client: timings include the network and the server's queue")
        if usage and usage.completion_tokens is not None:
            output = usage.completion_tokens
            details = getattr(usage, "completion_tokens_details", None)
            thinking_tokens = getattr(details, "reasoning_tokens", None) or 0
        else:
            output, thinking_tokens = len(times), 0
            notes.append("the server sent no usage: token counts are streamed chunks")
        if thinking and not thinking_tokens:
            share = len(thinking) / max(len(thinking) + len(answer), 1)
            thinking_tokens = round(output * share)
            notes.append("thinking tokens estimated from the share of thinking text (the server did not count them)")
        decode = (output - 1) / (times[-1] - times[0]) if len(times) >= 2 and times[-1] > times[0] and output > 1 else None
        metrics = Metrics(
            preprocess_s=preprocess_s,
            ttft_s=times[0] if times else None,
            ttft_answer_s=first_answer,
            decode_tok_s=decode,
            total_s=preprocess_s + end,
            output_tokens=output,
            thinking_tokens=thinking_tokens,
            answer_tokens=output - thinking_tokens,
            input_tokens={"text": None, "image": None, "video": None, "audio": None,
                          "total": usage.prompt_tokens if usage else None},
            device="remote",
            dtype="server",
            peak_memory_mb=None,
            memory_scope="server",
            contended=contended,
            stopped=stopped,
            includes_network=True,
        )
        yield Snapshot(answer, thinking, times, metrics)


def _reason(e: Exception) -> str:
    body = getattr(e, "body", None)
    if isinstance(body, dict):
        message = body.get("message") or body.get("error") or body.get("detail")
        if isinstance(message, dict):
            message = message.get("message")
        if message:
            return str(message)[:200]
    cause = e.__cause__ or e.__context__
    text = str(cause or e).splitlines()[0] if str(cause or e) else type(e).__name__
    return text[:200]


def remote_side(key: str, url: str, model: str | None, accepts: list[str] | None, api_key_env: str = API_KEY_ENV):
    """A Side served from `url`, or one carrying the reason it cannot be."""
    from .comparison import Side
    from .families import FAMILIES

    if not model:
        return Side(key, load_error=f"--{key}-endpoint needs --{key} to name the model as the server serves it")
    family = FAMILIES[key]
    capabilities = default_capabilities(family, model, accepts)
    if accepts is None and Path(model).is_dir():
        # The server serves a local folder: read what it takes from the checkpoint itself.
        from transformers import AutoConfig, AutoProcessor

        from .loading import read_capabilities

        capabilities = read_capabilities(AutoConfig.from_pretrained(model), AutoProcessor.from_pretrained(model), family)
    backend = RemoteBackend(
        url=url.rstrip("/"),
        model=model,
        family=family,
        capabilities=capabilities,
        api_key_env=api_key_env,
        is_replica=(Path(model) / MARKER).exists(),
    )
    return Side(key, backend)
