"""The remote backend: a model served by an OpenAI-compatible server (vLLM, SGLang, Ollama, transformers serve).

Inputs go as the servers expect them (models.openai_messages). Arrival times are stamped here,
on the client, with the job's clock, so they include the network (`Started.includes_network`);
token counts are the server's own (`usage`) when it sends them, else the engine counts the
content chunks, and a note says which. Thinking comes from the server's reasoning field where
it separates it, else from each family's markers in the text (models.thinking.MarkerSplitter).
The per-side timeout bounds the connection, the wait for each byte and the whole stream.
Every failure (refused connection, timeout, an HTTP error, a stream cut off, a model the server
does not serve) is raised as a BackendError naming the server.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from modalities.routing import Capabilities

from .backend import ANSWER, THINKING, BackendError, Event, Finished, InputTokens, Job, Note, Started, Tokens
from .families import Family
from .openai_messages import build_messages
from .thinking import MarkerSplitter
from .tiny import MARKER

API_KEY_ENV = "OPENAI_API_KEY"
# Without a per-side timeout (the library's callers always give one), a server gets this long.
DEFAULT_TIMEOUT_S = 300.0


def default_capabilities(family: Family, model: str, accepts: list[str] | None) -> Capabilities:
    """What a served model takes: as the user says (`--gemma-accepts`), else the family's usual inputs.

    The OpenAI API does not say which modalities a served model takes. Without `accepts`, a
    model hears audio only when its name says it is one of its family's checkpoints that do
    (models.families: `hearing_names`).
    """
    if accepts is None:
        name = model.lower()
        accepts = ["image", "video"] + (["audio"] if any(n in name for n in family.hearing_names) else [])
    return Capabilities(
        label=family.label,
        image="image" in accepts,
        video="video" in accepts,
        audio="audio" in accepts,
        max_audio_s=family.max_audio_s,
    )


@dataclass
class RemoteBackend:
    url: str
    served_model: str  # the model name as the server serves it
    family: Family
    capabilities: Capabilities
    api_key_env: str = API_KEY_ENV
    is_replica: bool = False

    @property
    def source(self) -> str:
        return f"{self.served_model} @ {self.url}"

    def describe(self) -> dict:
        # The API key is never part of what is described, logged or recorded.
        return {
            "source": self.served_model,
            "family": self.family.label,
            "backend": "remote",
            "endpoint": self.url,
            "accepts": self.capabilities.modalities,
            "replica": self.is_replica,
        }

    def _client(self, timeout_s: float):
        import openai

        return openai.OpenAI(
            base_url=self.url, api_key=os.environ.get(self.api_key_env) or "none", timeout=timeout_s, max_retries=0
        )

    def _params(self, job: Job) -> dict:
        settings = job.settings
        return dict(
            model=self.served_model,
            messages=build_messages(job.routed, job.history),
            stream=True,
            stream_options={"include_usage": True},
            max_tokens=settings.max_new_tokens,
            temperature=settings.temperature,
            top_p=settings.top_p if settings.temperature > 0 else 1.0,
            seed=settings.seed,
            extra_body={"chat_template_kwargs": {"enable_thinking": settings.thinking}},
        )

    def run(self, job: Job) -> Iterator[Event]:
        import openai

        timeout_s = job.timeout_s or DEFAULT_TIMEOUT_S
        params = self._params(job)
        splitter = MarkerSplitter(self.family)
        reasoning, usage, arrived = "", None, 0
        stopped = timed_out = False
        yield Note("timed on the client: timings include the network and the server's queue")
        # 1. The request: its inputs are encoded above, so the model's time starts here.
        t0 = job.clock()
        yield Started(t0, InputTokens(total=None), "remote", "server", includes_network=True)
        try:
            stream = self._client(timeout_s).chat.completions.create(**params)
            with stream:
                for chunk in stream:
                    # 2. Each chunk is stamped on arrival; usage comes in the last one.
                    now = job.clock()
                    usage = chunk.usage or usage
                    delta = chunk.choices[0].delta if chunk.choices else None
                    thought = delta and (getattr(delta, "reasoning_content", None) or getattr(delta, "reasoning", None))
                    content = delta.content if delta else None
                    if thought or content:
                        reasoning += thought or ""
                        marked_before = splitter.split()[1]
                        splitter.add(content or "")
                        answer, marked = splitter.split()
                        part = THINKING if thought or marked != marked_before else ANSWER
                        arrived += 1
                        yield Tokens((now,), (part,), answer, (reasoning + marked).strip())
                    # 3. Stop and the whole-stream limit are checked at every chunk.
                    if job.stop.is_set():
                        stopped = True
                        break
                    if now - t0 > timeout_s:
                        timed_out = True
                        break
        except openai.APITimeoutError:
            raise BackendError(f"{self.family.label} server at {self.url}: timed out after {timeout_s:.0f} s") from None
        except openai.APIConnectionError as e:
            cause = "the stream was cut off" if arrived else "could not connect"
            raise BackendError(f"{self.family.label} server at {self.url}: {cause} ({_reason(e)})") from None
        except openai.APIStatusError as e:
            raise BackendError(
                f"{self.family.label} server at {self.url} answered HTTP {e.status_code} for model "
                f"'{self.served_model}': {_reason(e)}"
            ) from None
        end = job.clock()
        # 4. The counts: the server's own where it sent them; else the engine counts the chunks.
        output = thinking_tokens = None
        if usage and usage.completion_tokens is not None:
            output = usage.completion_tokens
            details = getattr(usage, "completion_tokens_details", None)
            thinking_tokens = getattr(details, "reasoning_tokens", None)
        else:
            yield Note("the server sent no usage: token counts are streamed chunks")
        answer, marked = splitter.split()
        thinking = (reasoning + marked).strip()
        if not thinking:
            thinking_tokens = 0
        elif output is not None and not thinking_tokens:
            thinking_tokens = None  # a server that counts no reasoning tokens has not counted them
            yield Note("thinking tokens estimated from the share of thinking chunks (the server did not count them)")
        prompt_tokens = usage.prompt_tokens if usage else None
        yield Finished(
            at=end, text=answer, thinking=thinking, output_tokens=output, thinking_tokens=thinking_tokens,
            stopped=stopped, timed_out=timed_out, memory_scope="server",
            input_tokens=InputTokens(total=prompt_tokens) if prompt_tokens is not None else None,
        )


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


def remote_backend(family: Family, url: str, model: str, accepts: list[str] | None, api_key_env: str = API_KEY_ENV):
    """The backend of `model` served at `url`; what it takes is read from its folder where it is one."""
    capabilities = default_capabilities(family, model, accepts)
    if accepts is None and Path(model).is_dir():
        # The server serves a local folder: read what it takes from the checkpoint itself.
        from transformers import AutoConfig, AutoProcessor

        from .loading import read_capabilities

        capabilities = read_capabilities(AutoConfig.from_pretrained(model), AutoProcessor.from_pretrained(model), family)
    return RemoteBackend(
        url=url.rstrip("/"),
        served_model=model,
        family=family,
        capabilities=capabilities,
        api_key_env=api_key_env,
        is_replica=(Path(model) / MARKER).exists(),
    )
