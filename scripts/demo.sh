#!/usr/bin/env bash
# `make demo`: a local broker (started by make), the provider sandbox and PayBridge (`paybridge run`); one command
# of each kind, callbacks driven through the sandbox, every resulting event printed; then everything it started
# is stopped (the broker stays, as with `make test`; `make broker-stop` stops it).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.build/debug
VHOST=paybridge-demo
export PAYBRIDGE_AMQP_URL="amqp://guest:guest@127.0.0.1:5672/$VHOST"
SANDBOX_PORT=${DEMO_SANDBOX_PORT:-18090}
HTTP_PORT=${DEMO_HTTP_PORT:-18080}    # callbacks listener
ADMIN_PORT=${DEMO_ADMIN_PORT:-19090}  # /healthz /readyz /metrics
KEYS=deploy/sandbox-test-keys
SANDBOX="http://127.0.0.1:$SANDBOX_PORT"
logs=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  echo; echo "==> stopped the sandbox and PayBridge (logs were in $logs)"
}
trap cleanup EXIT
say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

say "fresh vhost $VHOST on the local broker"
timeout 60 rabbitmqctl -q delete_vhost "$VHOST" >/dev/null 2>&1 || true
timeout 60 rabbitmqctl -q add_vhost "$VHOST"
timeout 60 rabbitmqctl -q set_permissions -p "$VHOST" guest ".*" ".*" ".*"
$BIN/paybridge topology | sed -n 1,3p  # sed reads it all: head would close the pipe early (SIGPIPE under pipefail)

say "provider sandbox on $SANDBOX (Amanpay + FirstPay, test keys); payments complete by themselves after 1 s"
PAYBRIDGE_SANDBOX_PORT=$SANDBOX_PORT PAYBRIDGE_SANDBOX_KEYS_DIR=$KEYS LOG_LEVEL=warning \
  PAYBRIDGE_SANDBOX_AMANPAY_CALLBACK_URL="http://127.0.0.1:$HTTP_PORT/callbacks/amanpay" \
  PAYBRIDGE_SANDBOX_FIRSTPAY_POSTBACK_URL="http://127.0.0.1:$HTTP_PORT/callbacks/firstpay" \
  PAYBRIDGE_SANDBOX_AUTO_COMPLETE=SUCCESS PAYBRIDGE_SANDBOX_AUTO_COMPLETE_DELAY_MS=1000 \
  $BIN/paybridge-sandbox >"$logs/sandbox.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do curl -sf "$SANDBOX/_sandbox/health" >/dev/null && break; sleep 0.1; done

# Reconciliation every 2 s, three checks, so the demo shows it (production default: 1m,5m,15m,1h,6h,24h).
export PAYBRIDGE_RECONCILE_SCHEDULE=2s,2s,2s
say "PayBridge (worker + callbacks) on :$HTTP_PORT, admin (health, metrics) on :$ADMIN_PORT; reconciliation $PAYBRIDGE_RECONCILE_SCHEDULE"
PAYBRIDGE_HTTP_PORT=$HTTP_PORT PAYBRIDGE_ADMIN_PORT=$ADMIN_PORT PAYBRIDGE_LOG_LEVEL=warning \
  AMANPAY_BASE_URL=$SANDBOX AMANPAY_MERCHANT_ID=1758378 AMANPAY_SECRET_KEY=s3cr3t \
  FIRSTPAY_BASE_URL=$SANDBOX FIRSTPAY_PUBLIC_KEY_FILE=$KEYS/firstpay_public.pem \
  FIRSTPAY_MERCHANT_PRIVATE_KEY_FILE=$KEYS/merchant_private.pem \
  $BIN/paybridge run >"$logs/paybridge.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$ADMIN_PORT/readyz" >/dev/null && break; sleep 0.1; done
curl -s "http://127.0.0.1:$ADMIN_PORT/readyz"

run=$(date +%s)
command() {  # kind, id, data-json
  printf '{"specversion":"1.0","id":"%s","type":"paybridge.%s.v1","source":"/demo","time":"%s","datacontenttype":"application/json","data":%s}' \
    "$2" "$1" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$3"
}
send() {  # kind, id, data-json: sends and prints the events until a final one (or $WAIT s, default 15)
  say "$1"
  command "$@" | $BIN/paybridge send --wait --timeout "${WAIT:-15}" - || true
}
fault() { curl -sf -XPOST "$SANDBOX/_sandbox/faults" -H 'Content-Type: application/json' -d "$1" >/dev/null; }

send amanpay.purchase "demo-$run-1" '{"paymentId":"order-'$run'-1","amount":"250.50","currency":"BDT","customerEmail":"amina@example.com","paymentMethod":"bkash","bkashNumber":"01712345678"}'
send amanpay.payout "demo-$run-2" '{"paymentId":"payout-'$run'-2","amount":"1000.00","currency":"BDT","customerEmail":"rafi@example.com","customerName":"Rafi Ahmed","paymentMethod":"nagad","recipientType":"bank_account","recipientMobileNumber":"01812345678"}'
send amanpay.status "demo-$run-3" '{"paymentId":"order-'$run'-1","paymentType":"purchase"}'

