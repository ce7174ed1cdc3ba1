#!/usr/bin/env bash
# Starts a local RabbitMQ on loopback when nothing answers on the AMQP port, and waits until it accepts AMQP.
#   scripts/broker.sh start | stop | status
# The broker is left running after `make test` on purpose (it is the one process we keep); `make broker-stop` stops it.
set -euo pipefail
PORT="${PAYBRIDGE_BROKER_PORT:-5672}"
export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
export RABBITMQ_NODE_PORT="$PORT"
export ERL_EPMD_ADDRESS=127.0.0.1
export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
export RABBITMQ_DIST_PORT="${RABBITMQ_DIST_PORT:-25672}"

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; }

case "${1:-start}" in
  start)
    if listening; then echo "==> broker already listening on 127.0.0.1:$PORT"; exit 0; fi
    echo "==> starting rabbitmq-server on 127.0.0.1:$PORT"
    mkdir -p /var/log/rabbitmq
    rabbitmq-server -detached >/dev/null 2>&1 || rabbitmq-server >/var/log/rabbitmq/paybridge-start.log 2>&1 &
    for _ in $(seq 1 120); do
      if listening && rabbitmqctl -q await_startup >/dev/null 2>&1; then
        echo "==> broker is up"; exit 0
      fi
      sleep 1
    done
    echo "broker did not start within 120 s; see /var/log/rabbitmq" >&2; exit 1 ;;
  stop) rabbitmqctl -q stop >/dev/null 2>&1 || true ;;
  status) listening && echo "listening on 127.0.0.1:$PORT" || { echo "not listening"; exit 1; } ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
