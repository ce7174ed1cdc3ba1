"""The compose checks: preconditions, the health ticker, the walkthrough and/or the rolling update, and the teardown
(also on failure, after the containers' logs)."""
import os
import signal
import time

from examplestest.report import Report

from . import rolling, stack, walkthrough
from .venv import VENV

NEXT_IMAGE = "localhost/paybridge:next"


def amqp_port():
    if os.environ.get("RABBITMQ_PORT"):
        return int(os.environ["RABBITMQ_PORT"])
    return 5682 if stack.port_taken(5672) else 5672


def preconditions(report, port):
    report.section("preconditions")
    ok = True
    for image in (stack.PAYBRIDGE_IMAGE, stack.RABBITMQ_IMAGE):
        found = stack.image_id(image)
        ok &= report.check(found is not None, f"{image} exists ({(found or '')[:12]})",
                           f"{image} does not exist: build the images first (bash scripts/images.sh, as root)")
    busy = [f"{p} ({what})" for p, what in {port: "AMQP", **stack.FIXED_PORTS}.items() if stack.port_taken(p)]
    ok &= report.check(not busy, f"127.0.0.1 ports free: AMQP {port}, {', '.join(map(str, stack.FIXED_PORTS))}",
                       f"127.0.0.1 ports taken: {', '.join(busy)} (compose.yaml publishes them; RABBITMQ_PORT "
                       "moves the AMQP one)")
    if port != 5672:
        report.info(f"127.0.0.1:5672 is taken (a broker on the host): RABBITMQ_PORT={port} for compose.yaml")
    return ok


def main(description, root, argv):
    mode = argv[0] if argv else "all"
    if mode not in ("walkthrough", "rolling", "all"):
        print("usage: compose-check.py walkthrough|rolling|all")
        return 2
    name = {"walkthrough": "compose-check", "rolling": "rolling-update-check"}.get(mode, "compose-check")
    report = Report(name)
    print(description, flush=True)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(SystemExit(143)))
    if os.geteuid() != 0:
        report.error("podman runs the images as root here: run as root")
        return report.close()
    port = amqp_port()
    if not preconditions(report, port):
        return report.close()
    shell = stack.Shell(root, root / VENV, port)
    ticker = stack.HealthTicker()
    next_made = False
    started = time.monotonic()
    try:
        # Whatever an interrupted earlier run left (the project's containers and volume only).
        shell.compose_down()
        ticker.start()
        if mode in ("walkthrough", "all"):
            walkthrough.run(shell, report, root)
            if mode == "all":
                shell.compose_down()
        if mode in ("rolling", "all"):
            existing = stack.image_id(NEXT_IMAGE)
            if existing and existing != stack.image_id(stack.PAYBRIDGE_IMAGE):
                report.error(f"{NEXT_IMAGE} exists and is another image than {stack.PAYBRIDGE_IMAGE}: the README's "
                             "`docker tag paybridge:dev paybridge:next` would replace it; remove it first")
            else:
                next_made = existing is None
                rolling.run(shell, report, root, {
                    "load": int(os.environ.get("COMPOSE_CHECK_LOAD", "1000")),
                    "rate": float(os.environ.get("COMPOSE_CHECK_RATE", "20")),
                    "latency_ms": int(os.environ.get("COMPOSE_CHECK_LATENCY_MS", "1000"))})
    except Exception as error:  # a broken step is a failure with its reason, then the teardown
        report.error(f"{type(error).__name__}: {error}")
    finally:
        if report.failed:  # what is still there (the walkthrough printed its logs before its own `down -v`)
            stack.print_logs(stack.containers(all_states=True))
            stack.print_network_probe(stack.containers(all_states=True))
        report.section("teardown")
        ticker.stop()
        status, output, leftovers = shell.compose_down()
        report.info(f"docker compose down -v: exit {status}" + (f"; removed what it left: {leftovers}"
                                                                 if leftovers else ""))
        if next_made and stack.image_id(NEXT_IMAGE):
            stack.podman("untag", NEXT_IMAGE, NEXT_IMAGE)  # only that name: dev is the same image
            report.info(f"removed the tag {NEXT_IMAGE} (made by the README's `docker tag`)")
        report.info(f"health checks run by the ticker: {ticker.runs}; took {time.monotonic() - started:.0f} s")
    return report.close()
