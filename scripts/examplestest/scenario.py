"""The steps one reference client goes through (examples/README.md's command line), each reported PASS/FAIL."""
import os
import time

from .report import tail

# The sandbox's provider status -> PayBridge's unified status; FINAL_PROVIDER: the sandbox's final statuses.
UNIFIED = {"amanpay": {"SUCCESS": "succeeded", "FAILED": "failed", "CANCELLED": "cancelled", "PENDING": "processing",
                       "REDIRECT": "requires_action", "SPECIFICATION": "requires_action"},
           "firstpay": {"SUCCESS": "succeeded", "FAILED": "failed", "PENDING": "processing",
                        "NEED_CHECK": "under_review"}}
FINAL_PROVIDER = {"amanpay": {"SUCCESS", "FAILED", "CANCELLED"}, "firstpay": {"SUCCESS", "FAILED"}}
DEADLINE = float(os.environ.get("EXAMPLES_DEADLINE", "60"))  # seconds per awaited outcome
READY_DEADLINE = float(os.environ.get("EXAMPLES_READY_DEADLINE", "600"))  # the first `run consume` may build
POLL = 0.3


def poll(probe, deadline_s=DEADLINE):
    """Calls probe() until it returns (True, seen) or the deadline passes; returns (done, last seen)."""
    deadline, seen = time.monotonic() + deadline_s, None
    while True:
        done, seen = probe()
        if done or time.monotonic() >= deadline:
            return done, seen
        time.sleep(POLL)


def run_language(client, stack, report, prefix, with_payin):
    """Every step for one client; the consumer is stopped at the end even when a step failed."""
    client.start_consumer()
    try:
        ready, lines = client.wait_ready(READY_DEADLINE)
        if not report.check(ready, f"{client.language}: `run consume` printed ready",
                            f"{client.language}: `run consume` printed no \"ready\" within {READY_DEADLINE:.0f} s "
                            f"(stdout: {lines[-5:]!r})\n{tail(client.consumer_log)}"):
            return
        orders = steps(client, stack, report, prefix, with_payin)
    finally:
        status = client.stop_consumer(30)
    report.check(status == 0, f"{client.language}: the consumer exited 0 on SIGTERM",
                 f"{client.language}: the consumer exited {status} on SIGTERM (expected 0 within 30 s)\n"
                 f"{tail(client.consumer_log)}")
    inbox_checks(client, report, orders)


def steps(client, stack, report, prefix, with_payin):
    lang = client.language
    orders = {"purchase": (f"{prefix}-purchase", "amanpay", "250.50"),
              "failing": (f"{prefix}-failing", "amanpay", "99.00")}
    if with_payin:
        orders["payin"] = (f"{prefix}-payin", "firstpay", "500.00")
    for kind in ("purchase", "payin", "failing"):
        if kind in orders:
            order, _, amount = orders[kind]
            code, out, err = client.run("place", kind, order, amount)
            report.check(code == 0, f"{lang}: place {kind} {order} {amount}",
                         f"{lang}: `run place {kind} {order} {amount}` exited {code} (expected 0): "
                         f"{(err or out).strip()[-600:]}")
    code, out, err = client.run("relay")
    sent = {line.split()[1] for line in out.splitlines() if line.startswith("sent ") and len(line.split()) == 2}
    report.check(code == 0 and len(sent) == len(orders), f"{lang}: relay exited 0, sent {len(sent)} rows",
                 f"{lang}: relay exited {code} and printed {len(sent)} sent lines (expected 0 and {len(orders)}): "
                 f"{(out + err).strip()[-600:]}")
    for kind in ("purchase", "payin"):
        if kind in orders:
            order, provider, _ = orders[kind]
            projection_matches_sandbox(client, stack, report, order, provider)
    failing_order(client, stack, report, orders["failing"][0])
    if with_payin:
        correction(client, stack, report, orders["payin"][0])
    return [order for order, _, _ in orders.values()]


def projection_matches_sandbox(client, stack, report, order, provider, expect_provider=None):
    """Waits for the sandbox's final status for `order` (or `expect_provider`), then for the client's projection
    to say the same unified status, final."""
    def sandbox():
        payment = stack.sandbox_payment(provider, order)
        status = payment.get("status") if payment else None
        wanted = status == expect_provider if expect_provider else status in FINAL_PROVIDER[provider]
        return wanted, status
    final, provider_status = poll(sandbox)
    expected = f"{expect_provider}" if expect_provider else f"final ({'/'.join(sorted(FINAL_PROVIDER[provider]))})"
    if not report.check(final, f"{client.language}: sandbox {provider} payment {order} is {provider_status}",
                        f"{client.language}: sandbox {provider} payment {order}: expected {expected} within "
                        f"{DEADLINE:.0f} s, saw {provider_status}"):
        return
    unified = UNIFIED[provider][provider_status]

    def projected():
        status = client.status(order)
        return isinstance(status, dict) and status.get("status") == unified and status.get("final") is True, status
    matched, seen = poll(projected)
    report.check(matched, f"{client.language}: status {order} = {unified}, final (sandbox {provider_status})",
                 f"{client.language}: status {order}: expected status {unified!r}, final true (sandbox says "
                 f"{provider_status}) within {DEADLINE:.0f} s, saw {seen}\n{tail(client.consumer_log, 15)}")


def failing_order(client, stack, report, order):
    def failed():
        status = client.status(order)
        return isinstance(status, dict) and status.get("lastError") == "UNKNOWN_ACCOUNT", status
    done, seen = poll(failed)
    report.check(done and seen.get("status") is None and seen.get("final") is False,
                 f"{client.language}: status {order}: status null, lastError UNKNOWN_ACCOUNT",
                 f"{client.language}: status {order}: expected status null, final false, lastError UNKNOWN_ACCOUNT "
                 f"within {DEADLINE:.0f} s, saw {seen}\n{tail(client.consumer_log, 15)}")
    payment = stack.sandbox_payment("amanpay", order)
    report.check(payment is None, f"{client.language}: the sandbox has no payment {order}",
                 f"{client.language}: the sandbox has a payment {order} (expected none: PayBridge has no account "
                 f"nosuch): {payment}")


def correction(client, stack, report, order):
    """FirstPay corrects SUCCESS -> FAILED: the sandbox flips the payment and posts back."""
    code, body = stack.flip(order)
    if report.check(code == 200, f"{client.language}: POST /_sandbox/firstpay/{order}/flip",
                    f"{client.language}: POST /_sandbox/firstpay/{order}/flip answered {code} {body[:200]}"):
        projection_matches_sandbox(client, stack, report, order, "firstpay", expect_provider="FAILED")


def inbox_checks(client, report, orders):
    for order in orders:
        status = client.status(order)
        events = status.get("events") if isinstance(status, dict) else None
        report.check(isinstance(events, int) and events >= 1, f"{client.language}: status {order}: events {events}",
                     f"{client.language}: status {order}: expected events >= 1, saw {status}")
    code, out, err = client.run("relay")
    sent = [line for line in out.splitlines() if line.startswith("sent ")]
    report.check(code == 0 and not sent, f"{client.language}: relay again: nothing unsent",
                 f"{client.language}: relay again exited {code} and printed {sent} (expected 0 and no sent line): "
                 f"{err.strip()[-300:]}")