# OTP flow: the sandbox asks for an OTP (SPECIFICATION); PayBridge's event carries what `amanpay.specify` needs.
fault '{"provider":"amanpay","operation":"purchase","paymentId":"otp-'$run'","initialStatus":"SPECIFICATION","outcome":"SUCCESS"}'
say "amanpay.purchase that needs an OTP"
# Not final until the OTP is submitted: wait briefly, keep the first event (the response).
command amanpay.purchase "demo-$run-4" '{"paymentId":"otp-'$run'","amount":"99.99","currency":"BDT","customerEmail":"otp@example.com"}' \
  | $BIN/paybridge send --wait --timeout 3 --json - >"$logs/otp.json" 2>/dev/null || true
spec=$(head -1 "$logs/otp.json")
echo "$spec" | python3 -c 'import json,sys; d=json.load(sys.stdin)["data"]; print("  status", d["status"], "| provider", d["providerStatus"], "| asks for", d.get("additionalFields"))'
tid=$(echo "$spec" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["providerPaymentId"])')
oid=$(echo "$spec" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["providerOperationId"])')
send amanpay.specify "demo-$run-5" '{"transactionId":"'$tid'","operationId":"'$oid'","additionalFields":{"Otp":"123456"},"paymentId":"otp-'$run'"}'

fault '{"provider":"firstpay","operation":"pay_in","paymentId":"fp-'$run'","requireSMS":true}'
say "firstpay.pay_in that needs an SMS code"
command firstpay.pay_in "demo-$run-6" '{"accountId":12,"paymentMethodId":"bkash-p2c","amount":"500.00","clientFieldsValues":[{"key":"phone","value":"01712345678"}],"merchantPaymentId":"fp-'$run'"}' \
  | $BIN/paybridge send --wait --timeout 3 --json - >"$logs/payin.json" 2>/dev/null || true
payin=$(head -1 "$logs/payin.json")
echo "$payin" | python3 -c 'import json,sys; d=json.load(sys.stdin)["data"]; print("  status", d["status"], "| provider", d["providerStatus"], "| payment", d["providerPaymentId"])'
pid=$(echo "$payin" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["providerPaymentId"])')
# The postback that follows names the merchant's id, not the provider id the SMS command carries: don't wait for it.
WAIT=3 send firstpay.sms "demo-$run-7" '{"paymentId":"'$pid'","code":"1234"}'
send firstpay.pay_out "demo-$run-8" '{"accountId":12,"paymentMethodId":"nagad-out","amount":"75.25","clientFieldsValues":[{"key":"phone","value":"01812345678"}],"merchantPaymentId":"fpo-'$run'"}'
send firstpay.status "demo-$run-9" '{"merchantPaymentId":"fp-'$run'"}'

say "FirstPay corrects a final status (SUCCESS -> FAILED): a new postback, a new event"
curl -sf -XPOST "$SANDBOX/_sandbox/firstpay/fp-$run/flip" >/dev/null
sleep 1
send firstpay.status "demo-$run-10" '{"merchantPaymentId":"fp-'$run'"}'

say "reconciliation: a purchase whose callback never comes; PayBridge's status check finds it paid"
fault '{"provider":"amanpay","operation":"purchase","paymentId":"quiet-'$run'","notify":false}'
WAIT=20 send amanpay.purchase "demo-$run-quiet" '{"paymentId":"quiet-'$run'","amount":"42.00","currency":"BDT","customerEmail":"quiet@example.com","paymentMethod":"bkash","bkashNumber":"01712345678"}'

say "reconciliation: a pay-in that never moves on; after the last check PayBridge publishes payment.unresolved"
fault '{"provider":"firstpay","operation":"pay_in","paymentId":"stuck-'$run'","outcome":"NONE"}'
WAIT=20 send firstpay.pay_in "demo-$run-stuck" '{"accountId":12,"paymentMethodId":"bkash-p2c","amount":"310.00","clientFieldsValues":[{"key":"phone","value":"01712345678"}],"merchantPaymentId":"stuck-'$run'"}'

say "a malformed command: command.failed event + dead-letter queue"
command amanpay.purchase "demo-$run-bad" '{"paymentId":"x","amount":250.5,"currency":"BDT","customerEmail":"x@example.com"}' \
  | $BIN/paybridge send --wait --timeout 15 - || true
$BIN/paybridge dead-letters list

say "a forged callback is refused (401) and publishes nothing"
curl -s -o /dev/null -w '  POST /callbacks/amanpay with a bad signature -> HTTP %{http_code}\n' -XPOST \
  "http://127.0.0.1:$HTTP_PORT/callbacks/amanpay" -H 'Authorization: 00' -H 'Content-Type: application/json' \
  -d '{"transactionId":"1","paymentID":"order-x","status":"SUCCESS","amount":1.00,"currency":"BDT"}'

say "the event history an order service rebuilds from: payments.history, the status rule applied at the end"
$BIN/paybridge events replay --since 10m --payment "fp-$run" --idle 1s || true

say "metrics (excerpt)"
curl -s "http://127.0.0.1:$ADMIN_PORT/metrics" | grep -E '^paybridge_(commands_total|callbacks_total|dead_letters|reconcile_checks)' | sort
