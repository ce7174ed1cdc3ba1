# Shared by the bench scripts (sourced): a fresh vhost for guest, and the provider sandbox started in the background.
# The caller keeps `pids` (an array) and `tmp` (a directory) and cleans both up on exit.

# fresh_vhost VHOST: deletes VHOST if it exists, creates it and grants guest everything on it.
fresh_vhost() {
  timeout 60 rabbitmqctl -q delete_vhost "$1" >/dev/null 2>&1 || true
  timeout 60 rabbitmqctl -q add_vhost "$1"
  timeout 60 rabbitmqctl -q set_permissions -p "$1" guest ".*" ".*" ".*"
}

# start_sandbox PORT KEYS_DIR: .build/release/paybridge-sandbox on PORT (log in $tmp/sandbox.log), its pid appended
# to `pids`; returns once its health endpoint answers (10 s at most).
start_sandbox() {
  PAYBRIDGE_SANDBOX_PORT=$1 PAYBRIDGE_SANDBOX_KEYS_DIR="$2" LOG_LEVEL=warning \
    .build/release/paybridge-sandbox >"$tmp/sandbox.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$1/_sandbox/health" >/dev/null && return 0; sleep 0.1; done
}
