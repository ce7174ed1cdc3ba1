"""Sets up the broker, the sandbox and PayBridge once, runs every asked-for client through the scenario, and
stops everything it started, even on failure (printing the services' log tails then)."""
import argparse
import os
import secrets
import tempfile
import time

from .broker import Broker, BrokerSetupError
from .client import Client
from .report import Report, tail
from .queries import check_queries
from .scenario import run_language
from .services import Stack

LANGUAGES = ("python", "go", "java")


def main(description, root):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("languages", nargs="*", metavar="LANGUAGE", help=f"any of {', '.join(LANGUAGES)} (default: all)")
    parser.add_argument("--without-payin", action="store_true",
                        help="skip the pay-in (payment-methods query) and the correction: for development only")
    args = parser.parse_args()
    unknown = sorted(set(args.languages) - set(LANGUAGES))
    if unknown:
        parser.error(f"unknown language {', '.join(unknown)} (choose from {', '.join(LANGUAGES)})")
    languages = args.languages or list(LANGUAGES)
    report = Report()
    if args.without_payin:
        print("!" * 100 + "\n!!! --without-payin: the pay-in, the payment-methods query and the FirstPay correction "
              "are NOT tested in this run\n" + "!" * 100, flush=True)

    clients = []
    for language in languages:
        run_path = os.path.join(root, "examples", language, "run")
        if os.access(run_path, os.X_OK):
            clients.append((language, run_path))
        else:
            report.error(f"{language}: {run_path} does not exist or is not executable")

    if not clients:
        return report.close()
    bin_dir = os.path.abspath(os.path.join(root, os.environ.get("PAYBRIDGE_BIN_DIR", ".build/debug")))
    for name in ("paybridge", "paybridge-sandbox"):
        if not os.access(os.path.join(bin_dir, name), os.X_OK):
            report.error(f"{bin_dir}/{name} is missing (build it, or set PAYBRIDGE_BIN_DIR)")
            return report.close()

    logs_dir = tempfile.mkdtemp(prefix="examples-test-")
    report.info(f"logs and databases in {logs_dir}")
    broker = Broker(os.environ.get("EXAMPLES_VHOST", "paybridge-examples"),
                    os.path.join(root, "deploy", "rabbitmq-definitions.json"))
    stack = Stack(bin_dir, os.path.join(root, "deploy", "sandbox-test-keys"), broker.url("paybridge"), logs_dir)
    try:
        if setup(report, broker, stack):
            run_id = f"{time.strftime('%H%M%S')}{secrets.token_hex(2)}"
            for language, run_path in clients:
                report.section(f"{language} ({run_path}), run {run_id}")
                db_dir = tempfile.mkdtemp(prefix=f"{language}-", dir=logs_dir)
                env = dict(os.environ, EXAMPLE_DB=os.path.join(db_dir, "orders.db"),
                           PAYBRIDGE_PRODUCER_URL=broker.url("payments-producer"),
                           PAYBRIDGE_CONSUMER_URL=broker.url("payments-consumer"),
                           EXAMPLE_QUEUE=f"consumer.orders-{language}-{run_id}.payments")
                client = Client(language, run_path, env, logs_dir)
                run_language(client, stack, report, f"{language}-{run_id}", not args.without_payin)
                if language == "python" and not args.without_payin:
                    report.section("the payment-methods query: accounts, errors (through the Python client)")
                    check_queries(client, stack, report)
    finally:
        report.section("stopping the sandbox and PayBridge")
        for name, status in stack.stop():
            report.info(f"{name} exited {status}")
        if report.failed:
            for path in stack.log_paths():
                print(f"--- tail of {path}\n{tail(path)}")
        if not os.environ.get("EXAMPLES_KEEP_VHOST"):
            broker.delete()
    if args.without_payin:
        print("!!! --without-payin: the pay-in, the query and the correction were NOT tested", flush=True)
    elif "python" not in [language for language, _ in clients]:
        print("!!! python not among the languages: the query's accounts and errors were NOT tested", flush=True)
    return report.close()


def setup(report, broker, stack):
    report.section(f"broker (vhost {broker.vhost}, roles of deploy/rabbitmq-definitions.json), sandbox, PayBridge")
    try:
        for line in broker.create():
            report.info(line)
    except BrokerSetupError as error:
        return report.fail(f"broker setup: {error}")
    done = stack.topology()
    output = (done.stderr or done.stdout)[-800:]
    hint = ("\n     (login refused right after the password was set: another run on this broker may have reset the "
            "shared users' passwords; give every run the same EXAMPLES_ROLE_PASSWORD)") if "ACCESS_REFUSED" in output else ""
    if not report.check(done.returncode == 0, "paybridge topology (as paybridge)",
                        f"paybridge topology exited {done.returncode}: {output}{hint}"):
        return False
    if not report.check(stack.start_sandbox(), f"sandbox healthy on :{stack.sandbox_port}",
                        f"sandbox not healthy on :{stack.sandbox_port} within 30 s"):
        return False
    return report.check(stack.start_paybridge(), f"paybridge run ready (admin :{stack.admin_port}/readyz)",
                        f"paybridge run not ready on :{stack.admin_port}/readyz within 90 s")
