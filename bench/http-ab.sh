#!/usr/bin/env bash
# The provider HTTP transports A/B: `paybridge-bench --http` (ProviderHTTPTransport on AsyncHTTPClient) against
# `paybridge-bench --http-nio` (NIOHTTPTransport, the minimal HTTP/1.1 client on SwiftNIO), alternated, against the
# release sandbox's Amanpay payout status endpoint (the endpoint `http_transport_only` of run-worker-bench.sh hits).
#   bench/http-ab.sh [pairs (5)] [requests (20000)] [concurrency (200)]
# Each pair runs both, the order swapped every pair (A B, B A, …). Prints every run, then the medians of CPU µs per
# request of the bench process; `sandbox_cpu_us_per_request` is the sandbox's CPU over the same run (warm-up of
# 2,000 requests included). Needs `swift build -c release --product paybridge-bench` and `--product paybridge-sandbox`.
set -euo pipefail
cd "$(dirname "$0")/.."
PAIRS="${1:-5}"
N="${2:-20000}"
C="${3:-200}"
PORT="${BENCH_SANDBOX_PORT:-18089}"
KEYS="${PAYBRIDGE_SANDBOX_KEYS_DIR:-Tests/Fixtures/provider-testdata}"
URL="http://127.0.0.1:$PORT/payments/payouts/status"

PAYBRIDGE_SANDBOX_PORT=$PORT PAYBRIDGE_SANDBOX_KEYS_DIR="$KEYS" LOG_LEVEL=warning \
  .build/release/paybridge-sandbox >/dev/null 2>&1 &
sandbox=$!
trap 'kill $sandbox 2>/dev/null || true; wait $sandbox 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/_sandbox/health" >/dev/null && break; sleep 0.1; done

ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
run() {  # $1 = --http | --http-nio
  local before after line
  before=$(ticks "$sandbox")
  line=$(.build/release/paybridge-bench "$1" "$URL" "$N" "$C")
  after=$(ticks "$sandbox")
  curl -sf -XDELETE "http://127.0.0.1:$PORT/_sandbox/requests" >/dev/null
  echo "$line sandbox_cpu_us_per_request=$(awk -v t=$((after - before)) -v hz="$hz" -v n=$((N + 2000)) \
    'BEGIN { printf "%.1f", t / hz / n * 1e6 }') load=$(cut -d' ' -f1 /proc/loadavg)"
}
results=$(mktemp)
for pair in $(seq "$PAIRS"); do
  if [ $((pair % 2)) = 1 ]; then order="--http --http-nio"; else order="--http-nio --http"; fi
  for mode in $order; do
    echo "pair=$pair $(run "$mode")" | tee -a "$results"
  done
done
median() {
  grep "transport=$1 " "$results" | sed 's/.*http_cpu_us_per_request=\([0-9.]*\).*/\1/' | sort -n |
    awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
echo "median_cpu_us_per_request async-http-client=$(median async-http-client) nio=$(median nio)"
rm -f "$results"
