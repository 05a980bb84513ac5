"""Loading a checkpoint (hub id or local folder) with transformers' own classes, and reading what it accepts.

The family comes from the config's `model_type`; capabilities come from the config and the
processor (an audio tower means `audio_config` is set and the processor has a feature
extractor). `trust_remote_code` is never set: both families are native to transformers.
bf16 on a GPU, float32 on the CPU (bf16 matmuls are slow on most CPUs).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from modalities.routing import Capabilities

from .families import Family, family_of_model_type
from .tiny import MARKER


class ModelLoadError(RuntimeError):
    """A checkpoint that could not be loaded: `reason` says why; the message adds, for whoever
    started the program, what to try (`hint`), which a web visitor is never shown."""

    def __init__(self, reason: str, hint: str = ""):
        super().__init__(reason + hint)
        self.reason = reason


@dataclass
class LoadedModel:
    source: str  # hub id or folder, as given
    family: Family
    model: object  # a transformers PreTrainedModel
    processor: object  # its ProcessorMixin
    capabilities: Capabilities
    device: str
    dtype: str
    revision: str | None
    is_replica: bool = False
    fast: bool = False  # static cache + compiled decoding (models.fastpath)
    compile_s: float | None = None  # time the fast path's warm-up took to compile
    fast_error: str | None = None  # why the fast path was asked for but fell back to eager, or compiled nothing
    # The family's own drafter, loaded the first time a job asks for it (models.drafting).
    drafter: object | None = None
    drafter_source: str | None = None
    drafter_error: str | None = None

    @property
    def parameters(self) -> int:
        return sum(p.numel() for p in self.model.parameters())

    @property
    def footprint_mb(self) -> float:
        return self.model.get_memory_footprint() / 2**20


def hub_reachable(timeout_s: float = 3.0) -> bool:
    """Whether the Hub answers at all; without this check an offline start waits through its retries."""
    import socket
    from urllib.parse import urlparse

    from huggingface_hub import constants

    if constants.HF_HUB_OFFLINE:
        return False
    url = urlparse(constants.ENDPOINT)
    try:
        socket.create_connection((url.hostname, url.port or 443), timeout=timeout_s).close()
        return True
    except OSError:
        return False


def pick_device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def read_capabilities(config, processor, family: Family) -> Capabilities:
    vision = getattr(config, "vision_config", None) is not None
    audio = getattr(config, "audio_config", None) is not None and getattr(processor, "feature_extractor", None)
    max_audio_s = min_audio_s = None
    if audio:
        # The processor caps audio at audio_seq_length soft tokens of audio_ms_per_token each (30 s on
        # Gemma 4); one token (40 ms) is the least that holds anything.
        max_audio_s = processor.audio_seq_length * processor.audio_ms_per_token / 1000
        min_audio_s = processor.audio_ms_per_token / 1000
    text_config = config.get_text_config() if hasattr(config, "get_text_config") else config
    return Capabilities(
        label=family.label,
        image=vision and getattr(processor, "image_processor", None) is not None,
        video=vision and getattr(processor, "video_processor", None) is not None,
        audio=bool(audio),
        max_audio_s=max_audio_s,
        min_audio_s=min_audio_s,
        max_aspect_ratio=family.max_aspect_ratio,
        context_tokens=getattr(text_config, "max_position_embeddings", None),
    )


# Room beyond the weights for activations, the KV cache and the allocator.
FIT_MARGIN = 1.15


def estimate_bytes(source: str, bytes_per_param: int) -> int | None:
    """Weights in memory: from a local folder's safetensors index or files, else the registry."""
    from .registry import checkpoint

    folder = Path(source)
    if folder.is_dir():
        index = folder / "model.safetensors.index.json"
        if index.exists():
            import json

            stored = json.loads(index.read_text()).get("metadata", {}).get("total_size")
        else:
            stored = sum(f.stat().st_size for f in folder.glob("*.safetensors")) or None
        # Stored as bf16 (2 bytes) in released checkpoints; the replicas are float32 already.
        return None if stored is None else int(stored * max(1, bytes_per_param / 2))
    known = checkpoint(source)
    return int(known.params_b * 1e9 * bytes_per_param) if known else None


