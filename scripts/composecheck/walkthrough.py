"""deploy/README.md, "Compose: the whole stack on one machine", run as written: the `sh` blocks line by line, then
the commands, URLs and logins of "More to look at", then `docker compose down -v`."""
import base64
import re
import time
import urllib.error
import urllib.request

import yaml

from . import readme, stack
from checkkit.amqp import can_log_in

from .amqp import url

PS_DEADLINE_S = 240  # the broker's first boot, the workers restarting until it accepts them, health checks


def indented(text, lines=25):
    body = text.rstrip().splitlines()
    cut = body[-lines:]
    return "\n".join(["    | (…)"] * (len(body) > lines) + ["    | " + line for line in cut])


def default_services(root):
    """Services `docker compose up` starts: those without a profile."""
    compose = yaml.safe_load((root / "deploy/compose.yaml").read_text())
    return [name for name, spec in compose["services"].items() if not spec.get("profiles")]


def healthy_counts(output, services):
    """{service: containers whose `ps` line says (healthy)} from `docker compose ps` (podman's or Docker's table)."""
    counts = dict.fromkeys(services, 0)
    for line in output.splitlines():
        for service in services:
            if re.search(rf"\b{stack.PROJECT}-{re.escape(service)}-\d+\b", line) and "(healthy)" in line:
                counts[service] += 1
    return counts


# A send that answers later than this passes but prints the workers' last log lines (a send normally takes 3-5 s).
SLOW_SEND_SECONDS = 10


class Runner:
    """Runs README lines: tracks `cd`, the scale of the last `up`, and waits where a `ps` comment says to."""

    def __init__(self, shell, report, services):
        self.shell, self.report, self.services = shell, report, services
        self.cwd = shell.root
        self.scale = {}
        self.restarts_told = False
        self.slow_lines_told = set()

    def line(self, command, timeout=300, expect=None):
        """Runs one README line; `expect(output)` returns None when the output is what the README says, else why
        not. Returns (passed, output)."""
        bare = readme.without_comment(command)
        match = re.fullmatch(r"cd (\S+)", bare)
        if match:
            self.cwd = (self.cwd / match.group(1)).resolve()
            self.report.info(f"$ {command}")
            return True, ""
        if re.match(r"docker compose ps\b", bare) and "wait until" in readme.comment(command):
            return self.wait_healthy(command)
        if re.match(r"docker compose up\b", bare):
            self.scale = {k: int(v) for k, v in re.findall(r"--scale[ =](\S+?)=(\d+)", bare)}
        status, output, took = self.shell.run(command, self.cwd, timeout=timeout)
        problem = f"exit status {status}" if status != 0 else (expect(output) if expect else None)
        self.report.check(problem is None, f"`{command}` ({took:.1f} s)", f"`{command}`: {problem} ({took:.1f} s)")
        if problem is not None or expect:
            print(indented(output), flush=True)
        if " send --wait" in bare:
            self.slow_setups()
        if problem is None and " send --wait" in bare and took > SLOW_SEND_SECONDS:
            # Passed, but near the 30 s the send waits: the worker's own account of why, for the next time it fails.
            self.report.info(f"slow: over {SLOW_SEND_SECONDS} s; the workers' last lines")
            stack.print_logs([c for c in stack.containers() if re.search(r"-worker-\d+$", c)], lines=40)
        return problem is None, output

    def slow_setups(self):
        """Prints the workers' info lines about a provider lookup or connect that took a second or more (podman's
        DNS server drops queries while a container joins the network; the worker then looks the name up again)."""
        for name in (c for c in stack.containers() if re.search(r"-worker-\d+$", c)):
            for line in stack.logs(name, 400).splitlines():
                slow = "provider host lookup slow" in line or "provider connect slow" in line
                if slow and (name, line) not in self.slow_lines_told:
                    self.slow_lines_told.add((name, line))
                    self.report.info(f"{name}: {line}")

    def restarts(self):
        """{container: restart count} of the project's containers that restarted."""
        counts = {name: stack.inspect(name, "{{.RestartCount}}") for name in stack.containers()}
        return {name: int(n) for name, n in counts.items() if n and n != "0"}

    def wait_healthy(self, command):
        """`docker compose ps`, again every 3 s, until every service `up` started says healthy (each of a scaled
        one's containers)."""
        wanted = {s: self.scale.get(s, 1) for s in self.services}
        started = time.monotonic()
        output, counts = "", {}
        while time.monotonic() - started < PS_DEADLINE_S:
            status, output, _ = self.shell.run(command, self.cwd, timeout=60)
            counts = healthy_counts(output, wanted)
            if status == 0 and all(counts[s] >= n for s, n in wanted.items()):
                break
            time.sleep(3)
        took = time.monotonic() - started
        summary = ", ".join(f"{s}" + (f" ×{n}" if n > 1 else "") for s, n in wanted.items())
        passed = self.report.check(all(counts.get(s, 0) >= n for s, n in wanted.items()),
                                   f"`{command}`: {summary} healthy after {took:.0f} s",
                                   f"`{command}`: not all healthy after {took:.0f} s: {counts} of {wanted}")
        print(indented(output), flush=True)
        restarted = self.restarts()
        if restarted and not self.restarts_told:
            self.restarts_told = True
            self.report.info("restarted until the broker accepted them (podman-compose ignores `condition: "
                             "service_healthy` on podman < 4.6; `restart: unless-stopped` starts them again): "
                             + ", ".join(f"{name} {n}×" for name, n in sorted(restarted.items())))
        return passed, output


