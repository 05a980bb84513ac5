"""Starts the real app (`python app.py --tiny`, or a program that runs it, such as
tests/zerogpu_emulation.py) in its own process on a free loopback port."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AppServer:
    def __init__(self, *args: str, log: Path, tiny: bool = True, env: dict | None = None, cwd: Path | None = None,
                 program: Path = ROOT / "app.py"):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self._log = open(log, "w")
        # Votes go beside the log (never into the checkout's arena/) unless a test says otherwise, and
        # are taken as soon as both answers are done, however short the replicas' random answers
        # (a few in a hundred are under 3 tokens), from every test's one address: the policy's
        # rules are tested in test_preference.
        self.arena = log.parent / "arena"
        env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "PYTHONUNBUFFERED": "1",
               "COMPARE_ARENA": str(self.arena), "COMPARE_VOTE_MIN_READ_S": "0", "COMPARE_VOTE_MIN_TOKENS": "0",
               "COMPARE_VOTES_PER_HOUR": "1000",
               **(env or {})}
        self.proc = subprocess.Popen(
            [sys.executable, str(program), *(["--tiny"] if tiny else []), "--port", str(self.port), *args],
            cwd=cwd or ROOT, stdout=self._log, stderr=subprocess.STDOUT, env=env,
            start_new_session=True,  # its own process group: stop() ends whatever it started too
        )
        self.log_path = log

    def wait_ready(self, timeout: float = 180) -> "AppServer":
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"app exited early:\n{self.log_path.read_text()[-3000:]}")
            if re.search(r"Running on local URL", self.log_path.read_text()):
                return self
            time.sleep(0.5)
        raise TimeoutError(f"app not up in {timeout} s:\n{self.log_path.read_text()[-3000:]}")

    def stop(self) -> None:
        """End the app and every process it started (a ZeroGPU worker, forked from it, would
        otherwise outlive it)."""
        import signal

        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            pass
        except ProcessLookupError:
            pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # what is left of the group
        except ProcessLookupError:
            pass
        self.proc.wait()
        self._log.close()


def call_compare(
    client, prompt: str, images=(), video=None, audio=None, *, system: str = "", max_new_tokens: int = 8,
    temperature: float = 0.0, top_p: float = 0.95, seed: int = 0, thinking: bool = False, sampling: str = "identical",
    draft: bool = False,
):
    """The app's /compare endpoint by keyword (greedy by default); returns the handler's outputs,
    the raw result JSON last. Files are uploaded as a browser would."""
    from gradio_client import handle_file

    return client.predict(
        prompt=prompt,
        image_files=[handle_file(str(p)) for p in images] or None,
        video_file=handle_file(str(video)) if video else None,
        audio_file=handle_file(str(audio)) if audio else None,
        system=system,
        max_new_tokens=max_new_tokens,
        temperature=temperature,
        top_p=top_p,
        seed=seed,
        thinking=thinking,
        sampling=sampling,
        draft=draft,
        api_name="/compare",
    )
