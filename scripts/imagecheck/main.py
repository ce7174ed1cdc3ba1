"""Runs the images scripts/images.sh built as separate containers on one podman network and checks them; removes
every container, the network and the secrets at the end, even on failure (printing the containers' logs then)."""
import json
import os
import secrets
import signal
import time

import pika
from examplestest.report import Report

from . import scenario
from checkkit.amqp import EventCollector, can_log_in
from .podman import PodmanError, podman
from .stack import Stack

ROLES = ("paybridge", "payments-producer", "payments-consumer")


def setting(name, default):
    return os.environ.get(name, default)


def check_image(report, image, user, health):
    """The image exists, runs as `user` (None: any) and its health check runs `health`."""
    status, out = podman("image", "inspect", "--format", "{{json .}}", image, check=False)
    if status != 0:
        report.error(f"{image} does not exist: run `bash scripts/images.sh` (make image-check does)")
        return False
    info = json.loads(out)
    info = info[0] if isinstance(info, list) else info
    actual_user = (info.get("Config") or {}).get("User", "")
    actual_health = " ".join((info.get("Healthcheck") or {}).get("Test") or [])
    report.info(f"{image}: {info.get('Size', 0) / 1e6:.0f} MB")
    if user:
        report.check(actual_user == user, f"{image}: runs as user {actual_user}",
                     f"{image}: runs as user {actual_user!r}, not {user}")
    return report.check(health in actual_health, f"{image}: health check {actual_health!r}",
                        f"{image}: no health check running {health!r} (built without --format docker?)")


def wait_for_broker(stack, report, deadline_s=120):
    started = time.monotonic()
    while time.monotonic() - started < deadline_s:
        if stack.pod.state("rabbitmq").get("Status") != "running":
            break
        if can_log_in(stack.url(ROLES[0])):
            break
        time.sleep(1)
    missing = [user for user in ROLES if not can_log_in(stack.url(user))]
    return report.check(not missing, f"broker up in {time.monotonic() - started:.0f} s; the roles of "
                        f"rabbitmq-definitions.json log in ({', '.join(ROLES)})",
                        f"broker: {', '.join(missing)} cannot log in after {time.monotonic() - started:.0f} s")


def terminate(signum, _frame):
    raise SystemExit(128 + signum)


def main(description, root):
    tag = setting("IMAGE_TAG", "dev")
    paybridge_image, rabbitmq_image = f"localhost/paybridge:{tag}", "localhost/paybridge-rabbitmq:3.10"
    report = Report("image-check")
    print(description, flush=True)
    signal.signal(signal.SIGTERM, terminate)  # so that `finally` removes the containers

    report.section("images")
    if not (check_image(report, paybridge_image, "10001:10001", "paybridge-probe /healthz")
            and check_image(report, rabbitmq_image, None, "rabbitmq-diagnostics")):
        return report.close()

    stack = Stack(root, setting("IMAGE_CHECK_PREFIX", "paybridge-image-check"), paybridge_image, rabbitmq_image,
                  int(setting("IMAGE_CHECK_AMQP_PORT", "5692")), int(setting("IMAGE_CHECK_SANDBOX_PORT", "18489")))
    run = f"ic{time.strftime('%H%M%S')}{secrets.token_hex(2)}"
    collector = None
    started = time.monotonic()
    try:
        report.section(f"containers on network {stack.pod.network} (run {run})")
        stack.clean()
        stack.write_secrets()
        stack.start_network()
        stack.start_broker()
        if not wait_for_broker(stack, report):
            return report.close()
        scenario.check_roles(stack, report)
        collector = EventCollector(stack.url("payments-consumer"), f"consumer.image-check-{run}")
        collector.start()
        stack.start_sandbox()
        stack.start_paybridge("callbacks", "callbacks")
        stack.start_paybridge("worker", "worker")
        scenario.check_health(stack, report, ("rabbitmq", "sandbox", "callbacks", "worker"))
        scenario.check_containers(stack, report)

        report.section("one command of each kind, and the callbacks")
        scenario.check_commands(stack, collector, report, run)

        report.section("SIGTERM mid-load: the worker drains, no command is lost")
        scenario.check_drain(stack, collector, report, run, int(setting("IMAGE_CHECK_LOAD", "300")),
                             int(setting("IMAGE_CHECK_STOP_AFTER", "60")))
    except (PodmanError, RuntimeError, OSError, pika.exceptions.AMQPError) as error:
        report.error(f"{type(error).__name__}: {error}")
    finally:
        if collector:
            collector.stop()
        if report.failed:
            for name in stack.pod.started:
                print(f"--- last lines of {stack.pod.container(name)}'s log\n{stack.pod.logs(name)}", flush=True)
        report.section(f"removing the containers and {stack.pod.network}")
        stack.remove()
        report.info(f"checks took {time.monotonic() - started:.0f} s")
    return report.close()
