"""How much memory visitors' uploads cost the server: V visitors each attach N photos of 64 MP at once.

    python benchmarks/visitor_memory.py [--app-dir DIR] [--visitors 4] [--images 8] [--out FILE.json]

Starts `DIR/app.py --tiny` (default: this checkout; pass an older checkout's folder to measure it
the same way), opens one Chromium page per visitor, and has every page attach its images to the
Compare tab's image box at the same moment: each upload is checked as it arrives (decoded, as a
comparison would), which is where a burst of visitors costs the server. The server's resident
memory (its process and children) is sampled every 20 ms from before the uploads until every
page shows the check done and a second more; printed: the baseline, the peak and the growth.
The images are smooth gradients saved as JPEG (small files, full decoding cost).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from page import free_port, start_app  # noqa: E402


def make_photos(folder: Path, count: int) -> list[Path]:
    import numpy as np
    from PIL import Image

    x = np.linspace(0, 255, 8000, dtype=np.float32)
    paths = []
    for n in range(count):
        red = np.broadcast_to(x[None, :], (8000, 8000))
        pixels = np.stack([red, red.T, np.full_like(red, 40 * n)], axis=-1).astype(np.uint8)
        path = folder / f"photo-{n}.jpg"
        Image.fromarray(pixels).save(path, quality=85)
        paths.append(path)
    return paths


def rss(pid: int) -> int:
    import psutil

    process = psutil.Process(pid)
    total = process.memory_info().rss
    for child in process.children(recursive=True):
        try:
            total += child.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total


def wait_idle(pid: int, quiet_s: float = 2.0, limit_s: float = 300) -> None:
    import psutil

    process, quiet_since, deadline = psutil.Process(pid), None, time.time() + limit_s
    process.cpu_percent()
    while time.time() < deadline:
        time.sleep(0.25)
        busy = process.cpu_percent() + sum(c.cpu_percent() for c in process.children(recursive=True))
        quiet_since = (quiet_since or time.time()) if busy < 20 else None
        if quiet_since and time.time() - quiet_since >= quiet_s:
            return


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--app-dir", type=Path, default=ROOT)
    parser.add_argument("--visitors", type=int, default=4)
    parser.add_argument("--images", type=int, default=8)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    with tempfile.TemporaryDirectory() as tmp:
        photos = [str(p) for p in make_photos(Path(tmp), args.images)]
        port = free_port()
        app = start_app(args.app_dir.resolve(), port)
        try:
            samples, sampling = [], threading.Event()

            def sample() -> None:
                while not sampling.is_set():
                    samples.append(rss(app.pid))
                    time.sleep(0.02)

            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
                pages = [browser.new_page() for _ in range(args.visitors)]
                for page in pages:
                    page.goto(f"http://127.0.0.1:{port}")
                    page.locator("#images input[type=file]").wait_for(state="attached", timeout=120_000)
                time.sleep(2)
                baseline = rss(app.pid)
                watcher = threading.Thread(target=sample, daemon=True)
                watcher.start()
                started = time.perf_counter()
                for page in pages:  # each set_input_files returns once the browser has the files
                    page.locator("#images input[type=file]").set_input_files(photos)
                for page in pages:  # uploaded: the box lists the files (the checks start then)
                    page.locator("#images").get_by_text(Path(photos[-1]).stem, exact=True).first.wait_for(timeout=300_000)
                wait_idle(app.pid)  # the checks are done when the server has been (nearly) idle for 2 s
                sampling.set()
                watcher.join()
                elapsed = time.perf_counter() - started
                browser.close()
        finally:
            app.terminate()
            app.wait(30)
    peak = max(samples)
    figures = {"visitors": args.visitors, "images": args.images, "baseline_gib": baseline / 2**30,
               "peak_gib": peak / 2**30, "growth_gib": (peak - baseline) / 2**30, "seconds": elapsed,
               "app_dir": str(args.app_dir)}
    print(json.dumps(figures, indent=2))
    if args.out:
        args.out.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
