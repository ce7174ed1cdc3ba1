#!/usr/bin/env python3
"""`make compose-check` / `make rolling-update-check`: deploy/README.md's Compose commands, run as written.

On podman (no Docker engine here): `docker` is scripts/composecheck/bin/docker on PATH, which maps `docker compose`
to podman-compose 1.6 (PyPI, in .build/compose-venv, made on the first run) and `docker` to podman, with this
machine's podman settings (runc, explicit ulimits). The images are the local ones of scripts/images.sh:
localhost/paybridge:dev (compose.yaml's default paybridge:dev resolves to it) and localhost/paybridge-rabbitmq:3.10
(RABBITMQ_IMAGE). Podman without systemd runs no health checks by itself: a thread here runs `podman healthcheck
run` for each container of the project at its health check's interval, as podman's systemd timers would.

  walkthrough  the fenced `sh` blocks of "Compose: the whole stack on one machine" line by line (a `docker compose
               ps` whose comment says "wait until" is repeated until the four services say healthy), then each
               `docker compose …` and `curl …` of its "More to look at" list and the URLs and logins it names, then
               `docker compose down -v`; checks the outputs the README describes.
  rolling      "Rolling update of the workers": its lines up to the `docker compose ps` wait (two workers), then
               COMPOSE_CHECK_LOAD commands (1000) published as payments-producer at COMPOSE_CHECK_RATE a second (20)
               while the rest of the block runs as one script (a worker on paybridge:next, healthy, then an old one
               stopped with SIGTERM; twice). Every command must get exactly one outcome event: consumed as
               payments-consumer by correlation_id, exactly one distinct event id per command (the same event
               delivered twice is counted and allowed: docs/contract.md, "Event ids"); the stopped workers exited
               0 within their grace period while commands were in flight; nothing dead-lettered or left queued.

Usage: compose-check.py walkthrough|rolling|all. Exit status 1 when a check fails. Everything the check started is
removed at the end (`docker compose down -v`, the paybridge:next tag it made), also on failure, after printing the
containers' logs. Settings: RABBITMQ_PORT (the broker's port on 127.0.0.1; default 5672, or 5682 when 5672 is
taken, as by `make broker`), COMPOSE_CHECK_LOAD, COMPOSE_CHECK_RATE, COMPOSE_CHECK_LATENCY_MS (the sandbox's
answer delay during the load, 1000). Root, podman, python3-venv and PyPI; the steps live in scripts/composecheck/.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from composecheck.venv import reexec_in_venv  # noqa: E402

if __name__ == "__main__":
    root = Path(__file__).resolve().parent.parent
    reexec_in_venv(root, __file__)
    from composecheck.main import main  # noqa: E402  (pika: only inside the venv)
    sys.exit(main(__doc__.splitlines()[0], root, sys.argv[1:]))
