#!/usr/bin/env bash
# A 3-node RabbitMQ cluster on loopback beside the default broker (scripts/broker.sh), for the cluster failover test.
#   scripts/cluster.sh start | stop | status | start-node N | kill-node N | nodes
# Nodes paybridge-c1@localhost .. paybridge-c3@localhost; AMQP on 127.0.0.1:5681..5683, Erlang distribution on
# 25681..25683; no plugins; data and logs in /var/lib/rabbitmq/paybridge-cluster/<node>, owned by rabbitmq; the
# Erlang cookie of the default node (the rabbitmq user's). c2 and c3 join c1.
# `start` when the cluster is running is a no-op; `stop` stops the nodes and removes their data (the next start is
# fresh). `start-node N` (re)starts one node in place (its data kept: it rejoins); `kill-node N` SIGKILLs its VM.
# Every wait is bounded (CLUSTER_WAIT seconds per node, default 90). Runs as root (it starts the nodes as rabbitmq)
# or as rabbitmq. The default broker on 5672 (rabbit@<host>) is never touched.
set -euo pipefail
BASE=/var/lib/rabbitmq/paybridge-cluster
HOST=localhost
WAIT="${CLUSTER_WAIT:-90}"
NODES=(1 2 3)
name() { echo "paybridge-c$1@$HOST"; }
amqp_port() { echo $((5680 + $1)); }
dist_port() { echo $((25680 + $1)); }

die() { echo "cluster.sh: $*" >&2; exit 1; }
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# rabbitmqctl against one node of the cluster, bounded.
ctl() { local n=$1; shift; timeout 60 rabbitmqctl -q -n "$(name "$n")" "$@"; }

# The environment of node N (rabbitmq-server as root switches to rabbitmq with `su`, which keeps it).
node_env() {
  local n=$1 dir="$BASE/$(name "$1")"
  export RABBITMQ_NODENAME="$(name "$n")"
  export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
  export RABBITMQ_NODE_PORT="$(amqp_port "$n")"
  export RABBITMQ_DIST_PORT="$(dist_port "$n")"
  export ERL_EPMD_ADDRESS=127.0.0.1
  export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
  export RABBITMQ_MNESIA_BASE="$dir/mnesia"
  export RABBITMQ_MNESIA_DIR="$dir/mnesia/$(name "$n")"
  export RABBITMQ_LOG_BASE="$dir/log"
  export RABBITMQ_PID_FILE="$dir/pid"
  export RABBITMQ_ENABLED_PLUGINS_FILE="$dir/enabled_plugins"
  export RABBITMQ_CONFIG_FILE="$dir/rabbitmq"  # none: every default (no config of the default node applies)
  export RABBITMQ_ADVANCED_CONFIG_FILE="$dir/advanced.config"
}

running() { ctl "$1" await_startup --timeout 1 >/dev/null 2>&1; }

# Spawns node N's VM (data kept) unless it runs; await_node waits for it.
spawn_node() {
  local n=$1 dir="$BASE/$(name "$1")"
  if running "$n" && listening "$(amqp_port "$n")"; then return 0; fi
  if listening "$(amqp_port "$n")"; then die "127.0.0.1:$(amqp_port "$n") is taken by something that is not $(name "$n")"; fi
  mkdir -p "$dir/mnesia" "$dir/log"
  echo "[]." > "$dir/enabled_plugins"
  chown -R rabbitmq:rabbitmq "$BASE"
  (
    node_env "$n"
    if [ "$(id -u)" = 0 ]; then
      # The Debian wrapper (`su rabbitmq`) keeps the environment; -detached returns once the VM is spawned.
      rabbitmq-server -detached >"$dir/log/start.out" 2>&1
    else
      /usr/lib/rabbitmq/bin/rabbitmq-server -detached >"$dir/log/start.out" 2>&1
    fi
  ) || die "rabbitmq-server for $(name "$n") failed to start; see $dir/log"
}

# Waits (bounded) until node N accepts AMQP and its application runs.
await_node() {
  local n=$1 dir="$BASE/$(name "$1")"
  local deadline=$((SECONDS + WAIT))
  until listening "$(amqp_port "$n")" && running "$n"; do
    [ $SECONDS -lt $deadline ] || die "$(name "$n") did not start within $WAIT s; see $dir/log"
    sleep 0.5
  done
}

members_running() {  # the number of running nodes node N sees in its cluster
  ctl "$1" eval 'length(rabbit_nodes:all_running()).' 2>/dev/null | tr -dc 0-9
}

cluster_up() { [ "$(members_running 1 || true)" = "${#NODES[@]}" ]; }

beam_pid() {  # OS pid of node N's VM
  ctl "$1" eval 'os:getpid().' 2>/dev/null | tr -dc 0-9
}

start() {
  if cluster_up; then echo "==> cluster already running: $(status_line)"; return 0; fi
  local t0=$SECONDS
  echo "==> starting a 3-node RabbitMQ cluster on 127.0.0.1:$(amqp_port 1)-$(amqp_port 3) (data in $BASE)"
  for n in "${NODES[@]}"; do spawn_node "$n"; done  # the three VMs boot side by side
  for n in "${NODES[@]}"; do await_node "$n"; done
  for n in "${NODES[@]:1}"; do
    if ctl "$n" eval "lists:member('$(name 1)', rabbit_nodes:all())." 2>/dev/null | grep -q true; then continue; fi
    ctl "$n" stop_app >/dev/null || die "stop_app on $(name "$n") failed"
    ctl "$n" join_cluster "$(name 1)" >/dev/null || die "$(name "$n") could not join $(name 1)"
    ctl "$n" start_app >/dev/null || die "start_app on $(name "$n") failed"
  done
  local deadline=$((SECONDS + WAIT))
  until cluster_up; do
    [ $SECONDS -lt $deadline ] || die "the cluster did not show 3 running nodes within $WAIT s: $(ctl 1 cluster_status 2>&1 | tr '\n' ' ')"
    sleep 0.5
  done
  echo "==> cluster formed in $((SECONDS - t0)) s: $(status_line)"
}

stop() {
  for n in "${NODES[@]}"; do
    if running "$n"; then ctl "$n" stop >/dev/null 2>&1 || true; fi
    # A node that would not stop (or is half up): its VM, by the pid it recorded.
    local pidfile="$BASE/$(name "$n")/pid"
    if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then kill -KILL "$(cat "$pidfile")" || true; fi
  done
  rm -rf "$BASE"
  echo "==> cluster stopped (data removed)"
}

status_line() {
  local out=""
  for n in "${NODES[@]}"; do
    if running "$n"; then out+="$(name "$n") up (amqp $(amqp_port "$n")) "; else out+="$(name "$n") down "; fi
  done
  echo "$out"
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  status) echo "$(status_line)"; cluster_up || { echo "cluster not fully running" >&2; exit 1; } ;;
  start-node) spawn_node "${2:?node number}"; await_node "$2"; echo "==> $(name "$2") running" ;;
  kill-node) p=$(beam_pid "${2:?node number}") && [ -n "$p" ] || die "$(name "$2") is not running"
             kill -KILL "$p"; echo "$p" ;;
  nodes) for n in "${NODES[@]}"; do echo "$(name "$n") amqp://guest:guest@127.0.0.1:$(amqp_port "$n")"; done ;;
  *) echo "usage: $0 start|stop|status|start-node N|kill-node N|nodes" >&2; exit 2 ;;
esac
