#!/usr/bin/env bash
# Installs the system packages PayBridge needs, only when something is missing (fresh Debian, run as root).
set -euo pipefail
need=()
dpkg -s librabbitmq-dev >/dev/null 2>&1 || need+=(librabbitmq-dev)
command -v rabbitmq-server >/dev/null 2>&1 || need+=(rabbitmq-server)
command -v pkg-config >/dev/null 2>&1 || need+=(pkg-config)
command -v openssl >/dev/null 2>&1 || need+=(openssl)  # the TLS tests make their certificates with it
if [ ${#need[@]} -gt 0 ]; then
  echo "==> installing ${need[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
