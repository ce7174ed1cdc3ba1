"""podman as root, the way this machine needs it: every container with Debian's runc (crun refuses the hybrid
cgroups) and explicit ulimits (the defaults are refused). Containers and the network carry the check's prefix, so a
run removes only what it (or an earlier, interrupted run) made."""
import json
import subprocess
import time

RUN_FLAGS = ["--runtime", "runc", "--ulimit", "nofile=20000:20000", "--ulimit", "nproc=4096:4096"]


class PodmanError(Exception):
    pass


def podman(*args, timeout=120, check=True):
    """(exit status, standard output); raises PodmanError with podman's message when `check` and it failed."""
    try:
        done = subprocess.run(["podman", *args], capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise PodmanError(f"podman {' '.join(args[:2])} did not finish within {timeout} s")
    if check and done.returncode != 0:
        raise PodmanError(f"podman {' '.join(args[:2])} exited {done.returncode}: {done.stderr.strip()[-800:]}")
    return done.returncode, done.stdout


class Pod:
    """The check's containers on one network. `names` are the short names (rabbitmq, worker, ...); each container
    is `<prefix>-<name>` with the short name as its network alias, as compose names its services."""

    def __init__(self, prefix):
        self.prefix = prefix
        self.network = f"{prefix}-net"
        self.started = []

    def container(self, name):
        return f"{self.prefix}-{name}"

    def clean(self, names):
        """Removes containers and the network left by an earlier run (nothing else)."""
        for name in names:
            podman("rm", "--force", "--time", "0", self.container(name), check=False)
        podman("network", "rm", "--force", self.network, check=False)

    def create_network(self):
        podman("network", "create", self.network)

    def run(self, name, image, args=(), options=()):
        """`podman run -d` of `image` named `<prefix>-<name>`, reachable as `name` on the network."""
        container = self.container(name)
        podman("run", "--detach", *RUN_FLAGS, "--name", container, "--network", self.network,
               "--network-alias", name, *options, image, *args)
        self.started.append(name)
        return container

    def state(self, name):
        """The container's State (Status, ExitCode, Health, ...) as a dict."""
        _, out = podman("inspect", "--format", "{{json .State}}", self.container(name))
        return json.loads(out)

    def health_status(self, name):
        _, out = podman("inspect", "--format", "{{.State.Health.Status}}", self.container(name))
        return out.strip()

    def healthcheck_run(self, name):
        """Runs the container's health check once (podman records the result in its health status): True when it
        passed. Podman runs checks by itself only through systemd timers; where there is no systemd, this is how."""
        status, _ = podman("healthcheck", "run", self.container(name), check=False, timeout=60)
        return status == 0

    def wait_healthy(self, name, deadline_s):
        """Runs the health check every second until it passes and the status says healthy (or the deadline)."""
        deadline = time.monotonic() + deadline_s
        while time.monotonic() < deadline:
            if self.state(name).get("Status") != "running":
                return False
            if self.healthcheck_run(name) and self.health_status(name) == "healthy":
                return True
            time.sleep(1)
        return False

    def exec(self, name, *args, timeout=60):
        return podman("exec", self.container(name), *args, check=False, timeout=timeout)

    def stop(self, name, grace_s):
        """`podman stop -t grace_s`: SIGTERM (the image's stop signal), SIGKILL after the grace period. Returns
        (exit code, seconds it took)."""
        started = time.monotonic()
        podman("stop", "--time", str(grace_s), self.container(name), timeout=grace_s + 60)
        return self.state(name).get("ExitCode"), time.monotonic() - started

    def logs(self, name, lines=60):
        """The container's last lines, standard output and error together (PayBridge logs to standard error)."""
        done = subprocess.run(["podman", "logs", "--tail", str(lines), self.container(name)],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=60)
        return done.stdout

    def remove_all(self):
        for name in reversed(self.started):
            podman("rm", "--force", "--time", "0", self.container(name), check=False)
        podman("network", "rm", "--force", self.network, check=False)
