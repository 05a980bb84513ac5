"""Comparisons at once with both models on servers: wall time of a burst at --concurrency N against 1.

    python benchmarks/concurrency.py [--comparisons 8] [--at-once 4] [--max-new-tokens 32] [--out FILE.json]

Starts two loopback `transformers serve` processes serving the offline replicas (Gemma and
Qwen) -- or, with --paced TOKENS_PER_S, two servers that stream every request at that rate
however many run at once, as a GPU server that batches does, so the figure is the app's own
admission and not this machine's CPU -- then, for --concurrency 1 and N, the app pointed at both servers; fires the burst of
comparisons from as many gradio_client sessions at once, each with its own prompt, and times
the burst from the first request to the last answer. Each server gets --server-threads torch threads
(default: half the cores): with torch's default of one thread per core, two servers on the same
cores spin against each other whenever both run, and at 4 comparisons at once that contention,
not the app's admission, decided the figure (2 cores: 1.25x slower at 4 than at 1 with the
default threads, 0.66-0.70x with one thread each). Checks that every comparison finished
without error, that each session got its own prompt's comparison back, and how many were
marked contended. Prints the wall times and their ratio; writes the figures to --out (JSON).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SERVE = [str(Path(sys.executable).parent / "transformers"), "serve"]
SERVE_ARGS: list[str] = []  # set from --serve-args
SERVE_ENV: dict[str, str] = {}  # set from --server-threads


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(cmd: list[str], log: Path, ready, env: dict[str, str] | None = None) -> subprocess.Popen:
    proc = subprocess.Popen(cmd, stdout=open(log, "w"), stderr=subprocess.STDOUT, start_new_session=True,
                            env={**os.environ, "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False", **(env or {})})
    deadline = time.time() + 240
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{cmd[:3]} exited:\n{log.read_text()[-2000:]}")
        if ready():
            return proc
        time.sleep(0.5)
    stop(proc)
    raise TimeoutError(f"{cmd[:3]} not up:\n{log.read_text()[-2000:]}")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def answers(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=2)
        return True
    except OSError:
        return False


def serve(folder: Path, work: Path, name: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}/v1"
    proc = start([*SERVE, *SERVE_ARGS, "--host", "127.0.0.1", "--port", str(port), str(folder)], work / f"{name}.log",
                 lambda: answers(f"{url}/models"), SERVE_ENV)
    return proc, url


def paced_server(tokens_per_s: float, tokens: int) -> str:
    """A loopback OpenAI-compatible server streaming `tokens` one-word chunks per request at a fixed rate."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def _send(self, chunk: dict) -> None:
            base = {"id": "x", "object": "chat.completion.chunk", "created": 0, "model": "paced"}
            self.wfile.write(f"data: {json.dumps(base | chunk)}\n\n".encode())
            self.wfile.flush()

        def do_GET(self):
            body = json.dumps({"object": "list", "data": [{"id": "paced", "object": "model"}]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            for i in range(tokens):
                time.sleep(1 / tokens_per_s)
                self._send({"choices": [{"index": 0, "delta": {"content": f"w{i} "}}]})
            self._send({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
            self._send({"choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": tokens, "total_tokens": 5 + tokens}})
            self.wfile.write(b"data: [DONE]\n\n")

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{httpd.server_address[1]}/v1"


def burst(app_url: str, comparisons: int, max_new_tokens: int) -> dict:
    """Every comparison from its own session at once; returns the wall time and what came back."""
    from gradio_client import Client

    clients = [Client(app_url, verbose=False) for _ in range(comparisons)]
    results: list = [None] * comparisons
    gate = threading.Barrier(comparisons)

    def one(i: int) -> None:
        gate.wait()
        try:
            *_, raw = clients[i].predict(
                prompt=f"Comparison {i}: name {i + 2} colours.", image_files=None, video_file=None, audio_file=None,
                system="", max_new_tokens=max_new_tokens, temperature=0.0, top_p=0.95, seed=0, thinking=False,
                sampling="identical", api_name="/compare",
            )
            results[i] = raw
        except Exception as e:  # counted below as an error
            results[i] = {"error": str(e)}

    threads = [threading.Thread(target=one, args=(i,)) for i in range(comparisons)]
    start_t = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start_t
    errors = [r.get("error") for r in results if "results" not in r]
    errors += [f"{k}: {m['error']}" for r in results if "results" in r for k, m in r["results"].items() if m["error"]]
    wrong = [i for i, r in enumerate(results) if "request" in r and not r["request"]["prompt"].startswith(f"Comparison {i}:")]
    contended = sum(m["metrics"]["contended"] for r in results if "results" in r for m in r["results"].values()
                    if m["metrics"])
    return {"wall_s": round(wall, 3), "errors": errors, "wrong_session": wrong, "contended_answers": contended}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--comparisons", type=int, default=8)
    parser.add_argument("--at-once", type=int, default=4)
    parser.add_argument("--max-new-tokens", type=int, default=32)
    parser.add_argument("--out", help="write the figures here (JSON)")
    parser.add_argument("--paced", type=float, metavar="TOKENS_PER_S",
                        help="serve both models from paced loopback servers instead of `transformers serve`")
    parser.add_argument("--serve-args", default="", help="more options for both `transformers serve`, e.g. "
                        "'--continuous-batching'")
    parser.add_argument("--server-threads", type=int, default=max(1, (os.cpu_count() or 2) // 2),
                        help="torch threads for each `transformers serve` (default: half the cores)")
    args = parser.parse_args()
    SERVE_ARGS[:] = args.serve_args.split()
    SERVE_ENV.update(OMP_NUM_THREADS=str(args.server_threads))

    from models.tiny import build_replicas

    gemma_dir, qwen_dir = build_replicas()
    work = Path(tempfile.mkdtemp(prefix="concurrency-"))
    procs = []
    figures = {"date": time.strftime("%Y-%m-%d"), "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
               "comparisons": args.comparisons, "max_new_tokens": args.max_new_tokens, "serve_args": SERVE_ARGS,
               "runs": {}}
    figures["servers"] = (f"paced at {args.paced:g} tokens/s" if args.paced else
                          f"transformers serve {' '.join(SERVE_ARGS)} with {args.server_threads} torch thread(s) each")
    try:
        for name, folder in (("gemma", gemma_dir), ("qwen", qwen_dir)):
            if args.paced:
                figures[f"{name}_server"] = paced_server(args.paced, args.max_new_tokens)
                continue
            proc, url = serve(folder, work, name)
            procs.append(proc)
            figures[f"{name}_server"] = url
        models = {"gemma": "paced", "qwen": "paced"} if args.paced else {"gemma": str(gemma_dir), "qwen": str(qwen_dir)}
        accepts = ["--gemma-accepts", "text", "--qwen-accepts", "text"] if args.paced else []
        for n in (1, args.at_once):
            port = free_port()
            app_url = f"http://127.0.0.1:{port}/"
            app = start(
                [sys.executable, str(ROOT / "app.py"), "--port", str(port), "--arena", str(work / "arena"),
                 "--gemma-endpoint", figures["gemma_server"], "--gemma", models["gemma"],
                 "--qwen-endpoint", figures["qwen_server"], "--qwen", models["qwen"], "--concurrency", str(n), *accepts],
                work / f"app-{n}.log", lambda: answers(app_url),
            )
            try:
                burst(app_url, 2, args.max_new_tokens)  # warm: the servers' first requests are slow
                figures["runs"][n] = burst(app_url, args.comparisons, args.max_new_tokens)
            finally:
                stop(app)
            print(f"--concurrency {n}: {args.comparisons} comparisons in {figures['runs'][n]['wall_s']:.2f} s, "
                  f"{len(figures['runs'][n]['errors'])} errors, {len(figures['runs'][n]['wrong_session'])} in a wrong "
                  f"session, {figures['runs'][n]['contended_answers']} answers marked contended")
    finally:
        for proc in procs:
            stop(proc)
    ratio = figures["runs"][args.at_once]["wall_s"] / figures["runs"][1]["wall_s"]
    figures["ratio"] = round(ratio, 3)
    print(f"wall time at {args.at_once} over at 1: {ratio:.2f}")
    if args.out:
        Path(args.out).write_text(json.dumps(figures, indent=2) + "\n")
    return 0 if all(not r["errors"] and not r["wrong_session"] for r in figures["runs"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
