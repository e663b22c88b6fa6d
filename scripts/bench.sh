#!/usr/bin/env bash
# Run every benchmark (benchmarks/bench_*.py); each writes its JSON to benchmarks/results/.
# Benchmarks compare ratios measured in one run: the machine is shared and noisy.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p benchmarks/results
shopt -s nullglob
benches=(benchmarks/bench_*.py)
[ ${#benches[@]} -gt 0 ] || { echo "no benchmarks yet (benchmarks/bench_*.py)"; exit 0; }
for b in "${benches[@]}"; do
  [ -z "${BENCH:-}" ] || [[ "$b" == *"${BENCH}"* ]] || continue
  # It empties this machine's caches and images (a new user's first run): only when asked for.
  if [[ "$b" == */bench_demo.py && "${BENCH:-}" != *demo* ]]; then
    echo "==> skipping $b (deletes the caches and images; run: make bench BENCH=demo)"; continue
  fi
  echo "==> $b"
  .venv/bin/python "$b"
done
ls -l benchmarks/results/
