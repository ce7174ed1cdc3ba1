#!/usr/bin/env bash
# Installs the system packages PayBridge needs, only when something is missing (fresh Debian, run as root).
# `install-deps.sh deploy` also installs what `make deploy-check` uses: Debian's docker-compose (1.29, the Compose
# file validator; without its recommended docker.io engine, which nothing here runs) and Debian's prometheus for
# promtool (checks and unit-tests deploy/prometheus-rules.yaml; the Prometheus server it also brings is not kept
# running: it would take port 9090, PayBridge's admin port).
# `install-deps.sh image` also installs what `make image-check` uses: podman with Debian's runc (crun refuses
# hybrid cgroups), netavark and aardvark-dns (container networks with names), iptables (netavark's firewall driver:
# without it every container on a network fails with "netavark: No such file or directory"; podman only suggests
# it), debootstrap (the local Debian base)
# and python3-pika (the check's AMQP client).
set -euo pipefail
need=()
dpkg -s librabbitmq-dev >/dev/null 2>&1 || need+=(librabbitmq-dev)
# gperftools' tcmalloc, the allocator the paybridge binary links (Package.swift says why).
dpkg -s libgoogle-perftools-dev >/dev/null 2>&1 || need+=(libgoogle-perftools-dev)
command -v rabbitmq-server >/dev/null 2>&1 || need+=(rabbitmq-server)
command -v pkg-config >/dev/null 2>&1 || need+=(pkg-config)
command -v openssl >/dev/null 2>&1 || need+=(openssl)  # the TLS tests make their certificates with it
command -v jq >/dev/null 2>&1 || need+=(jq)  # ProjectionEndToEndTests runs docs/integration.md's jq recipe
/usr/bin/python3 -c 'import yaml' >/dev/null 2>&1 || need+=(python3-yaml)  # scripts/deploy-check.py
# The reference clients of examples/ (make examples-test): Python's venv, Go with Debian's AMQP and SQLite modules,
# Java 17 with Debian's RabbitMQ client, SLF4J and SQLite JDBC jars.
/usr/bin/python3 -c 'import ensurepip' >/dev/null 2>&1 || need+=(python3-venv)  # also deploy-check's .build/deploy-check-venv
command -v go >/dev/null 2>&1 || need+=(golang-go)
command -v gcc >/dev/null 2>&1 || need+=(gcc)  # go-sqlite3 is cgo
for pkg in golang-github-rabbitmq-amqp091-go-dev golang-github-mattn-go-sqlite3-dev openjdk-17-jdk-headless \
           librabbitmq-client-java libslf4j-java libxerial-sqlite-jdbc-java; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
lean=()  # installed without recommended packages
if [ "${1:-}" = deploy ]; then
  command -v docker-compose >/dev/null 2>&1 || docker compose version >/dev/null 2>&1 || lean+=(docker-compose)
  command -v promtool >/dev/null 2>&1 || lean+=(prometheus)
fi
if [ "${1:-}" = image ]; then
  for pkg in podman runc netavark aardvark-dns iptables debootstrap python3-pika; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
  done
fi
if [ ${#need[@]} -gt 0 ] || [ ${#lean[@]} -gt 0 ]; then
  echo "==> installing ${need[*]} ${lean[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  [ ${#need[@]} -eq 0 ] || DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
  [ ${#lean[@]} -eq 0 ] || DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${lean[@]}" >/dev/null
fi
if [[ " ${lean[*]} " == *" prometheus "* ]] && command -v systemctl >/dev/null 2>&1 \
   && systemctl is-enabled prometheus >/dev/null 2>&1; then
  $SUDO systemctl disable --now prometheus >/dev/null 2>&1 || true  # only promtool is wanted (see above)
fi
