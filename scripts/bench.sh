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
  echo "==> $b"
  .venv/bin/python "$b"
done
ls -l benchmarks/results/
