"""What `make image-check` checks once the containers run: health, the broker roles, one command of each kind and
the callbacks, then a worker stopped with SIGTERM in the middle of a load."""
import json
import time

from examplestest.services import http

from . import commands
from checkkit.amqp import Publisher, ready_messages, refused_publish

RESPONSE = "paybridge.payment.response.v1"
CALLBACK = "paybridge.payment.callback.v1"
FAILED = "paybridge.command.failed.v1"
COMMAND_QUEUES = ("payments.amanpay", "payments.firstpay")
RETRY_QUEUES = tuple(f"payments.retry.{p}.{n}" for p in ("amanpay", "firstpay") for n in range(1, 6))


def outcomes(events, command_id):
    """The events that answer command `command_id` (AMQP correlation_id = command id)."""
    return [e for e in events if e.correlation_id == command_id and e.type in (RESPONSE, FAILED)]


def check_health(stack, report, names, deadline_s=90):
    for name in names:
        healthy = stack.pod.wait_healthy(name, deadline_s)
        status = stack.pod.health_status(name)
        report.check(healthy and status == "healthy", f"{name}: health status {status} (podman healthcheck run)",
                     f"{name}: health status {status!r} after {deadline_s} s, not healthy")


def check_containers(stack, report):
    """PayBridge's containers: the image's user, ready, and the broker password only in the secret file."""
    for name in ("worker", "callbacks"):
        _, uid = stack.pod.exec(name, "id", "-u")
        report.check(uid.strip() == "10001", f"{name}: runs as uid 10001", f"{name}: runs as uid {uid.strip()!r}")
        status, body = stack.pod.exec(name, "paybridge-probe", "/readyz")
        report.check(status == 0, f"{name}: /readyz answers {body.strip()!r}",
                     f"{name}: /readyz failed ({status}): {body.strip()[:300]!r}")
    # PID 1 is paybridge itself (the image's entrypoint); field 41 of a thread's stat is its policy (3 = SCHED_BATCH).
    _, stats = stack.pod.exec("worker", "sh", "-c", "cat /proc/1/task/*/stat")
    policies = [line.rsplit(")", 1)[1].split()[38] for line in stats.splitlines() if ")" in line]
    report.check(len(policies) >= 4 and set(policies) == {"3"},
                 f"worker: all {len(policies)} threads run under SCHED_BATCH (PAYBRIDGE_CPU_SCHEDULING's worker default; "
                 "the container's seccomp profile allows it)", f"worker: thread policies {policies}")
    _, env = stack.pod.exec("worker", "env")
    leaked = [line.split("=", 1)[0] for line in env.splitlines() if "paybridge:paybridge@" in line or "s3cr3t" in line]
    report.check(not leaked and "PAYBRIDGE_AMQP_URL_FILE=/run/secrets/amqp_url" in env,
                 "worker: secrets come from files (PAYBRIDGE_AMQP_URL_FILE, AMANPAY_SECRET_KEY_FILE, FirstPay key "
                 "files); none is in its environment", f"worker: secrets in its environment: {leaked}")


def check_roles(stack, report):
    refused = refused_publish(stack.url("payments-producer"), "payments.outcomes", "amanpay.purchase.response")
    report.check(refused, "payments-producer may not publish to payments.outcomes (403)",
                 "payments-producer could publish to payments.outcomes: the roles are not least-privilege")


def send_and_wait(publisher, collector, report, entry, deadline_s=30):
    """Publishes one command and waits for its outcome event; returns the event (None after reporting a FAIL)."""
    kind, document = entry
    publisher.publish(kind, document)
    found = collector.wait_for(lambda events: outcomes(events, document["id"]), deadline_s)
    if not found:
        report.fail(f"{kind}: no outcome event for command {document['id']} within {deadline_s} s")
        return None
    event = found[0]
    report.check(event.type == RESPONSE, f"{kind}: {event!r}",
                 f"{kind}: {event!r} ({json.dumps(event.data.get('error'))})")
    return event


def fault(stack, body):
    status, text = http("POST", f"{stack.sandbox}/_sandbox/faults", body=body)
    if status != 200:
        raise RuntimeError(f"the sandbox refused fault {body}: {status} {text}")


