#!/usr/bin/env bash
# The H200 table in one prepared run: decode and prefill speed of the real sizes (random weights),
# eager, fast, and fast with Gemma's drafter, through the app's own backend.
#
#   bash benchmarks/gpu.sh            on the GPU machine: results under $OUT (default benchmarks/results)
#   bash benchmarks/gpu.sh --smoke    anywhere: the offline replicas on CPU, a few tokens (CI runs this)
#
# On the GPU machine it first installs the wheels carried in .whl/ (transformers as pinned,
# flash-linear-attention, fla-core; it has no internet), then measures the mid pair, the edge
# Gemmas (E2B, E4B: the small Qwens' architectures are not checked) and, while time is left, the
# large pair, each within what is left of BUDGET_S (8 minutes): a pair cut short keeps what it
# measured. Only checkpoints whose architecture the registry has checked are measured
# (models/registry.py says where each came from).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-benchmarks/results}"
mkdir -p "$OUT"

if [ "${1:-}" = "--smoke" ]; then
  exec python benchmarks/decode.py --prompt-tokens 32 --new-tokens 8 --repeats 1 --paths eager,fast,fast+draft --out "$OUT"
fi

BUDGET_S="${BUDGET_S:-480}"
start=$(date +%s)
if [ -d .whl ]; then
  pip install -q --no-index --find-links .whl transformers==5.24.0 flash-linear-attention fla-core 2>&1 | tail -3
fi
python -c "import torch, transformers; print('torch', torch.__version__, 'transformers', transformers.__version__, torch.cuda.get_device_name(0))"

for pair in "google/gemma-4-12B-it,Qwen/Qwen3.5-9B" "google/gemma-4-E2B-it,google/gemma-4-E4B-it" "google/gemma-4-31B-it,Qwen/Qwen3.5-27B"; do
  left=$(( BUDGET_S - ($(date +%s) - start) ))
  if [ "$left" -lt 60 ]; then
    echo "skipped (time): $pair"
    continue
  fi
  echo "== $pair (${left} s left)"
  timeout "$left" python benchmarks/decode.py --real-size "$pair" --prompt-tokens 1024 --new-tokens 128 --repeats 2 \
    --paths eager,fast,fast+draft --out "$OUT/$(echo "$pair" | tr '/,' '__')" || echo "cut short or failed: $pair"
done
find "$OUT" -name 'decode-*.md' -newer benchmarks/gpu.sh -exec cat {} \;
