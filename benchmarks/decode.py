"""Decode and prefill speed through the app's own backend, eager against the fast path, against the memory roofline.

    python benchmarks/decode.py [--gemma ID_OR_PATH] [--qwen ID_OR_PATH] [--prompt-tokens 1024] [--new-tokens 128]
                                [--paths eager,fast,fast+draft] [--real-size HUB_ID,...]

Without model arguments it measures the offline replicas (what CI smoke-tests on a CPU). With
`--real-size`, random-weight models of those checkpoints' real sizes, built in memory from the
registry (benchmarks/realsize.py: on a GPU, no download). The fast+draft path drafts with the
family's drafter (Gemma only; with random weights nothing is accepted: it shows the drafter's cost). For
each model and path it loads the model through `models.comparison.load_side` (the fast path
compiles there, and that time is reported), then runs `LocalBackend.run` on a prompt of
`--prompt-tokens` tokens and reports:
- time to first token and prefill tokens/s (prompt tokens over time to first token);
- decode tokens/s, and its fraction of the memory roofline: every decoded token reads all
  weights once, so the roofline is copy bandwidth / weight bytes, with the copy bandwidth
  measured in the same run (for mixture-of-experts checkpoints this overstates the bytes read);
- compile time, peak memory, and the first request after load against the steady state.
It writes benchmarks/results/decode-<date>-<device>.json and .md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from engine.comparator import Comparator  # noqa: E402
from engine.sides import Side, load_side  # noqa: E402
from modalities.request import CompareRequest, GenerationSettings  # noqa: E402
from models.families import SIDES  # noqa: E402
from models.tiny import build_replicas  # noqa: E402


def copy_bandwidth(device: str, megabytes: int = 256, repeats: int = 10) -> float:
    """Bytes per second of a device-to-device copy (read + write) of a large buffer."""
    import torch

    n = megabytes * 2**20 // 4
    src = torch.empty(n, dtype=torch.float32, device=device)
    dst = torch.empty_like(src)
    dst.copy_(src)
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
    sync()
    start = time.perf_counter()
    for _ in range(repeats):
        dst.copy_(src)
    sync()
    return 2 * src.numel() * 4 * repeats / (time.perf_counter() - start)


def weight_bytes(model) -> int:
    return sum(p.numel() * p.element_size() for p in model.parameters())


def measure(side, prompt_tokens: int, new_tokens: int, repeats: int, draft: bool = False) -> dict:
    loaded = side.loaded
    # A text prompt of the requested length in this model's own tokens.
    word = " hello"
    prompt = word * prompt_tokens
    ids = loaded.processor.tokenizer(prompt)["input_ids"]
    prompt = loaded.processor.tokenizer.decode(ids[:prompt_tokens])
    settings = GenerationSettings(max_new_tokens=new_tokens, min_new_tokens=new_tokens, temperature=0.0, draft=draft)
    runs = []
    # Through the app's own engine, with the other side off.
    solo = Comparator({k: side if k == side.key else Side(k, load_error="off") for k in SIDES})
    # The first run is the first request after load (whose warm-up used a short prompt): it is
    # reported against the steady state, and not counted in the best-of figures.
    for _ in range(repeats + 1):
        runs.append(solo.run(CompareRequest(prompt=prompt, settings=settings)).results[side.key].metrics)
    counted = runs[1:]
    best = min(counted, key=lambda m: m.total_s)
    steady = sorted(m.total_s for m in counted)[len(counted) // 2]
    prompt_len = best.input_tokens.total
    return {
        "ttft_s": best.ttft_s,
        "prefill_tok_s": prompt_len / best.ttft_s if best.ttft_s else None,
        "decode_tok_s": best.decode_tok_s,
        "prompt_tokens": prompt_len,
        "new_tokens": best.output_tokens,
        "peak_memory_mb": best.peak_memory_mb,
        "memory_scope": best.memory_scope,
        "first_request_s": runs[0].total_s,
        "steady_request_s": steady,
        "first_over_steady": runs[0].total_s / steady,
        "drafting": best.drafting.summary() if best.drafting else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gemma", help="Gemma 4 hub id or folder (default: the replica)")
    parser.add_argument("--qwen", help="Qwen 3.5 hub id or folder (default: the replica)")
    parser.add_argument("--prompt-tokens", type=int, default=1024)
    parser.add_argument("--new-tokens", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--paths", default="eager,fast", help="which paths to measure: eager, fast, fast+draft")
    parser.add_argument("--real-size", default="", metavar="HUB_IDS",
                        help="random-weight models of these checkpoints' real sizes, from the registry (a GPU)")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results"))
    args = parser.parse_args()

    import torch

    from models.registry import checkpoint
    from realsize import real_size_side

    replicas = build_replicas()
    real = [s for s in args.real_size.split(",") if s]
    sources = [(checkpoint(s).family, s) for s in real] or [
        ("gemma", args.gemma or str(replicas[0])), ("qwen", args.qwen or str(replicas[1]))
    ]
    device = "cuda" if torch.cuda.is_available() else "cpu"
    gpu = torch.cuda.get_device_name(0) if device == "cuda" else platform.processor() or "cpu"
    bandwidth = copy_bandwidth(device)
    rows = []
    for key, source in sources:
        for path in args.paths.split(","):
            fast, draft = path.startswith("fast"), path.endswith("+draft")
            if draft and key == "qwen":
                continue  # no drafter runs for Qwen 3.5 in transformers (models.families)
            start = time.perf_counter()
            if real:
                side = real_size_side(source, device, fast=fast, draft=draft)
            else:
                side = load_side(key, source, fast=fast, draft=draft)
            if side.loaded is None:
                print(f"{key} {path}: not loaded: {side.load_error}", file=sys.stderr)
                continue
            load_s = time.perf_counter() - start
            figures = measure(side, args.prompt_tokens, args.new_tokens, args.repeats, draft)
            weights = weight_bytes(side.loaded.model)
            roofline = bandwidth / weights
            row = {
                "model": source, "family": key, "path": path, "load_s": load_s, "real_size": bool(real),
                "compile_s": side.loaded.compile_s, "fast_error": side.loaded.fast_error,
                "weight_bytes": weights, "dtype": side.loaded.dtype,
                "roofline_tok_s": roofline,
                "roofline_fraction": figures["decode_tok_s"] / roofline if figures["decode_tok_s"] else None,
                **figures,
            }
            rows.append(row)
            print(json.dumps(row))
            del side
            if device == "cuda":
                torch.cuda.empty_cache()
    stamp = dt.date.today().isoformat()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    name = f"decode-{stamp}-{gpu.replace(' ', '_').replace('/', '_')[:40] or device}" + ("-real-size" if real else "")
    result = {"date": stamp, "device": gpu, "torch": torch.__version__, "copy_bandwidth_gb_s": bandwidth / 1e9,
              "prompt_tokens": args.prompt_tokens, "new_tokens": args.new_tokens, "rows": rows}
    (out / f"{name}.json").write_text(json.dumps(result, indent=2))
    lines = [f"# Decode benchmark, {stamp}, {gpu} (copy bandwidth {bandwidth / 1e9:.1f} GB/s)", "",
             "| model | path | TTFT s | prefill tok/s | decode tok/s | roofline | compile s | first/steady | peak MiB |", "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        fraction = f"{r['roofline_fraction'] * 100:.1f}%" if r["roofline_fraction"] else "—"
        lines.append(
            f"| {Path(r['model']).name} | {r['path']} | {r['ttft_s']:.3f} | {r['prefill_tok_s']:.0f} | "
            f"{r['decode_tok_s']:.1f} | {fraction} | {r['compile_s'] or 0:.1f} | {r['first_over_steady']:.2f}× | "
            f"{r['peak_memory_mb'] or 0:.0f} |"
        )
    lines += [f"- {Path(r['model']).name} {r['path']}: {r['drafting']}" for r in rows if r.get("drafting")]
    lines += [f"- {Path(r['model']).name} {r['path']}: the fast path fell back to eager ({r['fast_error']})"
              for r in rows if r.get("fast_error")]
    if real:
        lines.append("- Random weights of the real sizes (benchmarks/realsize.py): a drafter's tokens are all rejected.")
    (out / f"{name}.md").write_text("\n".join(lines) + "\n")
    print(out / f"{name}.md")


if __name__ == "__main__":
    main()
