"""Runs every group of checks in order and prints the count."""
import argparse
import difflib
import json
from pathlib import Path

from .broker import check_broker_names, check_policies, load_documents
from .code import (Topology, default_port, executables, paybridge_env_names, run_paybridge, sandbox_env_names,
                   sandbox_key_files, subcommands)
from .common import COMMANDS_EXCHANGE, Report
from .containers import check_compose, check_dockerfile, check_env_example, check_examples, check_kubernetes, validate_compose
from .kubeschemas import KUBERNETES_VERSION, validate_manifests
from .views import check_dashboard, check_rules, metric_names, validate_rules


def guarded(report, check, *arguments):
    """Runs one group of checks; a file whose structure it did not expect fails the check instead of crashing."""
    try:
        check(*arguments)
    except (KeyError, TypeError, AttributeError, IndexError, ValueError) as error:
        report.fail(f"{check.__name__}: a file here is not shaped as expected ({type(error).__name__}: {error})")


def main(description, default_root):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--paybridge", required=True, help="the paybridge executable")
    parser.add_argument("--root", default=default_root, type=Path)
    args = parser.parse_args()
    root = args.root.resolve()
    deploy = root / "deploy"
    report = Report()

    report.section(f"the code: {args.paybridge}, Sources/, Package.swift")
    printed = run_paybridge(args.paybridge, "topology", "--print-definitions", "--vhost", "/")
    topology = Topology(json.loads(printed))
    code = {"subcommands": subcommands(run_paybridge(args.paybridge, "--help")),
            "paybridge_env": paybridge_env_names(root), "sandbox_env": sandbox_env_names(root),
            "sandbox_keys": sandbox_key_files(root), "executables": executables(root),
            "ports": {"adminPort": default_port(root, "adminPort"), "httpPort": default_port(root, "httpPort")}}
    report.check(COMMANDS_EXCHANGE in topology.exchanges,
                 f"{len(topology.queues)} queues, {len(topology.exchanges)} exchanges; command queues "
                 f"{', '.join(sorted(topology.command_queues))}",
                 f"the topology has no exchange {COMMANDS_EXCHANGE}: update COMMANDS_EXCHANGE in scripts/deploycheck/common.py")
    roles = {p["user"]: p for p in topology.permissions}
    report.check(set(roles) == {"paybridge", "payments-producer", "payments-consumer"}
                 and not any(p[k] in (".*", "^.*", "^.*$") for p in roles.values() for k in ("configure", "write", "read")),
                 f"broker roles {', '.join(sorted(roles))}, none with .*",
                 f"the definitions must grant exactly paybridge, payments-producer and payments-consumer, none `.*` "
                 f"(got {sorted(roles)})")
    report.check(code["subcommands"] and code["paybridge_env"] and code["sandbox_env"] and None not in code["ports"].values(),
                 f"subcommands {', '.join(sorted(code['subcommands']))}; {len(code['paybridge_env'])} paybridge and "
                 f"{len(code['sandbox_env'])} sandbox variables",
                 "could not read the subcommands, the variables or the default ports from the code")

    report.section("every YAML/JSON file in deploy/ parses")
    documents = load_documents(deploy, report)

    report.section("deploy/rabbitmq-definitions.json = `paybridge topology --print-definitions`")
    committed = (deploy / "rabbitmq-definitions.json").read_text()
    if not report.check(committed == printed, "identical", "differs from the code's topology; regenerate it with "
                        "`make deploy-definitions` (diff: - committed, + code):"):
        try:
            old = Topology(json.loads(committed))
            for kind in ("queues", "exchanges"):
                added, removed = (sorted(set(getattr(topology, kind)) - set(getattr(old, kind))),
                                  sorted(set(getattr(old, kind)) - set(getattr(topology, kind))))
                if added or removed:
                    print(f"        {kind}: only in the code: {', '.join(added) or '-'}; only in the file: "
                          f"{', '.join(removed) or '-'}")
        except (ValueError, KeyError):
            pass
        diff = list(difflib.unified_diff(committed.splitlines(), printed.splitlines(), "committed", "code", lineterm="", n=1))
        print("\n".join("        " + line for line in diff[:30]) + ("\n        …" if len(diff) > 30 else ""))

    report.section("broker names in the manifests exist")
    guarded(report, check_broker_names, documents, topology, report)

    report.section("policies (rabbitmq-policies.json) match the queues and agree with their declared arguments")
    guarded(report, check_policies, documents, topology, report)

    report.section("compose.yaml")
    guarded(report, check_compose, deploy / "compose.yaml", documents, topology, code, report)
    validate_compose(deploy / "compose.yaml", report)

    report.section("Kubernetes manifests and KEDA")
    guarded(report, check_kubernetes, documents, topology, code, (deploy / "README.md").read_text(), report)

    report.section(f"Kubernetes manifests validate against Kubernetes {KUBERNETES_VERSION} schemas")
    guarded(report, validate_manifests, root, report)

    report.section("Dockerfile, paybridge.env.example, examples/")
    guarded(report, check_dockerfile, deploy / "Dockerfile", code, report)
    guarded(report, check_env_example, deploy / "paybridge.env.example", code, report)
    guarded(report, check_examples, documents, topology, root, report)

    report.section("operators' views: grafana-dashboard.json, prometheus-rules.yaml")
    defined = metric_names(root)
    report.check(defined, f"{len(defined)} metric names in Sources/PayBridge",
                 "no MetricNameDescriptor found in Sources/PayBridge: update metric_names in scripts/deploycheck/views.py")
    guarded(report, check_dashboard, documents, defined, report)
    guarded(report, check_rules, documents, defined, root, report)
    guarded(report, validate_rules, root, documents, report)

    print(f"\ndeploy-check: {report.passed} passed, {report.failed} failed"
          + (f", {report.skipped} skipped" if report.skipped else ""))
    return 1 if report.failed else 0