def free_bytes(device: str) -> int:
    import psutil
    import torch

    if device.startswith("cuda"):
        return torch.cuda.mem_get_info(torch.device(device))[0]
    return psutil.virtual_memory().available


def check_memory(source: str, family: Family, device: str, bytes_per_param: int, free: int | None = None) -> None:
    """Refuse up front a checkpoint whose weights cannot fit, with the estimate and what would."""
    from .registry import CHECKPOINTS

    need = estimate_bytes(source, bytes_per_param)
    free = free_bytes(device) if free is None else free
    if need is None or need * FIT_MARGIN <= free:
        return
    fitting = [
        c.source for c in CHECKPOINTS if c.family == family.key and c.params_b * 1e9 * bytes_per_param * FIT_MARGIN <= free
    ]
    raise ModelLoadError(
        f"'{source}' needs about {need / 2**30:.1f} GiB for its weights, but only {free / 2**30:.1f} GiB "
        f"is free on {device}; " + (f"would fit: {', '.join(fitting)}" if fitting else f"no {family.label} checkpoint would fit")
    )


def open_config(source: str, expected_family: str | None = None):
    """A checkpoint's config and family, and how to read its files; ModelLoadError if it is not there
    or not one of the two families. Reads only the config: cheap enough to ask before unloading anything."""
    from transformers import AutoConfig

    # Offline, a hub id can still load from the local cache, and fails at once if it is not there.
    local = {"local_files_only": True} if not Path(source).exists() and not hub_reachable() else {}
    try:
        config = AutoConfig.from_pretrained(source, **local)
    except Exception as e:  # OSError offline, ValueError for an unknown model type, ...
        hint = "" if Path(source).exists() else " (no network? run with --tiny for the offline replicas, or pass a local folder)"
        raise ModelLoadError(f"could not load '{source}': {str(e).splitlines()[0][:200]}", hint) from e
    family = family_of_model_type(config.model_type)
    if family is None:
        raise ModelLoadError(f"'{source}' is a {config.model_type} model, neither Gemma 4 nor Qwen 3.5")
    if expected_family and family.key != expected_family:
        raise ModelLoadError(f"'{source}' is a {family.label} model, not the expected {expected_family} side")
    return config, family, local


def load_model(
    source: str, expected_family: str | None = None, device: str | None = None, fast: bool = False
) -> LoadedModel:
    """Load processor and model from a hub id or folder; raise ModelLoadError with a clear reason."""
    import torch
    from transformers import AutoModelForImageTextToText, AutoProcessor

    device = device or pick_device()
    config, family, local = open_config(source, expected_family)
    dtype = torch.bfloat16 if device.startswith("cuda") else torch.float32
    check_memory(source, family, device, bytes_per_param=2 if dtype == torch.bfloat16 else 4)
    try:
        processor = AutoProcessor.from_pretrained(source, **local)
        model = AutoModelForImageTextToText.from_pretrained(source, dtype=dtype, device_map=device, **local)
    except Exception as e:
        raise ModelLoadError(f"could not load '{source}': {str(e).splitlines()[0][:200]}") from e
    model.eval()
    video = getattr(processor, "video_processor", None)
    if video is not None and hasattr(video, "cap_pixels_per_frame") and video.cap_pixels_per_frame is None:
        # Qwen 3.5's reference video pipeline (qwen-vl-utils) caps the pixels per frame; transformers
        # only does so when asked, and warns on every call until it is.
        video.cap_pixels_per_frame = True
    return LoadedModel(
        source=source,
        family=family,
        model=model,
        processor=processor,
        capabilities=read_capabilities(config, processor, family),
        device=device,
        dtype=str(dtype).removeprefix("torch."),
        revision=getattr(config, "_commit_hash", None),
        is_replica=(Path(source) / MARKER).exists(),
        fast=fast,
    )