def check_commands(stack, collector, report, run):
    """One command of each kind, each waited for, as scripts/demo.sh sends them. The creates' payments then
    complete in the sandox, which sends their callbacks to `callbacks`; the worker confirms each with a status
    read and publishes payment.callback.v1 with the status it read."""
    publisher = Publisher(stack.url("payments-producer"))
    try:
        send_and_wait(publisher, collector, report, commands.amanpay_purchase(f"{run}-1", f"order-{run}"))
        send_and_wait(publisher, collector, report, commands.amanpay_payout(f"{run}-2", f"payout-{run}"))
        send_and_wait(publisher, collector, report, commands.amanpay_status(f"{run}-3", f"order-{run}"))
        # The OTP flow: the purchase answers SPECIFICATION; its event carries what amanpay.specify needs.
        fault(stack, {"provider": "amanpay", "operation": "purchase", "paymentId": f"otp-{run}",
                      "initialStatus": "SPECIFICATION", "outcome": "SUCCESS"})
        otp = send_and_wait(publisher, collector, report, commands.amanpay_purchase(f"{run}-4", f"otp-{run}"))
        if otp:
            send_and_wait(publisher, collector, report, commands.amanpay_specify(
                f"{run}-5", f"otp-{run}", otp.data.get("providerPaymentId"), otp.data.get("providerOperationId")))
        # The SMS flow: the pay-in waits for its SMS code.
        fault(stack, {"provider": "firstpay", "operation": "pay_in", "paymentId": f"fp-{run}", "requireSMS": True})
        payin = send_and_wait(publisher, collector, report, commands.firstpay_pay_in(f"{run}-6", f"fp-{run}"))
        if payin:
            send_and_wait(publisher, collector, report,
                          commands.firstpay_sms(f"{run}-7", payin.data.get("providerPaymentId")))
        send_and_wait(publisher, collector, report, commands.firstpay_pay_out(f"{run}-8", f"fpo-{run}"))
        send_and_wait(publisher, collector, report, commands.firstpay_status(f"{run}-9", f"fp-{run}"))
    finally:
        publisher.close()
    # Every create's payment succeeds in the sandbox; its callback must come through `callbacks` and the worker.
    payments = [f"order-{run}", f"payout-{run}", f"otp-{run}", f"fp-{run}", f"fpo-{run}"]

    def succeeded(events):
        return {e.data.get("paymentId") for e in events if e.type == CALLBACK and e.data.get("status") == "succeeded"}

    collector.wait_for(lambda events: set(payments) <= succeeded(events), 30)
    done = succeeded(collector.snapshot())
    for payment in payments:
        report.check(payment in done, f"callback: {payment} succeeded (sandbox -> callbacks -> worker's status read)",
                     f"callback: no payment.callback.v1 'succeeded' for {payment} within 30 s")
    ids = [f"{run}-{n}" for n in range(1, 10)]
    events = collector.snapshot()
    extra = {i: len(outcomes(events, i)) for i in ids if len(outcomes(events, i)) != 1}
    report.check(not extra, "each of the 9 commands has exactly one outcome event",
                 f"commands without exactly one outcome event: {extra}")
    failed = [e for e in events if e.type == FAILED]
    report.check(not failed, "no command.failed event", f"command.failed events: {failed}")


def check_drain(stack, collector, report, run, count, stop_after):
    """`count` commands, the sandbox answering each after 300 ms without callbacks; once `stop_after` are done,
    `podman stop -t 60 worker` (SIGTERM). No command lost means, precisely:
      1. the worker exits 0 before the grace period ends (it drained, it was not killed);
      2. when it has exited, every command either has its outcome event or waits, ready, in its queue: the events
         and the ready messages add up to `count`, and nothing is in payments.dead or a retry queue;
      3. a second worker then finishes the rest, and every one of the `count` command ids has exactly one outcome
         event, a payment.response.v1 (a duplicate is allowed only after a crash, and a drain is not one).
    `stop_after` < `count` and a non-empty queue after the exit show the stop came mid-load."""
    fault(stack, {"latencyMs": 300, "notify": False})
    ids = [f"{run}-load-{n}" for n in range(count)]
    publisher = Publisher(stack.url("payments-producer"))
    try:
        for n, command_id in enumerate(ids):
            maker = commands.amanpay_purchase if n % 2 == 0 else commands.firstpay_pay_in
            publisher.publish(*maker(command_id, f"load-{run}-{n}"))
    finally:
        publisher.close()
    report.info(f"published {count} commands (amanpay.purchase and firstpay.pay_in, alternately)")

    def answered(events):
        return {e.correlation_id for e in events if e.type in (RESPONSE, FAILED)} & set(ids)

    collector.wait_for(lambda events: len(answered(events)) >= stop_after, 60)
    at_stop = len(answered(collector.snapshot()))
    exit_code, took = stack.pod.stop("worker", 60)
    report.check(exit_code == 0 and took < 55, f"worker: SIGTERM after {at_stop} of {count} commands; it exited 0 "
                 f"in {took:.1f} s", f"worker: exit code {exit_code} after {took:.1f} s (60 s grace)")

    queues = COMMAND_QUEUES + RETRY_QUEUES + ("payments.dead",)

    def accounted():
        ready = ready_messages(stack.url("paybridge"), queues)
        return len(answered(collector.snapshot())), ready

    deadline = time.monotonic() + 10
    done, ready = accounted()
    while done + sum(ready[q] for q in COMMAND_QUEUES) != count and time.monotonic() < deadline:
        time.sleep(0.5)
        done, ready = accounted()
    waiting = sum(ready[q] for q in COMMAND_QUEUES)
    parked = {q: n for q, n in ready.items() if q not in COMMAND_QUEUES and n}
    report.check(done + waiting == count and not parked,
                 f"after the stop: {done} answered + {waiting} waiting in their queues = {count}; none dead-lettered "
                 f"or parked for retry", f"after the stop: {done} answered + {waiting} waiting != {count}, "
                 f"elsewhere: {parked}")
    report.check(0 < done < count and waiting > 0, f"the stop came mid-load ({waiting} commands not yet taken)",
                 f"the stop did not come mid-load ({done} of {count} answered): raise the load")

    stack.start_paybridge("worker-2", "worker")
    collector.wait_for(lambda events: len(answered(events)) == count, 120)
    time.sleep(2)  # a duplicate, if any, would arrive now
    events = collector.snapshot()
    counts = {i: len(outcomes(events, i)) for i in ids}
    wrong = {i: n for i, n in counts.items() if n != 1}
    responses = sum(1 for i in ids for e in outcomes(events, i) if e.type == RESPONSE)
    report.check(not wrong and responses == count,
                 f"a second worker finished the rest: each of the {count} commands has exactly one outcome event "
                 f"(payment.response.v1)", f"commands without exactly one outcome: "
                 f"{dict(list(wrong.items())[:10])} ({len(wrong)} in all); responses {responses} of {count}")
    ready = ready_messages(stack.url("paybridge"), queues)
    report.check(not any(ready.values()), "the command, retry and dead-letter queues are empty",
                 f"messages left: { {q: n for q, n in ready.items() if n} }")
