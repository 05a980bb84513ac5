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
import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from modalities.errors import clean_text
from modalities.routing import Capabilities

from .backend import (
    ANSWER, THINKING, UPDATE_INTERVAL_S, BackendError, Drafting, Event, Finished, InputTokens, Job, Note, Started, Tokens,
)
from .families import Family
from .openai_messages import build_messages
from .sampling import Generation, asked, sent
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
        min_audio_s=family.min_audio_s if "audio" in accepts else None,
        max_aspect_ratio=family.max_aspect_ratio,
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

    def _params(self, job: Job, generation: Generation) -> dict:
        """The request: what `generation` (models.sampling.sent) says is sent, and nothing else."""
        optional = {"presence_penalty": generation.presence_penalty} if generation.presence_penalty else {}
        return dict(
            model=self.served_model,
            messages=build_messages(job.routed, job.history),
            stream=True,
            stream_options={"include_usage": True},
            max_tokens=generation.max_new_tokens,
            temperature=generation.temperature,
            top_p=generation.top_p,
            seed=generation.seed,
            **optional,
            extra_body={"chat_template_kwargs": {"enable_thinking": job.settings.thinking}},
        )

    def run(self, job: Job) -> Iterator[Event]:
        import openai

        timeout_s = job.timeout_s or DEFAULT_TIMEOUT_S
        generation = sent(asked(job.settings, self.family))
        params = self._params(job, generation)
        splitter = MarkerSplitter(self.family)
        reasoning, marked, answer, usage, arrived = "", "", "", None, 0
        stopped = timed_out = False
        # 1. The request: its inputs are encoded above, so the model's time starts here.
        t0 = job.clock()
        try:
            stream = self._client(timeout_s).chat.completions.create(**params)
            with stream:
                # 2. A thread reads the stream and stamps each chunk as it arrives, from before
                # the first yield, so the time the reader (the page) takes never delays a stamp.
                chunks = _StampedChunks(stream, job.clock)
                yield Started(
                    t0, InputTokens(total=None), "remote", "server", includes_network=True, generation=generation
                )
                yield Note("timed on the client: timings include the network and the server's queue")
                while True:
                    ended = chunks.done.wait(UPDATE_INTERVAL_S)
                    times, parts = [], []
                    for now, chunk in chunks.take():
                        usage = chunk.usage or usage
                        delta = chunk.choices[0].delta if chunk.choices else None
                        thought = delta and (getattr(delta, "reasoning_content", None) or getattr(delta, "reasoning", None))
                        content = delta.content if delta else None
                        # A server's text may hold lone surrogates (JSON can): U+FFFD, as for input.
                        thought, content = (clean_text(x) if isinstance(x, str) else None for x in (thought, content))
                        if thought or content:
                            reasoning += thought or ""
                            marked_before = marked
                            splitter.add(content or "")
                            answer, marked = splitter.split()
                            times.append(now)
                            parts.append(THINKING if thought or marked != marked_before else ANSWER)
                    arrived += len(times)
                    if times:
                        yield Tokens(tuple(times), tuple(parts), answer, (reasoning + marked).strip())
                    if ended:
                        if chunks.error is not None:
                            raise chunks.error
                        end = chunks.end
                        break
                    # 3. Stop and the whole-stream limit; leaving `with` closes the connection.
                    stopped = job.stop.is_set()
                    timed_out = not stopped and job.clock() - t0 > timeout_s
                    if stopped or timed_out:
                        end = job.clock()
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
        # 4. The counts: the server's own where it sent them; else the engine counts the chunks.
        output = thinking_tokens = None
        if usage and usage.completion_tokens is not None:
            output = usage.completion_tokens
            details = getattr(usage, "completion_tokens_details", None)
            thinking_tokens = getattr(details, "reasoning_tokens", None)
        else:
            yield Note("the server sent no usage: token counts are streamed chunks")
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
            drafting=SERVER_DRAFTING if job.settings.draft else None,
        )


# A server drafts (or not) as it was started; the OpenAI API says neither which drafter nor how
# much of its drafting was accepted (vLLM and SGLang log it on their side).
SERVER_DRAFTING = Drafting(
    drafter="the server's own, if it was started with one",
    reason="a server's API does not say which drafter ran or how many drafted tokens it accepted",
)


class _StampedChunks:
    """Iterates a stream in its own thread, stamping each chunk with the job's clock on arrival."""

    def __init__(self, stream, clock):
        self._queue: queue.Queue = queue.Queue()
        self.done = threading.Event()
        self.error: BaseException | None = None
        self.end: float | None = None
        threading.Thread(target=self._read, args=(stream, clock), name="remote-stream", daemon=True).start()

    def _read(self, stream, clock) -> None:
        try:
            for chunk in stream:
                self._queue.put((clock(), chunk))
        except BaseException as e:  # raised in the reading generator, which knows the server
            self.error = e
        finally:
            self.end = clock()
            self.done.set()

    def take(self) -> list:
        """Every (arrival, chunk) so far."""
        items = []
        while not self._queue.empty():
            items.append(self._queue.get_nowait())
        return items


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
