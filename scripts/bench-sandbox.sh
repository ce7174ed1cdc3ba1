#!/usr/bin/env bash
# Load test of the provider sandbox: simple signed status calls on loopback with wrk.
# Usage: scripts/bench-sandbox.sh [seconds] [connections]   (needs wrk: apt-get install -y wrk)
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-10}
CONNS=${2:-64}
TESTDATA=${PAYBRIDGE_SANDBOX_KEYS_DIR:-../shared/providers/testdata}
swift build -c release --product paybridge-sandbox >/dev/null
tmp=$(mktemp -d)
PAYBRIDGE_SANDBOX_PORT=0 PAYBRIDGE_SANDBOX_KEYS_DIR="$TESTDATA" LOG_LEVEL=warning \
  .build/release/paybridge-sandbox >"$tmp/out" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$tmp"' EXIT
for _ in $(seq 50); do grep -q listening "$tmp/out" && break; sleep 0.1; done
port=$(grep -o 'http://[0-9.]*:[0-9]*' "$tmp/out" | grep -o '[0-9]*$')
base="http://127.0.0.1:$port"
c() { curl -s --noproxy '*' "$@"; }
# Amanpay: create payment_812 (A1 vector "purchase, no wallet number"), then read its status (A1 status vector).
c -XPOST "$base/payments/purchases/initiate" -H 'Content-Type: application/json' \
  -H 'Authorization: 17115be6b17a4e296ea13ac50b0e3d1926b7539472f13061c5430cab622714eaf9b513be05ac576a74da4769d551d7830248d7270b22c693b725cba376cd9174' \
  -d '{"merchantId":1758378,"paymentId":"payment_812","amount":250.51,"currency":"BDT","customerEmail":"c@example.com"}' >/dev/null
cat >"$tmp/amanpay.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"merchantId":1758378,"paymentId":"payment_812"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "22cfc3c6c8b48547b4a0248586b4122466573d064dc44b4bd912778c48d3adb810eee5a5d18f87120b06aad590e5d459b402a258f7660d14c8e8acb816fce48c"
LUA
# FirstPay: create order-42 and read it with the signed vectors (F1), so every request is RSA-verified.
c -XPOST "$base/api/payments/v1/pay_in" -H 'Content-Type: application/json' \
  -d "$(jq -c .body "$TESTDATA/firstpay_vector_a_pay_in.json")" >/dev/null
jq -c .body "$TESTDATA/firstpay_vector_b_status.json" >"$tmp/fp_body.json"
cat >"$tmp/firstpay.lua" <<LUA
local f = io.open("$tmp/fp_body.json"); local body = f:read("*a"); f:close()
wrk.method = "POST"
wrk.body = body
wrk.headers["Content-Type"] = "application/json"
LUA
echo "== Amanpay purchases/status (SHA-512 check + signed response), $CONNS connections, ${DURATION}s"
wrk -t2 -c"$CONNS" -d"${DURATION}s" -s "$tmp/amanpay.lua" "$base/payments/purchases/status"
echo "== FirstPay status (RSA-2048 verify per request), $CONNS connections, ${DURATION}s"
wrk -t2 -c"$CONNS" -d"${DURATION}s" -s "$tmp/firstpay.lua" "$base/api/payments/v1/status"
