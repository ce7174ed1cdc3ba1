#!/usr/bin/env bash
# `make bench`: one `paybridge worker` (release build, its own process, started by paybridge-bench) against the
# provider sandbox (its own process): commands/s working off a backlog published before the worker started, and
# while the driver publishes; p50/p99 command → event latency at a fixed rate; the worker's CPU per command and
# peak RSS. Runs at 0 ms and at 100 ms provider latency (prefetch 200).
# BENCH_COMMANDS (default 20000) sets the backlog size. `http_transport_only` is the provider HTTP round trip alone
# (paybridge-bench --http-nio): CPU per request that no worker change below the transport can remove. BENCH_VHOST
# (default paybridge-bench) and BENCH_SANDBOX_PORT (default 18089) keep concurrent benchmarks apart.
# BENCH_RATE_0MS fixes the latency phase's rate at 0 ms (default: half the drain rate, so two builds that drain at
# different speeds are measured at different rates; fix it to compare their latency).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
N="${BENCH_COMMANDS:-20000}"
VHOST="${BENCH_VHOST:-paybridge-bench}"
BASE="${RABBITMQ_BASE_URL:-amqp://guest:guest@127.0.0.1:5672}"
URL="$BASE/$VHOST"
KEYS="${PAYBRIDGE_SANDBOX_KEYS_DIR:-../shared/providers/testdata}"
SANDBOX_PORT="${BENCH_SANDBOX_PORT:-18089}"
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT

fresh_vhost "$VHOST"

start_sandbox "$SANDBOX_PORT" "$KEYS"

broker_pid() { pgrep -f 'beam.smp.*rabbit' | head -n1 || true; }

run_case() {  # $1 = provider latency in ms, $2 = prefetch, $3 = latency-phase rate (empty: half the throughput)
  curl -sf -XDELETE "http://127.0.0.1:$SANDBOX_PORT/_sandbox/faults" >/dev/null
  curl -sf -XDELETE "http://127.0.0.1:$SANDBOX_PORT/_sandbox/requests" >/dev/null
  if [ "$1" != 0 ]; then
    curl -sf -XPOST "http://127.0.0.1:$SANDBOX_PORT/_sandbox/faults" -H 'Content-Type: application/json' \
      -d "{\"provider\":\"amanpay\",\"latencyMs\":$1}" >/dev/null
  fi
  local line
  line=$(PAYBRIDGE_AMQP_URL="$URL" PAYBRIDGE_PREFETCH="$2" PAYBRIDGE_ADMIN_PORT=0 PAYBRIDGE_LOG_LEVEL=warning \
    AMANPAY_BASE_URL="http://127.0.0.1:$SANDBOX_PORT" AMANPAY_MERCHANT_ID=1758378 AMANPAY_SECRET_KEY=s3cr3t \
    BENCH_WORKER_LOG="$tmp/worker-$1ms.log" BENCH_OTHER_PIDS="broker=$(broker_pid),sandbox=${pids[0]}" \
    .build/release/paybridge-bench "$URL" "$N" "${3:-auto}" -- .build/release/paybridge worker)
  echo "provider_latency_ms=$1 prefetch=$2 $line"
}

echo "==> worker benchmark: $N commands (amanpay.payout), 2 cores, broker + sandbox + worker + driver on one machine"
run_case 0 200 "${BENCH_RATE_0MS:-}"
# The floor the provider round trip sets: the worker's default transport (NIOHTTPTransport) alone, from Swift tasks,
# 200 in flight, against the same sandbox endpoint family (a status read it answers at once).
echo "http_transport_only $(.build/release/paybridge-bench --http-nio "http://127.0.0.1:$SANDBOX_PORT/payments/payouts/status" "$N" 200)"
[ "${BENCH_DRAIN_ONLY:-}" = 1 ] || run_case 100 200 1000
