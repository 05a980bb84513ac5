"""What a visitor waits for, measured in a real Chromium against the app on the offline replicas.

    python benchmarks/page.py [--app-dir DIR] [--repeats 3] [--out FILE.json]

Starts `DIR/app.py --tiny` (default: this checkout; pass an older checkout's folder to measure
it the same way) and, for each repeat, in a fresh page:

- load to usable: from navigation to the prompt and Compare both ready to take input;
- click to first visible token, per column: from the Compare click to the first answer text
  (not the "…" placeholder) drawn in that model's chat;
- stop to stopped: with Gemma served by a loopback server that streams about 200 chunks a
  second for 10 s (as a fast model does; the replicas end their answers within a second), from
  the Stop click a second into the stream to the last change of its chat (the stream has
  visibly stopped), and, where the page has a status line, to it saying "Stopped";
- while Gemma streams: the page's longest main-thread task (the Long Tasks API) and how many
  times a second its chat is redrawn.

Times are taken in the page (performance.now) so the browser's own delays count, as they do
for a visitor. Prints medians and writes every sample to `--out` (JSON).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Installed before the page's scripts: each chat's first answer text and last change, long tasks.
WATCH = """
window.__marks = {longest: 0, changed: {}, first: {}, updates: {}};
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) window.__marks.longest = Math.max(window.__marks.longest, e.duration);
}).observe({type: 'longtask', buffered: true});
new MutationObserver(() => {
  for (const key of ['gemma', 'qwen']) {
    const chat = document.querySelector(`#${key}-chat`);
    if (!chat || !window.__armed) continue;
    const bots = chat.querySelectorAll('.bot, [data-testid="bot"]');
    // Answer text only: not the "…" placeholder, nor Gradio's "Loading content" while it waits.
    const text = Array.from(bots).map((b) => b.innerText).join('').replace(/Loading content/g, '').replace(/[\\s…]/g, '');
    if (text !== (window.__marks['text_' + key] || '')) {
      window.__marks['text_' + key] = text;
      window.__marks.changed[key] = performance.now();
      window.__marks.updates[key] = (window.__marks.updates[key] || 0) + 1;
      if (text && !(key in window.__marks.first)) { window.__marks.first[key] = performance.now(); window.__marks['at_first_' + key] = text.slice(0, 80); }
    }
  }
}).observe(document, {subtree: true, childList: true, characterData: true});
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(app_dir: Path, port: int, *extra: str) -> subprocess.Popen:
    env = dict(os.environ, GRADIO_ANALYTICS_ENABLED="False", PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [sys.executable, str(app_dir / "app.py"), "--tiny", "--port", str(port), *extra], cwd=app_dir, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc
        except OSError:
            time.sleep(1)
    proc.kill()
    raise SystemExit("the app did not start within 300 s")


def measure_first_tokens(browser, url: str) -> dict:
    """Load to usable, and click to each column's first visible answer text (both replicas)."""
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.add_init_script(WATCH)
    start = time.monotonic()
    page.goto(url, wait_until="commit")
    page.locator("#prompt textarea").wait_for(state="visible", timeout=120_000)
    page.wait_for_function("() => { const b = document.querySelector('#compare'); return b && !b.disabled; }")
    sample = {"load_to_usable_s": time.monotonic() - start}
    page.locator("#prompt textarea").fill("Describe a sunset in one sentence.")
    clicked = page.evaluate("() => { window.__armed = true; const t = performance.now(); document.querySelector('#compare').click(); return t; }")
    page.wait_for_function("() => 'gemma' in window.__marks.first && 'qwen' in window.__marks.first", timeout=300_000)
    marks = page.evaluate("() => window.__marks")
    for key in ("gemma", "qwen"):
        sample[f"click_to_first_token_{key}_s"] = (marks["first"][key] - clicked) / 1000
    page.wait_for_timeout(3000)  # the replicas' answers are short: let both finish
    page.close()
    return sample


def measure_stop(browser, url: str) -> dict:
    """Gemma (a loopback server streaming ~200 chunks a second, as a fast model does) stopped a
    second into its stream: to its status saying so, and to its chat's last change."""
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.add_init_script(WATCH)
    page.goto(url)
    page.locator("#prompt textarea").wait_for(state="visible", timeout=120_000)
    page.evaluate("() => { window.__armed = true; }")
    page.locator("#prompt textarea").fill("Write a long story.")
    page.locator("#compare").click()
    page.wait_for_function("() => 'gemma' in window.__marks.first", timeout=300_000)
    page.wait_for_timeout(300)
    page.evaluate("() => { window.__marks.longest = 0; window.__marks.updates.gemma = 0; }")
    page.wait_for_timeout(1000)
    sample = {"longest_task_streaming_ms": page.evaluate("() => window.__marks.longest"),
              "chat_updates_per_s_streaming": page.evaluate("() => window.__marks.updates.gemma")}
    stop = page.evaluate("() => { const t = performance.now(); document.querySelector('#stop').click(); return t; }")
    status = page.locator("#gemma-status")
    if status.count():  # this page says how a column ended
        status.filter(has_text="Stopped").wait_for(timeout=60_000)
        sample["stop_to_status_s"] = (page.evaluate("() => performance.now()") - stop) / 1000
    quiet_since, last = time.monotonic(), None
    while time.monotonic() - quiet_since < 3:  # the chat stays unchanged for 3 s: it has stopped
        changed = page.evaluate("() => window.__marks.changed.gemma")
        if changed != last:
            last, quiet_since = changed, time.monotonic()
        time.sleep(0.2)
    sample["stop_to_last_change_s"] = max(0.0, (last - stop) / 1000)
    page.close()
    return sample


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--app-dir", default=str(ROOT), help="the checkout whose app.py to measure")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", help="write every sample here (JSON)")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    sys.path.insert(0, str(ROOT / "tests"))
    from fake_openai import FakeOpenAI

    app_dir = Path(args.app_dir).resolve()
    samples = [{} for _ in range(args.repeats)]
    fast = FakeOpenAI("word " * 16_000, seconds_per_chunk=0.005)  # 2,000 chunks over about 10 s
    phases = (((), measure_first_tokens), (("--gemma-endpoint", f"{fast.url}/v1", "--gemma", fast.model), measure_stop))
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
            for extra, measure in phases:
                port = free_port()
                app = start_app(app_dir, port, *extra)
                try:
                    for i in range(args.repeats):
                        samples[i] |= measure(browser, f"http://127.0.0.1:{port}")
                        print(f"{measure.__name__} {i + 1}: " + ", ".join(f"{k} {v:.3f}" for k, v in samples[i].items()), flush=True)
                finally:
                    app.terminate()
                    app.wait(30)
            browser.close()
    finally:
        fast.close()
    medians = {k: statistics.median(s[k] for s in samples if k in s) for k in samples[0]}
    print("median: " + ", ".join(f"{k} {v:.3f}" for k, v in medians.items()))
    if args.out:
        Path(args.out).write_text(json.dumps({
            "app_dir": args.app_dir, "date": time.strftime("%Y-%m-%d"), "cpus": os.cpu_count(),
            "load_average": os.getloadavg(), "samples": samples, "median": medians,
        }, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
