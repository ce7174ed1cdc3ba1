"""The compose project as the README's commands make it: the environment they run in (the `docker` shim and
podman-compose first on PATH, the local images), a shell for each command, podman's view of the project's
containers, the health checks podman does not run by itself here, and the teardown."""
import json
import os
import socket
import subprocess
import threading
import time

PROJECT = "paybridge"  # compose.yaml's name:
LABEL = f"label=io.podman.compose.project={PROJECT}"
PAYBRIDGE_IMAGE = "localhost/paybridge:dev"
RABBITMQ_IMAGE = "localhost/paybridge-rabbitmq:3.10"
# What compose.yaml publishes on 127.0.0.1 besides the broker's AMQP port (RABBITMQ_PORT).
FIXED_PORTS = {15672: "RabbitMQ management", 8089: "sandbox", 8080: "callbacks", 9090: "callbacks admin"}


def port_taken(port):
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def podman(*args, timeout=60):
    """(exit status, standard output, standard error) of `podman ARGS` (never raises on a non-zero status)."""
    try:
        done = subprocess.run(["podman", *args], capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return 124, "", f"podman {' '.join(args[:2])}: no answer within {timeout} s"
    return done.returncode, done.stdout, done.stderr


def image_id(name):
    status, out, _ = podman("image", "inspect", "--format", "{{.Id}}", name)
    return out.strip() if status == 0 else None


class Shell:
    """Runs README commands with bash (pipefail), in the environment a reader of the README would have here."""

    def __init__(self, root, venv, amqp_port):
        self.root = root
        self.deploy = root / "deploy"
        self.env = dict(os.environ)
        self.env["PATH"] = os.pathsep.join([str(root / "scripts/composecheck/bin"), str(venv / "bin"),
                                            self.env.get("PATH", "")])
        self.env.setdefault("RABBITMQ_IMAGE", RABBITMQ_IMAGE)
        self.env["RABBITMQ_PORT"] = str(amqp_port)
        self.env.pop("PAYBRIDGE_IMAGE", None)  # compose.yaml's default, paybridge:dev = localhost/paybridge:dev
        self.env.pop("COMPOSE_PROFILES", None)
        self.amqp_port = amqp_port

    def run(self, command, cwd, timeout=120, extra_env=None):
        """(exit status, output: standard output and error together, seconds)."""
        env = dict(self.env, **(extra_env or {}))
        started = time.monotonic()
        try:
            done = subprocess.run(["bash", "-o", "pipefail", "-c", command], cwd=cwd, env=env, text=True,
                                  stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  timeout=timeout)
            return done.returncode, done.stdout, time.monotonic() - started
        except subprocess.TimeoutExpired as expired:
            output = expired.stdout.decode(errors="replace") if isinstance(expired.stdout, bytes) else \
                (expired.stdout or "")
            return 124, output + f"\n(still running after {timeout} s: stopped)", time.monotonic() - started

    def compose_down(self):
        """`docker compose down -v` through the shim, as the README ends; then anything of the project left."""
        status, output, _ = self.run("docker compose down -v", self.deploy, timeout=180)
        leftovers = containers(all_states=True)
        for name in leftovers:
            podman("rm", "--force", "--time", "0", name)
        return status, output, leftovers


def containers(all_states=False):
    """The project's container names (running ones, or all)."""
    args = ["ps", "--filter", LABEL, "--format", "{{.Names}}"] + (["--all"] if all_states else [])
    _, out, _ = podman(*args)
    return [line for line in out.split() if line]


def state(name):
    status, out, _ = podman("inspect", "--format", "{{json .State}}", name)
    return json.loads(out) if status == 0 else {}


def inspect(name, template):
    status, out, _ = podman("inspect", "--format", template, name)
    return out.strip() if status == 0 else None


def logs(name, lines=80):
    done = subprocess.run(["podman", "logs", "--tail", str(lines), name], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=60)
    return done.stdout


def print_logs(names, lines=80):
    for name in names:
        text = logs(name, lines)
        print(f"--- last {lines} lines of {name}'s log ({inspect(name, '{{.State.Status}} exit {{.State.ExitCode}}')})")
        print("\n".join("    | " + line for line in text.splitlines()), flush=True)


# Run inside a container after a failure: how long resolving `sandbox` and opening a TCP connection to it take
# from there (a worker once got CONNECT_TIMEOUT to sandbox:8089 for more than 30 s after `compose up`; NIO counts
# name resolution inside the 2 s connect timeout, so either could be the cause).
NETWORK_PROBE = r"""
ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
grep -v '^#' /etc/resolv.conf | tr '\n' ' '; echo
t=$(date +%s%N); out=$(timeout 12 getent ahostsv4 sandbox | head -n 1); echo "getent ahostsv4 sandbox: ${out:-nothing} ($(ms $t) ms)"
t=$(date +%s%N); out=$(timeout 12 getent ahosts sandbox | head -n 1); echo "getent ahosts sandbox: ${out:-nothing} ($(ms $t) ms)"
t=$(date +%s%N)
if timeout 5 bash -c 'exec 3<>/dev/tcp/sandbox/8089' 2>/dev/null; then r=connected; else r="no connection"; fi
echo "tcp sandbox:8089: $r ($(ms $t) ms)"
"""


def print_network_probe(names):
    """From each running worker: name resolution of `sandbox` and a TCP connection to it, timed."""
    for name in names:
        if "worker" not in name or inspect(name, "{{.State.Status}}") != "running":
            continue
        try:
            done = subprocess.run(["podman", "exec", name, "bash", "-c", NETWORK_PROBE], stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True, timeout=60)
            text = done.stdout
        except subprocess.TimeoutExpired:
            text = "(the probe did not finish within 60 s)"
        print(f"--- network probe from {name} to the sandbox")
        print("\n".join("    | " + line for line in text.splitlines()), flush=True)


def _seconds(duration):
    """Go durations as podman prints them (10s, 1m30s, 500ms) in seconds."""
    total, number = 0.0, ""
    units = {"h": 3600, "m": 60, "s": 1, "ms": 0.001, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}
    i = 0
    while i < len(duration):
        c = duration[i]
        if c.isdigit() or c == ".":
            number += c
            i += 1
            continue
        unit = next(u for u in ("ms", "us", "µs", "ns", "h", "m", "s") if duration.startswith(u, i))
        total += float(number) * units[unit]
        number = ""
        i += len(unit)
    return total


class HealthTicker:
    """Podman 4.3 schedules health checks with systemd timers; without systemd (here) it logs "unable to get systemd
    connection to add healthchecks" and never runs them, so health stays "starting" and `docker compose ps` never
    says healthy. This thread stands in for the timers: every container of the project that has a health check gets
    `podman healthcheck run` once per its interval, the first one an interval after it started (as Docker does)."""

    def __init__(self):
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="health", daemon=True)
        self.intervals = {}
        self.last = {}
        self.runs = 0

    def start(self):
        self.thread.start()

    def stop(self):
        self.stopping.set()
        self.thread.join(30)

    def _interval(self, name):
        if name not in self.intervals:
            value = inspect(name, "{{if .Config.Healthcheck}}{{.Config.Healthcheck.Interval}}{{end}}") or ""
            self.intervals[name] = _seconds(value) if value and value != "0s" else None
        return self.intervals[name]

    def _run(self):
        while not self.stopping.wait(2):
            _, out, _ = podman("ps", "--filter", LABEL, "--format", "{{.Names}} {{.StartedAt}}")
            for line in out.splitlines():
                name, _, started = line.partition(" ")
                interval = self._interval(name)
                if not interval:
                    continue
                key = (name, started)  # a restarted container starts its schedule again
                now = time.monotonic()
                if key not in self.last:
                    self.last[key] = now  # first seen now: its first check one interval later
                elif now - self.last[key] >= interval:
                    podman("healthcheck", "run", name, timeout=60)
                    self.runs += 1
                    self.last[key] = time.monotonic()
