#!/usr/bin/env bash
# `make bench-scale` (issue 12, part 4): horizontal scaling on one machine. 1, 2 and 4 `paybridge worker` processes
# (release builds, prefetch BENCH_SCALE_PREFETCH each, default 20) work off a backlog of amanpay.payout commands
# against the provider sandbox answering after 100 ms. Each step: commands/s against the ideal
# (workers × prefetch ÷ 0.1 s), the workers' and the broker's CPU per command. Each step gets a fresh vhost, so
# reconciliation checks of one step never come back during the next.
set -euo pipefail
cd "$(dirname "$0")/.."
PREFETCH="${BENCH_SCALE_PREFETCH:-20}"
STEPS="${BENCH_SCALE_STEPS:-1 2 4}"
SECONDS_PER_STEP="${BENCH_SCALE_SECONDS:-10}"
LATENCY_MS=100
VHOST=paybridge-bench-scale
BASE="${RABBITMQ_BASE_URL:-amqp://guest:guest@127.0.0.1:5672}"
URL="$BASE/$VHOST"
KEYS="${PAYBRIDGE_SANDBOX_KEYS_DIR:-../shared/providers/testdata}"
[ -f "$KEYS/README.md" ] || KEYS=Tests/Fixtures/provider-testdata
SANDBOX_PORT="${BENCH_SANDBOX_PORT:-18088}"
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT

PAYBRIDGE_SANDBOX_PORT=$SANDBOX_PORT PAYBRIDGE_SANDBOX_KEYS_DIR="$KEYS" LOG_LEVEL=warning \
  .build/release/paybridge-sandbox >"$tmp/sandbox.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$SANDBOX_PORT/_sandbox/health" >/dev/null && break; sleep 0.1; done
curl -sf -XPOST "http://127.0.0.1:$SANDBOX_PORT/_sandbox/faults" -H 'Content-Type: application/json' \
  -d "{\"provider\":\"amanpay\",\"latencyMs\":$LATENCY_MS}" >/dev/null
broker_pid() { pgrep -f 'beam.smp.*rabbit' | head -n1 || true; }

echo "==> scaling benchmark: ${LATENCY_MS} ms provider latency, prefetch $PREFETCH per worker, ~${SECONDS_PER_STEP} s per step at the ideal rate; 2 cores, broker + sandbox + workers + driver on one machine"
for workers in $STEPS; do
  timeout 60 rabbitmqctl -q delete_vhost "$VHOST" >/dev/null 2>&1 || true
  timeout 60 rabbitmqctl -q add_vhost "$VHOST"
  timeout 60 rabbitmqctl -q set_permissions -p "$VHOST" guest ".*" ".*" ".*"
  ideal=$(( workers * PREFETCH * 1000 / LATENCY_MS ))
  commands=$(( ideal * SECONDS_PER_STEP ))
  line=$(BENCH_WORKERS=$workers BENCH_DRAIN_ONLY=1 PAYBRIDGE_AMQP_URL="$URL" PAYBRIDGE_PREFETCH="$PREFETCH" \
    PAYBRIDGE_ADMIN_PORT=0 PAYBRIDGE_LOG_LEVEL=warning \
    AMANPAY_BASE_URL="http://127.0.0.1:$SANDBOX_PORT" AMANPAY_MERCHANT_ID=1758378 AMANPAY_SECRET_KEY=s3cr3t \
    BENCH_WORKER_LOG="$tmp/worker-$workers.log" BENCH_OTHER_PIDS="broker=$(broker_pid),sandbox=${pids[0]}" \
    .build/release/paybridge-bench "$URL" "$commands" auto -- .build/release/paybridge worker)
  [ -z "${BENCH_SCALE_VERBOSE:-}" ] || echo "$line"
  rate=$(sed -n 's/.*drain_commands_per_s=\([0-9]*\).*/\1/p' <<<"$line")
  workers_cpu=$(sed -n 's/.*drain_worker_cpu_us_per_command=\([0-9]*\).*/\1/p' <<<"$line")
  broker_cpu=$(sed -n 's/.*broker_cpu_us_per_command=\([0-9]*\).*/\1/p' <<<"$line")
  echo "workers=$workers prefetch=$PREFETCH commands=$commands commands_per_s=$rate ideal_per_s=$ideal" \
    "of_ideal_pct=$(( rate * 100 / ideal )) workers_cpu_us_per_command=$workers_cpu broker_cpu_us_per_command=$broker_cpu"
done
timeout 60 rabbitmqctl -q delete_vhost "$VHOST" >/dev/null 2>&1 || true
