"""deploy/README.md, "Rolling update of the workers", run as written under load, and what "without loss" means
here, precisely:
  1. every one of the LOAD commands (published as payments-producer, each confirmed by the broker) has an outcome
     event on payments.outcomes (AMQP correlation_id = command id; payment.response.v1 or command.failed.v1 without
     data.reconciliation), and all of a command's outcome events carry ONE event id. The same event delivered
     twice (same id) is the one duplicate the contract documents for a redelivered command (docs/contract.md,
     "Event ids"; docs/integration.md, "De-duplication"): counted and reported, allowed. Two different ids for one
     command fail. Reconciliation responses (data.reconciliation: a later status check of a create left open,
     its own fact with its own id) are not outcomes of the command; they are counted apart;
  2. every outcome is payment.response.v1 (the sandbox answers every command; no command.failed);
  3. afterwards the command queues, the retry queues and payments.dead hold nothing;
  4. each old worker, stopped with `docker stop -t 60` while the load ran, exited 0 before the grace period ended
     (drained: not killed) and logged "drained"; the new workers run paybridge:next and answered commands."""
import json
import re
import tempfile
import threading
import time
import urllib.request

from . import readme, stack
from checkkit.amqp import EventCollector, Publisher, ready_messages

from .amqp import url
from .walkthrough import Runner, default_services, indented

RESPONSE = "paybridge.payment.response.v1"
FAILED = "paybridge.command.failed.v1"
CALLBACK = "paybridge.payment.callback.v1"
COMMAND_QUEUES = ("payments.amanpay", "payments.firstpay")
RETRY_QUEUES = tuple(f"payments.retry.{p}.{n}" for p in ("amanpay", "firstpay") for n in range(1, 6))
RECONCILE_QUEUES = tuple(f"payments.reconcile.{p}.{d}" for p in ("amanpay", "firstpay")
                         for d in ("1m", "5m", "15m", "1h", "6h", "1d"))
ROLL_TIMEOUT_S = 420
OLD = re.compile(rf"{stack.PROJECT}-worker-\d+")


def command(n, run):
    """Command n: amanpay.purchase and firstpay.pay_in alternately (the data of deploy/examples)."""
    command_id, payment_id = f"{run}-{n}", f"{run}-{n}"
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    if n % 2 == 0:
        kind, data = "amanpay.purchase", {
            "paymentId": payment_id, "amount": "250.50", "currency": "BDT", "customerEmail": "amina@example.com",
            "paymentMethod": "bkash", "bkashNumber": "01712345678"}
    else:
        kind, data = "firstpay.pay_in", {
            "accountId": 12, "paymentMethodId": "bkash-p2c", "amount": "500.00",
            "clientFieldsValues": [{"key": "phone", "value": "01712345678"}], "merchantPaymentId": payment_id}
    return kind, {"specversion": "1.0", "id": command_id, "type": f"paybridge.{kind}.v1",
                  "source": "/compose-check", "time": stamp, "datacontenttype": "application/json", "data": data}


class Load(threading.Thread):
    """Publishes `count` commands at `rate` a second, each confirmed; `published` is a list of (time, n)."""

    def __init__(self, amqp_url, run, count, rate):
        super().__init__(name="load", daemon=True)
        self.amqp_url, self.run_id, self.count, self.rate = amqp_url, run, count, rate
        self.published = []
        self.error = None
        self.started = None

    def run(self):
        try:
            publisher = Publisher(self.amqp_url)
            try:
                self.started = time.monotonic()
                for n in range(self.count):
                    delay = self.started + n / self.rate - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
                    publisher.publish(*command(n, self.run_id))
                    self.published.append((time.time(), n + 1))
            finally:
                publisher.close()
        except Exception as error:  # reported by the check
            self.error = f"{type(error).__name__}: {error}"

    def published_at(self, when):
        return max((n for t, n in self.published if t <= when), default=0)


def outcomes(events, ids):
    """{command id: [outcome events]} (reconciliation responses excluded)."""
    found = {i: [] for i in ids}
    for e in events:
        if e.correlation_id in found and e.type in (RESPONSE, FAILED) and "reconciliation" not in e.data:
            found[e.correlation_id].append(e)
    return found


def metric_sum(text, name, outcome=None):
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            if outcome and f'outcome="{outcome}"' not in line:
                continue
            total += float(line.rsplit(" ", 1)[1])
    return total


