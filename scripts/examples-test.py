#!/usr/bin/env python3
"""`make examples-test`: runs every reference client in examples/ against a real broker, PayBridge and the sandbox.

For each language (default: python go java; a missing examples/<language>/run is an error): a fresh vhost
(EXAMPLES_VHOST, default paybridge-examples) with the users paybridge, payments-producer and payments-consumer
(fresh passwords, the permission regexes of deploy/rabbitmq-definitions.json), `paybridge topology`, the provider
sandbox and `paybridge run` (EXAMPLES_SANDBOX_PORT/EXAMPLES_HTTP_PORT/EXAMPLES_ADMIN_PORT, default
18190/18180/19190; binaries from PAYBRIDGE_BIN_DIR, default .build/debug). Then the client's `run consume` in the
background, `place purchase|payin|failing`, `run relay`, and every order's projection (`run status`) compared with
the sandbox's own status; the failing order must end with lastError UNKNOWN_ACCOUNT; a FirstPay correction
(SUCCESS -> FAILED) must reach the projection; the consumer must exit 0 on SIGTERM; a second relay sends nothing.

Usage: examples-test.py [--without-payin] [python] [go] [java]. Exit status 1 when a check fails.
More settings: EXAMPLES_BROKER (host:port, default 127.0.0.1:5672), EXAMPLES_ROLE_PASSWORD (one fixed password for
the three users instead of random ones: runs side by side on one broker otherwise reset each other's), EXAMPLES_DEADLINE
(seconds per awaited outcome, default 60), EXAMPLES_READY_DEADLINE (for the consumer's "ready", which may include
the client's build, default 600), EXAMPLES_KEEP_VHOST=1 (keep the vhost afterwards; it is deleted by default).
Python 3 standard library only; the steps live in scripts/examplestest/.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from examplestest.main import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(__doc__.splitlines()[0], str(Path(__file__).resolve().parent.parent)))
