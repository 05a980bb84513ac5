"""The local backend: a checkpoint loaded in this process, generating with transformers."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from dataclasses import dataclass

from .backend import BackendError, Event, Job, Note
from .fastpath import linear_attention_kernels
from .generation import generate_events
from .loading import LoadedModel
from .prompting import prepare


@dataclass
class LocalBackend:
    loaded: LoadedModel

    @property
    def source(self) -> str:
        return self.loaded.source

    @property
    def family(self):
        return self.loaded.family

    @property
    def capabilities(self):
        return self.loaded.capabilities

    @property
    def is_replica(self) -> bool:
        return self.loaded.is_replica

    def describe(self) -> dict:
        m = self.loaded
        return {
            "source": m.source,
            "family": m.family.label,
            "backend": "local",
            "revision": m.revision,
            "device": m.device,
            "dtype": m.dtype,
            "parameters": m.parameters,
            "replica": m.is_replica,
            "fast_path": m.fast,
            **({"fast_path_error": m.fast_error} if m.fast_error else {}),
            "compile_s": m.compile_s,
            "attention": getattr(m.model.config, "_attn_implementation", None),
            **({"linear_attention_kernels": linear_attention_kernels()} if m.family.linear_attention else {}),
        }

    def run(self, job: Job) -> Iterator[Event]:
        import torch

        prepared = prepare(self.loaded, job.routed, job.settings.thinking, job.history)
        self._check_context(prepared.input_tokens.total, job.settings.max_new_tokens)
        try:
            events = generate_events(self.loaded, prepared, job)
            yield next(events)  # Started: nothing is yielded before the model call (models.backend)
            for note in prepared.notes:
                yield Note(note)
            yield from events
        except torch.OutOfMemoryError:
            self._release()
            raise BackendError(
                f"{self.family.label}: out of GPU memory during generation "
                "(try fewer frames, a smaller image or fewer new tokens)"
            ) from None
        except Exception:
            self._release()  # whatever failed, the next request starts with the memory freed
            raise

    def _check_context(self, prompt_tokens: int, max_new_tokens: int) -> None:
        context = self.capabilities.context_tokens
        if context and prompt_tokens + max_new_tokens > context:
            raise BackendError(
                f"prompt: {prompt_tokens} input tokens plus {max_new_tokens} new tokens exceed "
                f"{self.family.label}'s context of {context} tokens"
            )

    def _release(self) -> None:
        import torch

        gc.collect()
        if self.loaded.device.startswith("cuda"):
            torch.cuda.empty_cache()