def read_stop_log(path):
    entries = {}
    with open(path) as f:
        for line in f:
            entry = json.loads(line)
            entries.setdefault(entry["container"], {})[entry["event"]] = entry
    return entries


def run(shell, report, root, settings):
    text = (root / "deploy/README.md").read_text()
    section = readme.section(text, readme.ROLLING)
    blocks = readme.sh_blocks(section)
    runner = Runner(shell, report, default_services(root))
    report.section(f"README, \"{readme.ROLLING}\": the two workers")
    if len(blocks) != 1:
        report.fail(f"expected one sh block in \"{readme.ROLLING}\", found {len(blocks)}")
        return
    block = blocks[0]
    wait = next((i for i, c in enumerate(block) if re.match(r"docker compose ps\b", readme.without_comment(c))
                 and "wait until" in readme.comment(c)), None)
    if wait is None:
        report.fail("the block has no `docker compose ps  # wait until …` line to start the load after")
        return
    for line in block[:wait + 1]:
        passed, _ = runner.line(line)
        if not passed:
            return
    old = sorted(c for c in stack.containers() if OLD.fullmatch(c))
    images = {c: stack.inspect(c, "{{.ImageName}}") for c in old}
    report.check(len(old) == 2, "two workers: " + ", ".join(f"{c} ({images[c]})" for c in old),
                 f"workers running: {old}, expected two")

    report.section(f"load: {settings['load']} commands at {settings['rate']}/s; the rest of the block meanwhile")
    run_id = f"rl{time.strftime('%H%M%S')}"
    ids = [f"{run_id}-{n}" for n in range(settings["load"])]
    collector = EventCollector(url(shell.amqp_port, "payments-consumer"), f"consumer.compose-check-{run_id}")
    collector.start()
    try:
        body = json.dumps({"latencyMs": settings["latency_ms"]}).encode()
        request = urllib.request.Request("http://127.0.0.1:8089/_sandbox/faults", data=body, method="POST",
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            report.info(f"sandbox: every answer {settings['latency_ms']} ms late (POST /_sandbox/faults: "
                        f"{response.status}), so that workers hold commands when they are stopped")
        load = Load(url(shell.amqp_port, "payments-producer"), run_id, settings["load"], settings["rate"])
        load.start()
        head_start = min(settings["load"] // 5, 200)
        while load.is_alive() and len(load.published) < head_start:
            time.sleep(0.2)
        report.info(f"{len(load.published)} published; running the rest of the block:")
        for line in block[wait + 1:]:
            print(f"   $ {line}", flush=True)
        with tempfile.NamedTemporaryFile("r", prefix="compose-check-stops-", suffix=".jsonl") as stops:
            status, output, took = shell.run("set -e\n" + "\n".join(block[wait + 1:]), runner.cwd,
                                             timeout=ROLL_TIMEOUT_S,
                                             extra_env={"COMPOSE_CHECK_STOP_LOG": stops.name})
            report.check(status == 0, f"the block ran to its end in {took:.0f} s (exit 0)",
                         f"the block failed: exit {status} after {took:.0f} s")
            print(indented(output, 40), flush=True)
            stopped = read_stop_log(stops.name)
        load.join(settings["load"] / settings["rate"] + 120)
        report.check(load.error is None and len(load.published) == settings["load"],
                     f"all {settings['load']} commands published and confirmed by the broker "
                     f"({time.monotonic() - load.started:.0f} s)",
                     f"published {len(load.published)} of {settings['load']}: {load.error}")

        check_stops(report, old, stopped, load, collector, ids)

        def all_answered(events):
            found = outcomes(events, ids)
            return all(found.values())

        collector.wait_for(all_answered, 180)
        time.sleep(5)  # a duplicate, if any, would arrive now
        check_outcomes(report, collector.snapshot(), ids)
        check_queues(report, shell)
        check_new_workers(report)
    finally:
        collector.stop()


def check_stops(report, old, stopped, load, collector, ids):
    report.section("the old workers: stopped with SIGTERM under load")
    for name in old:
        before, after = stopped.get(name, {}).get("before"), stopped.get(name, {}).get("after")
        if not before or not after:
            report.fail(f"{name}: the block did not `docker stop` it")
            continue
        state = after["state"]
        took = after["time"] - after["started"]
        in_flight = metric_sum(before["metrics"], "paybridge_commands_in_flight")
        answered_by_it = metric_sum(before["metrics"], "paybridge_commands_total", "response")
        published = load.published_at(before["time"])
        answered = sum(1 for i, found in outcomes(
            [e for e in collector.snapshot() if e.received <= before["time"]], ids).items() if found)
        report.check(state.get("Status") == "exited" and state.get("ExitCode") == 0 and took < 60,
                     f"{name}: exit 0 in {took:.1f} s of its 60 s grace",
                     f"{name}: status {state.get('Status')}, exit {state.get('ExitCode')} after {took:.1f} s "
                     "(137: SIGKILL, the grace period ran out)")
        report.check(in_flight > 0 and published > answered,
                     f"{name}: stopped mid-load: {in_flight:.0f} commands in flight in it just before "
                     f"(paybridge_commands_in_flight), {answered_by_it:.0f} answered by it until then; "
                     f"{published} of {load.count} published, {published - answered} not yet answered",
                     f"{name}: not stopped mid-load: {in_flight:.0f} in flight in it just before, {published} of "
                     f"{load.count} published, {published - answered} unanswered")
        log = stack.logs(name, 400)
        report.check("drained" in log and "PayBridge stopped" in log,
                     f"{name}: logged \"drained\" and \"PayBridge stopped\"",
                     f"{name}: no \"drained\" / \"PayBridge stopped\" in its log")


def check_outcomes(report, events, ids):
    report.section("every command: exactly one outcome")
    found = outcomes(events, ids)
    missing = [i for i, e in found.items() if not e]
    several = {i: sorted({e.id for e in evs}) for i, evs in found.items() if len({e.id for e in evs}) > 1}
    repeated = {i: len(evs) for i, evs in found.items() if evs and len(evs) > len({e.id for e in evs})}
    deliveries = sum(len(e) for e in found.values())
    report.check(not missing, f"all {len(ids)} commands have an outcome event",
                 f"{len(missing)} commands have no outcome event: {missing[:10]}")
    report.check(not several, f"one event id per command ({deliveries} outcome deliveries for {len(ids)} commands; "
                 f"{len(repeated)} commands' event delivered more than once with the same id, as the contract "
                 f"allows for a redelivered command)",
                 f"{len(several)} commands have outcome events with different ids: "
                 f"{dict(list(several.items())[:5])}")
    failed = [e for evs in found.values() for e in evs if e.type != RESPONSE]
    report.check(not failed, f"every outcome is {RESPONSE}",
                 f"{len(failed)} outcomes are not {RESPONSE}: {failed[:5]}")
    idset = set(ids)
    reconciliation = [e for e in events if e.correlation_id in idset and "reconciliation" in e.data]
    payments = {e.data.get("paymentId") for e in events if e.type == CALLBACK}
    report.info(f"also seen: {len(reconciliation)} reconciliation responses (a status check of a create left open, "
                f"a fact of its own), callbacks for {len(payments & idset)} of the {len(ids)} payments")


def check_queues(report, shell):
    ready = ready_messages(url(shell.amqp_port, "paybridge"), COMMAND_QUEUES + RETRY_QUEUES + ("payments.dead",)
                           + RECONCILE_QUEUES)
    left = {q: n for q, n in ready.items() if n and q not in RECONCILE_QUEUES}
    checks = sum(n for q, n in ready.items() if q in RECONCILE_QUEUES)
    report.check(not left, f"command, retry and dead-letter queues are empty ({checks} reconciliation checks wait "
                 "in payments.reconcile.*, as they should)", f"messages left: {left}")


def check_new_workers(report):
    report.section("the new workers")
    new = sorted(c for c in stack.containers() if c.startswith(f"{stack.PROJECT}-worker-") and not OLD.fullmatch(c))
    report.check(len(new) == 2, f"two new workers: {', '.join(new)}", f"new workers running: {new}, expected two")
    for name in new:
        image = stack.inspect(name, "{{.ImageName}}") or ""
        health = stack.inspect(name, "{{.State.Health.Status}}")
        _, metrics, _ = stack.podman("exec", name, "paybridge-probe", "/metrics")
        answered = metric_sum(metrics, "paybridge_commands_total", "response")
        report.check(image.endswith(":next") and health == "healthy" and answered > 0,
                     f"{name}: {image}, {health}, {answered:.0f} commands answered",
                     f"{name}: image {image}, health {health}, {answered:.0f} commands answered")
