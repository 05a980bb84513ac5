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
    srv = AppServer(log=tmp_path_factory.mktemp("guard") / "app.log",
                    env={"COMPARE_UPLOAD_BYTES_PER_HOUR": str(300_000)}).wait_ready()
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


def _send_raw(server, head: bytes, body_pieces) -> int:
    """Send a request by hand (for a chunked body of no said length); the status the app answers."""
    import socket

    with socket.create_connection(("127.0.0.1", server.port), timeout=60) as s:
        s.sendall(head)
        try:
            for piece in body_pieces:
                s.sendall(piece)
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused before it was all sent, as it should be
        return int(s.recv(64).split()[1])


@pytest.mark.parametrize("chunked", [False, True])
def test_a_request_body_over_the_cap_is_refused_with_413(server, chunked):
    """A JSON body far over anything a page sends is answered 413, whether its length is said up front
    or it comes in chunks of no said length (then cut off as it arrives, never buffered whole)."""
    from ui.guard import MAX_JSON_BODY_BYTES

    size = MAX_JSON_BODY_BYTES * 8
    piece = b"[" + b" " * (2**20 - 1)
    path = b"/gradio_api/call/compare"
    if chunked:
        head = b"POST " + path + b" HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: application/json\r\n" \
               b"Transfer-Encoding: chunked\r\n\r\n" % server.port
        pieces = (b"%x\r\n%s\r\n" % (len(piece), piece) for _ in range(size // len(piece)))
    else:
        head = b"POST " + path + b" HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: application/json\r\n" \
               b"Content-Length: %d\r\n\r\n" % (server.port, size)
        pieces = (piece for _ in range(size // len(piece)))
    assert _send_raw(server, head, pieces) == 413
    assert _request(server, "GET", "/")[0] == 200, "the app still answers"


def _upload(server, size: int) -> int:
    boundary = "guardtestboundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"a.bin\"\r\n"
            f"Content-Type: application/octet-stream\r\n\r\n").encode() + b"x" * size + f"\r\n--{boundary}--\r\n".encode()
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    conn.request("POST", "/gradio_api/upload", body=body,
                 headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    response = conn.getresponse()
    response.read()
    return response.status


def test_uploads_from_one_address_are_bounded_per_hour(server):
    """300 kB an hour on this server: the first 200 kB upload is taken, the second refused (429)
    before its body is read, and the app still answers."""
    assert _upload(server, 200_000) == 200
    assert _upload(server, 200_000) == 429
    assert _request(server, "GET", "/")[0] == 200


def _call(server, endpoint: str, raw_json: str) -> str:
    """POST raw JSON (escapes as given) to a /call/ endpoint and read its whole event stream."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    conn.request("POST", f"/gradio_api/call/{endpoint}", body=raw_json.encode(), headers={"Content-Type": "application/json"})
    event = json.loads(conn.getresponse().read())["event_id"]
    conn.request("GET", f"/gradio_api/call/{endpoint}/{event}")
    return conn.getresponse().read().decode("utf-8", errors="replace")


def test_a_lone_surrogate_in_any_value_is_cleaned_before_gradio_reads_it(server):
    """A dropdown value of one lone surrogate (JSON can say it; a client library would refuse to):
    Gradio's refusal echoes it, which no UTF-8 reply can carry, so the visitor's stream was cut.
    Cleaned first, the refusal arrives whole."""
    stream = _call(server, "load_gemma", '{"data": ["\\ud800"]}')
    assert "event: error" in stream and "\\ufffd is not in the list of choices" in stream, stream[-400:]


@pytest.mark.parametrize("value", ["NaN", "Infinity", "1.5"])
def test_a_number_that_is_no_finite_whole_number_is_one_clear_line(server, value):
    """max new tokens as NaN, infinity or a fraction, through the API's raw JSON: one line naming
    the problem (Gradio's own slider check answers infinity first), no traceback."""
    data = json.dumps(["hi", None, None, None, "", "VALUE", 0.0, 0.95, 0, False, "identical", False])
    stream = _call(server, "compare", '{"data": ' + data.replace('"VALUE"', value) + "}")
    assert "event: error" in stream, stream[-400:]
    assert "max new tokens" in stream or "greater than maximum value 4096" in stream, stream[-400:]
    assert "Traceback" not in stream and "ValueError" not in stream, stream[-400:]
