#!/usr/bin/env bash
# A/B: alternates two worker binaries ($1, $2) in drain-only runs at 0 ms, $3 rounds (default 3).
set -euo pipefail
cd "$(dirname "$0")/.."
cp .build/release/paybridge /tmp/paybridge.current
for r in $(seq "${3:-3}"); do
  for bin in "$1" "$2"; do
    cp "$bin" .build/release/paybridge
    echo "$bin $(BENCH_DRAIN_ONLY=1 bash bench/run-worker-bench.sh 2>&1 | grep provider_latency_ms=0 | sed 's/provider_latency_ms=0 prefetch=200 commands=20000 //')"
  done
done
cp /tmp/paybridge.current .build/release/paybridge
