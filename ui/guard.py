"""Three checks in front of the app, before Gradio sees a request.

- Host: an app bound to a loopback address answers only requests addressed to it (`Host:
  127.0.0.1:PORT`, `localhost:PORT`, `[::1]:PORT`), so a web page elsewhere cannot reach it
  through DNS rebinding. Apps bound to other addresses (a Space, a LAN) are not restricted.
- URLs as file data: Gradio would download a URL given in place of an upload. The API's
  JSON bodies are read first and any file object whose path or url is an http(s) URL is
  refused with one line, so the server never fetches what a visitor names. A JSON body holds
  a request's values, never a file's bytes (uploads go to /upload, capped by Gradio), so one
  over MAX_JSON_BODY_BYTES is refused with 413 as soon as it is seen to be, read in pieces
  joined once (linear in its size). Every string in it has its lone surrogates (which JSON can
  carry and no UTF-8 reply can) made U+FFFD before Gradio reads it, so an error that echoes a
  value (a dropdown's "not in the list of choices") cannot cut the visitor's stream.
- Uploads: each client address may upload VisitorBudget.upload_bytes_per_hour; an upload over
  what is left is refused (429) from its Content-Length, before its body is read. An upload
  carries no session, so the address is the key (behind a proxy, the one it appended last).
"""

from __future__ import annotations

import json

from modalities.errors import clean_value

LOOPBACK = ("127.0.0.1", "localhost", "::1")
# The largest request a page sends is a prompt of Limits.max_prompt_chars (100,000 characters, up
# to 4 bytes each as UTF-8, more as JSON escapes) with its settings: 4 MiB is well above it.
MAX_JSON_BODY_BYTES = 4 * 2**20
_JSON_PATHS = ("/queue/join", "/call/", "/run/", "/api/")


def local_hosts(host: str, port: int) -> set[str] | None:
    """The Host headers a loopback-bound app answers; None (anything) for any other bind."""
    if host not in LOOPBACK:
        return None
    return {f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}"}


def _names_a_url(value) -> bool:
    if isinstance(value, dict):
        if "path" in value or "url" in value:
            for key in ("path", "url"):
                if isinstance(value.get(key), str) and value[key].lower().startswith(("http://", "https://")):
                    # A file the server made itself (a processed upload) has a local path.
                    if key == "path" or not isinstance(value.get("path"), str):
                        return True
        return any(_names_a_url(v) for v in value.values())
    if isinstance(value, list):
        return any(_names_a_url(v) for v in value)
    return False


def _address(scope, headers: dict, behind_proxy: bool) -> str:
    if behind_proxy:
        forwarded = headers.get(b"x-forwarded-for", b"").decode("latin-1").split(",")[-1].strip()
        if forwarded:
            return forwarded
    return (scope.get("client") or ("unknown",))[0]


class RequestGuard:
    """ASGI middleware: the Host allow-list, the refusal of URLs as file data, and the upload quota."""

    def __init__(self, app, hosts: set[str] | None = None, upload_bytes_per_hour: int | None = None,
                 behind_proxy: bool = False):
        from engine.allowance import Allowance

        self.app, self.hosts, self.behind_proxy = app, hosts, behind_proxy
        self.uploads = Allowance(upload_bytes_per_hour) if upload_bytes_per_hour else None

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        host = headers.get(b"host", b"").decode("latin-1").lower()
        if self.hosts is not None and host not in self.hosts:
            return await _refuse(scope, send, 421, "this app answers only requests addressed to its own loopback address")
        if self.uploads and scope["type"] == "http" and scope["method"] == "POST" and scope["path"].endswith("/upload"):
            declared = headers.get(b"content-length", b"").decode("latin-1")
            if not declared.isdigit():
                return await _refuse(scope, send, 411, "an upload must say its length")
            if not self.uploads.take([_address(scope, headers, self.behind_proxy)], int(declared)):
                return await _refuse(scope, send, 429, f"upload quota: at most {self.uploads.amount / 2**30:g} GiB "
                                     "of uploads an hour from one address; try again later")
        if scope["type"] == "http" and scope["method"] == "POST" and any(p in scope["path"] for p in _JSON_PATHS):
            declared = headers.get(b"content-length", b"0").decode("latin-1")
            if declared.isdigit() and int(declared) > MAX_JSON_BODY_BYTES:
                return await _refuse(scope, send, 413, f"request body over {MAX_JSON_BODY_BYTES // 2**20} MiB")
            pieces, size, more = [], 0, True
            while more:
                message = await receive()
                pieces.append(message.get("body", b""))
                size += len(pieces[-1])
                if size > MAX_JSON_BODY_BYTES:  # chunked, with no length said: cut off as it arrives
                    return await _refuse(scope, send, 413, f"request body over {MAX_JSON_BODY_BYTES // 2**20} MiB")
                more = message.get("more_body", False)
            body = b"".join(pieces)
            try:
                parsed = json.loads(body) if body else None
                names_url = _names_a_url(parsed)
                if b"\\ud" in body.lower():  # an escaped surrogate (paired or not): clean and re-encode
                    body = json.dumps(clean_value(parsed)).encode()
            except (ValueError, RecursionError):
                names_url = False  # not JSON (or nested past parsing): Gradio answers it
            if names_url:
                return await _refuse(scope, send, 400, "file data must be an uploaded file, not a URL")
            sent = False

            async def replay():
                nonlocal sent
                if sent:
                    return await receive()
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}

            return await self.app(scope, replay, send)
        return await self.app(scope, receive, send)


async def _refuse(scope, send, status: int, message: str) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008})
        return
    body = json.dumps({"error": message}).encode()
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})