def expect_send(output):
    """README: the provider's answer (payment.response.v1), then the final status (payment.callback.v1, SUCCESS);
    exit 0 (checked by the caller)."""
    missing = [s for s in ("paybridge.payment.response.v1", "paybridge.payment.callback.v1", "SUCCESS")
               if s not in output]
    if missing:
        return f"no {', '.join(missing)} in its output"
    final = re.search(r"^final: (\S+)", output, re.M)
    if not final or final.group(1) != "succeeded":
        return f"final line {final.group(0) if final else '(none)'!r}, not 'final: succeeded'"
    if output.index("paybridge.payment.response.v1") > output.index("paybridge.payment.callback.v1"):
        return "the callback came before the response"
    return None


def expect_contains(*needles):
    def check(output):
        missing = [n for n in needles if not re.search(n, output, re.M)]
        return f"no {', '.join(map(repr, missing))} in its output" if missing else None
    return check


def http_get(address, user=None):
    request = urllib.request.Request(address)
    if user:
        request.add_header("Authorization", "Basic " + base64.b64encode(f"{user}:{user}".encode()).decode())
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read(1 << 20).decode(errors="replace")
    except urllib.error.HTTPError as error:
        return error.code, ""
    except OSError as error:
        return 0, str(error)


def run(shell, report, root):
    text = (root / "deploy/README.md").read_text()
    section = readme.section(text, readme.WALKTHROUGH)
    blocks = readme.sh_blocks(section)
    services = default_services(root)
    runner = Runner(shell, report, services)

    report.section(f"README, \"{readme.WALKTHROUGH}\": its {len(blocks)} sh blocks, line by line")
    if len(blocks) < 2:
        report.fail(f"expected the walkthrough's two sh blocks (start, send), found {len(blocks)}")
        return
    for command in blocks[0]:
        passed, _ = runner.line(command)
        if not passed:
            return
    for command in blocks[1]:
        expect = expect_send if " send --wait" in command else None
        runner.line(command, timeout=120, expect=expect)

    report.section("\"More to look at\": its commands, URLs and logins")
    for command in readme.inline_commands(section):
        bare = readme.without_comment(command)
        if re.match(r"docker compose logs -f\b", bare):
            # Follows forever: what it printed in 10 s, from each of the services it names.
            status, output, _ = shell.run(f"timeout 10 {command}", runner.cwd, timeout=60)
            named = bare.split()[4:]
            quiet = [s for s in named if not re.search(rf"\b{stack.PROJECT}-{s}-1\b|\b{s}\b", output)]
            report.check(status == 124 and output.strip() and not quiet,
                         f"`{command}` follows the logs of {', '.join(named)} (stopped after 10 s)",
                         f"`{command}`: exit {status}; nothing from {quiet or '(any)'}")
            print(indented(output, 8), flush=True)
        elif bare.startswith("curl ") and "/readyz" in bare:
            runner.line(command, expect=expect_contains(r"^ready"))
        elif bare.startswith("curl ") and "/metrics" in bare:
            runner.line(command, expect=expect_contains(r"^paybridge_callbacks_total"))
        elif re.match(r"docker compose exec \S+ paybridge-probe /metrics", bare):
            # The walkthrough's two commands were answered by this worker.
            runner.line(command, expect=expect_contains(r"^paybridge_commands_total\{.*outcome=\"response\"\} [1-9]"))
        elif "dead-letters list" in bare:
            runner.line(command, timeout=120)
        elif re.match(r"docker compose up\b", bare):
            passed, _ = runner.line(command)
            if passed:
                runner.wait_healthy("docker compose ps  # wait until all say healthy")
        elif re.match(r"docker compose down\b", bare):
            continue  # the last step, below
        else:
            runner.line(command)

    for address in readme.urls(section):
        if ":15672" in address:
            status, body = http_get(address.rstrip("/") + "/api/whoami", "developer")
            report.check(status == 200 and '"developer"' in body,
                         f"{address}: the management API answers developer / developer ({body.strip()[:60]})",
                         f"{address}: /api/whoami as developer answered {status} {body[:200]!r}")
        else:
            status, body = http_get(address)
            ids = sorted(set(re.findall(r"(?:order|fp)-[0-9]{10}", body)))
            report.check(status == 200 and len(ids) >= 2,
                         f"{address}: 200, the walkthrough's payments in it ({', '.join(ids)})",
                         f"{address}: answered {status}, payments {ids} {body[:300]!r}")
    for user in readme.broker_users(section):
        report.check(can_log_in(url(shell.amqp_port, user)),
                     f"from the host: {user} logs in to the broker on 127.0.0.1:{shell.amqp_port} "
                     f"(the README's URL{'' if shell.amqp_port == 5672 else ' with RABBITMQ_PORT'})",
                     f"from the host: {user} cannot log in on 127.0.0.1:{shell.amqp_port}")

    report.section("`docker compose down -v`")
    if report.failed:
        stack.print_logs(stack.containers(all_states=True))
        stack.print_network_probe(stack.containers(all_states=True))
    status, output, took = shell.run("docker compose down -v", runner.cwd, timeout=180)
    left = stack.containers(all_states=True)
    _, volumes, _ = stack.podman("volume", "ls", "--filter", stack.LABEL, "--format", "{{.Name}}")
    report.check(status == 0 and not left and not volumes.strip(),
                 f"`docker compose down -v` ({took:.0f} s): no container or volume of the project is left",
                 f"`docker compose down -v`: exit {status}; left: containers {left}, volumes {volumes.split()}")
