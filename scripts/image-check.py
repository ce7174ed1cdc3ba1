#!/usr/bin/env python3
"""`make image-check`: the images of scripts/images.sh, run as containers, do what deploy/README.md says.

On one podman network (prefix IMAGE_CHECK_PREFIX, default paybridge-image-check; containers run with --runtime runc
and explicit ulimits): the broker (localhost/paybridge-rabbitmq:3.10 with compose.yaml's configuration, access file,
definitions and policies, so the least-privilege roles of deploy/rabbitmq-definitions.json exist), the provider
sandbox, `paybridge callbacks` and `paybridge worker` (localhost/paybridge:$IMAGE_TAG, default dev), their secrets
from files. Checks: the images' user and health check; the roles log in and the producer is refused the outcome
exchange; every container's health status is healthy (`podman healthcheck run`: no systemd here to run it); the
PayBridge containers run as 10001, are ready and hold no secret in their environment; one command of each of the
eight kinds gets its outcome event and every created payment its callback event (the sandbox sends the callbacks to
`callbacks`); then IMAGE_CHECK_LOAD commands (300) and `podman stop -t 60` of the worker once IMAGE_CHECK_STOP_AFTER
(60) are answered: it exits 0, and no command is lost (scripts/imagecheck/scenario.py, check_drain, says exactly what
that means). Everything is removed at the end, also on failure, after printing the containers' logs.

Usage: image-check.py. Exit status 1 when a check fails. Settings: IMAGE_CHECK_AMQP_PORT (5692) and
IMAGE_CHECK_SANDBOX_PORT (18489), where the broker and the sandbox's control API are published on 127.0.0.1.
Needs root, podman and python3-pika (`bash scripts/install-deps.sh image`); the steps live in scripts/imagecheck/.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from imagecheck.main import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(__doc__.splitlines()[0], str(Path(__file__).resolve().parent.parent)))
