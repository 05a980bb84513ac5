"""What every result records about where it ran: versions, the GPU, and each side's model."""

from __future__ import annotations

import platform
from collections.abc import Mapping


def environment(sides: Mapping) -> dict:
    import torch
    import transformers

    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "gpu": gpu,
        "cpu_threads": torch.get_num_threads(),
        "models": {
            k: s.backend.describe() if s.backend else {"source": None, "error": s.load_error} for k, s in sides.items()
        },
    }
