#!/usr/bin/env bash
# `make bench-amqp`: the same pass-through loop (consume -> publish with confirm to an exchange -> ack after the
# confirm) in C on librabbitmq and on PayBridge's Swift client, one after the other on the same broker.
# BENCH_MESSAGES (default 1000000) and BENCH_PREFETCH (default 500) tune it.
set -euo pipefail
cd "$(dirname "$0")/.."
N="${BENCH_MESSAGES:-1000000}"
P="${BENCH_PREFETCH:-500}"
URL="${RABBITMQ_URL:-amqp://guest:guest@127.0.0.1:5672/%2F}"
echo "==> pass-through, $N messages, prefetch $P (each run prefills its input first; prefill is not timed)"
c_line=$(./bench/c-passthrough "$N" "$P")
echo "$c_line"
swift_line=$(.build/release/amqp-bench "$N" "$P" "$URL")
echo "$swift_line"
c_rate=$(sed -E 's/.* rate=([0-9]+).*/\1/' <<<"$c_line")
s_rate=$(sed -E 's/.* rate=([0-9]+).*/\1/' <<<"$swift_line")
python3 - "$c_rate" "$s_rate" <<'PY'
import sys
c, s = float(sys.argv[1]), float(sys.argv[2])
print(f"ratio swift/c = {s / c:.2f}  (target >= 0.80)")
PY
