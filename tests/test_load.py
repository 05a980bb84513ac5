"""A bounded load test on loopback: 16 concurrent gradio_client sessions x 5 comparisons each."""

from __future__ import annotations

import statistics
import threading
import time

import pytest

from app_server import AppServer, call_compare

SESSIONS, PER_SESSION = 16, 5


@pytest.fixture(scope="module")
def server(tmp_path_factory, replica_dirs):
    srv = AppServer(log=tmp_path_factory.mktemp("load") / "app.log").wait_ready()
    yield srv
    srv.stop()


def test_sixteen_sessions_each_get_their_own_answers(server):
    from gradio_client import Client

    latencies, waits, errors, mismatches = [], [], [], []
    lock = threading.Lock()

    def session(n: int) -> None:
        client = Client(server.url, verbose=False)
        for i in range(PER_SESSION):
            prompt = f"session {n} question {i}"
            start = time.perf_counter()
            try:
                gemma_chat, *_, raw = call_compare(client, prompt, max_new_tokens=4)
            except Exception as e:  # counted and reported below
                with lock:
                    errors.append(f"{prompt}: {e}")
                continue
            elapsed = time.perf_counter() - start
            served = raw["validation_s"] + sum(r["metrics"]["total_s"] for r in raw["results"].values())
            with lock:
                latencies.append(elapsed)
                waits.append(max(0.0, elapsed - served))
                if raw["request"]["prompt"] != prompt:
                    mismatches.append((prompt, raw["request"]["prompt"]))
                users = [m["content"][0]["text"] for m in gemma_chat if m["role"] == "user"]
                if not all(u.startswith(f"<p>session {n} ") for u in users) or len(users) != i + 1:
                    mismatches.append((prompt, users))

    threads = [threading.Thread(target=session, args=(n,)) for n in range(SESSIONS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    q = statistics.quantiles(latencies, n=20) if len(latencies) > 1 else [0] * 19
    print(
        f"\n{len(latencies)} comparisons from {SESSIONS} sessions: latency p50 {statistics.median(latencies):.2f} s, "
        f"p95 {q[18]:.2f} s; queue wait p50 {statistics.median(waits):.2f} s, p95 {statistics.quantiles(waits, n=20)[18]:.2f} s"
    )
    assert errors == [], errors[:3]
    assert mismatches == [], f"a result or history reached the wrong session: {mismatches[:3]}"
    assert len(latencies) == SESSIONS * PER_SESSION
