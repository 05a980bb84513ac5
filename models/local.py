"""The local backend: a checkpoint loaded in this process, generating with transformers."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from dataclasses import dataclass

from modalities.errors import InputError
from modalities.request import GenerationSettings
from modalities.routing import RoutedInputs

from .fastpath import linear_attention_kernels
from .generation import Snapshot, stream
from .loading import LoadedModel
from .prompting import Turn, prepare


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
            "id": m.source,
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
            **({"linear_attention_kernels": linear_attention_kernels()} if m.family.key == "qwen" else {}),
        }

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
        prepared = prepare(self.loaded, routed, settings.thinking, history)
        notes += prepared.notes
        _check_context(self.loaded, prepared.input_tokens, settings.max_new_tokens)
        yield from stream(self.loaded, prepared, settings, stop_event, timeout_s, contended=contended)

    def release(self) -> None:
        import torch

        gc.collect()
        if self.loaded.device.startswith("cuda"):
            torch.cuda.empty_cache()


def _check_context(loaded: LoadedModel, input_tokens: dict[str, int], max_new_tokens: int) -> None:
    context = loaded.capabilities.context_tokens
    total = sum(input_tokens.values())
    if context and total + max_new_tokens > context:
        raise InputError(
            "prompt",
            f"{total} input tokens plus {max_new_tokens} new tokens exceed "
            f"{loaded.family.label}'s context of {context} tokens",
        )
