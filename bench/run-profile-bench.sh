#!/usr/bin/env bash
# `make bench-profile`: the worker's budget per command, stage by stage (paybridge-profile; docs/benchmarks.md,
# "Per-stage budget"). First one drain of `make bench-worker` (BENCH_DRAIN_ONLY=1: the whole worker's CPU and context
# switches per command, and the HTTP transport alone), then the stages against the broker (vhost bench-profile) and
# a sandbox of their own; the drain's figures are the table's last rows.
# PROFILE_ITERATIONS, PROFILE_ROUNDS and PROFILE_SITES pass through to paybridge-profile; BENCH_COMMANDS sets the
# drain's size (default 20000); PROFILE_NO_DRAIN=1 skips the drain.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
VHOST=bench-profile
BASE="${RABBITMQ_BASE_URL:-amqp://guest:guest@127.0.0.1:5672}"
KEYS="${PAYBRIDGE_SANDBOX_KEYS_DIR:-../shared/providers/testdata}"
SANDBOX_PORT="${PROFILE_SANDBOX_PORT:-18090}"
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  timeout 60 rabbitmqctl -q delete_vhost "$VHOST" >/dev/null 2>&1 || true
  timeout 60 rabbitmqctl -q delete_vhost bench-profile-drain >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT

# PROFILE_SITES symbolizes with the toolchain's llvm-symbolizer and swift-demangle.
PATH="$(dirname "$(readlink -f "$(command -v swift)")"):$PATH"

drain=""
if [ "${PROFILE_NO_DRAIN:-}" != 1 ]; then
  echo "==> one drain of the worker benchmark (BENCH_DRAIN_ONLY=1)" >&2
  drain=$(BENCH_DRAIN_ONLY=1 BENCH_VHOST=bench-profile-drain BENCH_SANDBOX_PORT="${PROFILE_DRAIN_SANDBOX_PORT:-18091}" \
    bash bench/run-worker-bench.sh)
  echo "$drain" >&2
fi

fresh_vhost "$VHOST"

start_sandbox "$SANDBOX_PORT" "$KEYS"

echo "==> per-stage budget (paybridge-profile)" >&2
PROFILE_AMQP_URL="$BASE/$VHOST" PROFILE_SANDBOX_URL="http://127.0.0.1:$SANDBOX_PORT" PROFILE_DRAIN="$drain" \
  .build/release/paybridge-profile
