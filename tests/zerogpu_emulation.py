"""A ZeroGPU Space on a machine without a GPU: the real `spaces` package in ZeroGPU mode (its torch
patching, the tensors packed to disk at launch, the forked GPU worker, the pickled queues, its
client of the device API), with two stand-ins only:

- `DeviceApi`: the scheduler's device API on 127.0.0.1 (/startup-report, /schedule, /allow,
  /release), with a daily quota in seconds, refusing a call that asks for more than is left
  as the real one does (HTTP 429 with what is left);
- the worker's physical GPU: where `spaces` initialises CUDA and moves the packed tensors onto
  it, they are read back into the worker's memory instead, and the few `torch.cuda` calls that
  would reach a driver answer as an idle device would.

Run as a program it starts app.py (its arguments) in that mode:
`python tests/zerogpu_emulation.py serve --tiny ...`, with SPACES_ZERO_GPU=true and
SPACES_ZERO_DEVICE_API_URL in the environment. What only a real Space shows: speed, VRAM, and
the scheduler's own aborts and queueing.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


class DeviceApi:
    """The device API a ZeroGPU Space's `spaces` client calls, on a loopback port."""

    def __init__(self, quota_s: int = 10_000):
        self.quota_s = quota_s  # what the (one, anonymous) visitor has left today
        self.fresh_workers = False  # True: every call gets a new worker (the scheduler says "not idle")
        self.open = threading.Event()  # cleared: each call waits to be scheduled, as when no GPU is free
        self.open.set()
        self.asked = threading.Semaphore(0)  # released once per /schedule that arrived
        self.calls: list[dict] = []  # each /schedule's parameters
        self.released: list[dict] = []
        self.lock = threading.Lock()
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self, status: int, body: dict | None = None):
                data = json.dumps(body).encode() if body is not None else b""
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                url = urlparse(self.path)
                params = {k: v[0] for k, v in parse_qs(url.query).items()}
                if url.path == "/schedule":
                    self._answer(*api.schedule(params))
                elif url.path == "/release":
                    with api.lock:
                        api.released.append(params)
                    self._answer(200, {})
                elif url.path in ("/startup-report", "/allow"):
                    self._answer(200, {})
                else:
                    self._answer(404, {})

            def do_GET(self):
                self._answer(200, 0) if self.path == "/queue-size" else self._answer(404, {})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def schedule(self, params: dict) -> tuple[int, dict]:
        self.asked.release()
        self.open.wait()
        with self.lock:
            self.calls.append(params)
            asked = int(params.get("durationSeconds", 60))
            if asked > self.quota_s:  # refused before it runs, as the real scheduler does
                return 429, {"left": self.quota_s, "wait": "PT1H"}
            self.quota_s -= asked
            return 200, {"idle": not self.fresh_workers, "nvidiaIndex": 0, "nvidiaUUID": "GPU-emulated", "allowToken": f"t{len(self.calls)}"}

    def close(self) -> None:
        self.server.shutdown()


def emulate_the_worker_gpu() -> None:
    """Replace only what needs the hardware: `spaces`' CUDA init and its move of the packed
    tensors onto the device (here: back into the worker's memory)."""
    import torch
    from spaces.zero import torch as zero_torch
    from spaces.zero.torch import patching

    def init(nvidia_uuid: str) -> None:
        # An idle device's answers to the calls a generation makes about memory and the device.
        torch.cuda.is_available = lambda: True
        torch.cuda.get_device_name = lambda *a, **k: "ZeroGPU emulation (CPU)"
        torch.cuda.reset_peak_memory_stats = lambda *a, **k: None
        torch.cuda.max_memory_allocated = lambda *a, **k: 0
        torch.cuda.empty_cache = lambda: None
        torch.cuda.synchronize = lambda *a, **k: None

    def move(callback=None) -> None:
        for fake, original in patching.cuda_aliases.items():
            if original is not None:
                fake.data = original
        for pack in patching.tensor_packs:
            _read_pack(pack)

    zero_torch.init, zero_torch.move = init, move


def _read_pack(pack) -> None:
    """The tensors `spaces` packed to disk at launch, read back as `pack_to_cuda` reads them
    (batches of small tensors, then the big ones, each at its page-aligned size)."""
    import torch

    with open(pack.path(), "rb") as f:
        for tensor, size, aligned in [t for batch in pack.batches for t in batch] + list(pack.big_tensors):
            data = bytearray(f.read(aligned)[:size])
            storage = torch.frombuffer(data, dtype=torch.uint8).untyped_storage() if size else torch.UntypedStorage(0)
            real = torch.tensor([], dtype=tensor.dtype).set_(storage, 0, tensor.shape, tensor.stride())
            for fake in pack.fakes[tensor]:
                fake.data = real


if __name__ == "__main__":
    import runpy
    import sys
    from pathlib import Path

    import spaces  # noqa: F401  # ZeroGPU mode: patches torch now, in this (the server's) process

    emulate_the_worker_gpu()
    root = Path(__file__).resolve().parent.parent
    sys.path.insert(0, str(root))
    sys.argv = [str(root / "app.py"), *sys.argv[1:]]
    runpy.run_path(str(root / "app.py"), run_name="__main__")
