"""The app's front door, over raw HTTP: a foreign Host header, and a URL where a file should be."""

from __future__ import annotations

import http.client
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from app_server import AppServer


@pytest.fixture(scope="module")
def server(tmp_path_factory, replica_dirs):
    srv = AppServer(log=tmp_path_factory.mktemp("guard") / "app.log").wait_ready()
    yield srv
    srv.stop()


def _request(server, method, path, body=None, host=None):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    headers = {"Content-Type": "application/json", **({"Host": host} if host else {})}
    conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
    response = conn.getresponse()
    return response.status, response.read().decode()


def test_a_request_for_another_host_name_is_refused(server):
    """DNS rebinding: a page of another site resolves its name to 127.0.0.1 and calls the app."""
    assert _request(server, "GET", "/", host="rebinding.invalid")[0] == 421
    assert _request(server, "GET", "/", host=f"rebinding.invalid:{server.port}")[0] == 421
    for own in (f"127.0.0.1:{server.port}", f"localhost:{server.port}"):
        assert _request(server, "GET", "/", host=own)[0] == 200


def test_a_url_given_as_file_data_is_refused_and_never_fetched(server):
    fetched = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            fetched.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args):
            pass

    origin = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=origin.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{origin.server_address[1]}/picture.png"
    file = {"path": url, "meta": {"_type": "gradio.FileData"}, "orig_name": "picture.png"}
    data = ["hi", [file], None, None, "", 2, 0.0, 0.95, 0, False, "identical"]
    try:
        status, body = _request(server, "POST", "/gradio_api/call/compare", {"data": data})
    finally:
        origin.shutdown()
        origin.server_close()
    assert (status, json.loads(body)) == (400, {"error": "file data must be an uploaded file, not a URL"})
    assert fetched == []
