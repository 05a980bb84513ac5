"""A loopback OpenAI-compatible server that streams one crafted answer, and logs every request.

For tests of what a hostile or compromised server can do to the app's viewers: it answers any
chat completion with `answer` (streamed in a few chunks), and records the path of every request
it receives, so a test can tell whether a page fetched anything from it. `seconds_per_chunk`
makes a slow server, for tests that must act while an answer is still streaming.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeOpenAI:
    def __init__(self, answer: str, model: str = "crafted-model", seconds_per_chunk: float = 0.0):
        self.answer, self.model, self.delay = answer, model, seconds_per_chunk
        self.requests: list[str] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                fake.requests.append(self.path)
                if self.path.rstrip("/").endswith("/models"):
                    self._json({"object": "list", "data": [{"id": fake.model, "object": "model"}]})
                else:
                    self.send_response(404)
                    self.end_headers()

            def do_POST(self):
                fake.requests.append(self.path)
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                pieces = [fake.answer[i : i + 40] for i in range(0, len(fake.answer), 40)]
                for piece in pieces:
                    self._event({"choices": [{"index": 0, "delta": {"content": piece}}]})
                    time.sleep(fake.delay)
                self._event({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
                self._event({"choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": len(pieces), "total_tokens": 5 + len(pieces)}})
                self.wfile.write(b"data: [DONE]\n\n")

            def _event(self, chunk: dict):
                base = {"id": "x", "object": "chat.completion.chunk", "created": 0, "model": fake.model}
                self.wfile.write(f"data: {json.dumps(base | chunk)}\n\n".encode())
                self.wfile.flush()

            def _json(self, body: dict):
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
