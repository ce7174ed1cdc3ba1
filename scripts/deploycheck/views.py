"""The operators' views: the Grafana dashboard and the Prometheus rules (with their runbook headings), through
promtool."""
import os
import re
import shutil
import subprocess
import tempfile

import yaml

from .code import swift_files


DASHBOARD = "deploy/grafana-dashboard.json"
RULES = "deploy/prometheus-rules.yaml"
RULES_TESTS = "deploy/prometheus-rules.test.yaml"
SEVERITIES = ("critical", "warning", "info")
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")


def metric_names(root):
    """The metric names the Swift sources define: `MetricNameDescriptor(namespace:, metricName:, unitName:)`."""
    pattern = re.compile(r'MetricNameDescriptor\(\s*namespace:\s*"(\w+)",\s*metricName:\s*"(\w+)",\s*unitName:\s*"(\w*)"')
    return {"_".join(part for part in match if part) for text in swift_files(root, "Sources/PayBridge")
            for match in pattern.findall(text)}


def promql_metrics(expression):
    """The `paybridge_*` metric names a PromQL expression uses (label values and strings removed first)."""
    without_strings = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expression)
    return set(re.findall(r"\bpaybridge_\w+", without_strings))


def known_metric(name, defined):
    return name in defined or any(name.endswith(s) and name[: -len(s)] in defined for s in HISTOGRAM_SUFFIXES)


def check_dashboard(documents, defined, report):
    dashboards = [doc for name, doc in documents if name == DASHBOARD]
    if not report.check(dashboards, f"{DASHBOARD} is there", f"{DASHBOARD} is missing"):
        return
    dashboard = dashboards[0]
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    datasources = {name for name, v in variables.items() if v["type"] == "datasource" and v.get("query") == "prometheus"}
    report.check(datasources, f"{DASHBOARD}: Prometheus datasource variable {', '.join(sorted(datasources))}",
                 f"{DASHBOARD}: no templated Prometheus datasource variable")
    report.check("provider" in variables, f"{DASHBOARD}: a provider variable", f"{DASHBOARD}: no `provider` variable")
    panels = [p for p in dashboard["panels"] if p["type"] != "row"]
    ids = [p["id"] for p in dashboard["panels"]]
    report.check(len(ids) == len(set(ids)), f"{DASHBOARD}: {len(panels)} panels, unique ids",
                 f"{DASHBOARD}: duplicate panel ids")
    used = set()
    for panel in panels:
        label = f"{DASHBOARD}: panel {panel.get('title')!r}"
        uids = {panel["datasource"]["uid"]} | {t["datasource"]["uid"] for t in panel["targets"]}
        report.check(panel["targets"] and all(t.get("expr") for t in panel["targets"])
                     and uids <= {"${%s}" % d for d in datasources},
                     f"{label}: {len(panel['targets'])} queries on the datasource variable",
                     f"{label}: a query without expr, or a datasource other than the variable ({', '.join(sorted(uids))})")
        for target in panel["targets"]:
            used |= promql_metrics(target["expr"])
    unknown = sorted(n for n in used if not known_metric(n, defined))
    report.check(used and not unknown, f"{DASHBOARD}: metrics defined in the code ({', '.join(sorted(used))})",
                 f"{DASHBOARD}: {', '.join(unknown)} not defined in Sources/PayBridge (MetricNameDescriptor)")


def check_rules(documents, defined, root, report):
    rule_files = [doc for name, doc in documents if name == RULES]
    if not report.check(rule_files, f"{RULES} is there", f"{RULES} is missing"):
        return
    runbook = root / "docs/operations.md"
    anchors = {re.sub(r"[^\w\- ]", "", line.lstrip("#").strip().lower()).replace(" ", "-")
               for line in runbook.read_text().splitlines() if line.startswith("#")}
    alerts, used = [], set()
    for group in rule_files[0]["groups"]:
        for rule in group["rules"]:
            name = rule.get("alert") or rule.get("record")
            label = f"{RULES}: {name}"
            alerts.append(name)
            used |= promql_metrics(str(rule.get("expr", "")))
            if "record" in rule:
                report.check(rule.get("expr"), f"{label}: recording rule", f"{label}: no expr")
                continue
            annotations = rule.get("annotations") or {}
            severity = (rule.get("labels") or {}).get("severity")
            report.check(rule.get("expr") and severity in SEVERITIES and annotations.get("summary")
                         and annotations.get("description"),
                         f"{label}: expr, severity {severity}, summary, description",
                         f"{label}: needs expr, labels.severity ({'/'.join(SEVERITIES)}), annotations summary and "
                         "description")
            anchor = str(annotations.get("runbook", "")).partition("docs/operations.md#")[2]
            report.check(anchor in anchors, f"{label}: runbook docs/operations.md#{anchor}",
                         f"{label}: annotations.runbook must be docs/operations.md#<a heading there> (got "
                         f"{annotations.get('runbook')!r})")
    report.check(len(alerts) == len(set(alerts)), f"{RULES}: {len(alerts)} rules, unique names",
                 f"{RULES}: duplicate rule names")
    unknown = sorted(n for n in used if not known_metric(n, defined))
    report.check(used and not unknown, f"{RULES}: metrics defined in the code ({', '.join(sorted(used))})",
                 f"{RULES}: {', '.join(unknown)} not defined in Sources/PayBridge (MetricNameDescriptor)")


def dashboard_as_rules(documents):
    """The dashboard's queries as recording rules (Grafana's variables replaced), for promtool to parse."""
    dashboard = next(doc for name, doc in documents if name == DASHBOARD)
    substitutions = {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "1h", "$provider": ".*"}
    rules = []
    for panel in dashboard["panels"]:
        for target in panel.get("targets") or []:
            expression = target["expr"]
            for variable, value in substitutions.items():
                expression = expression.replace(variable, value)
            rules.append({"record": f"dashboard:panel_{panel['id']}_{target['refId']}", "expr": expression})
    return {"groups": [{"name": "grafana-dashboard", "rules": rules}]}


def validate_rules(root, documents, report):
    """`promtool check rules` and `promtool test rules` (the alerts fire on the series they are meant for), and the
    dashboard's queries through promtool's PromQL parser."""
    if not report.check(shutil.which("promtool"), "promtool is installed",
                        "promtool is missing: `bash scripts/install-deps.sh deploy` installs Debian's prometheus"):
        return
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as queries:
        yaml.safe_dump(dashboard_as_rules(documents), queries)
    result = subprocess.run(["promtool", "check", "rules", queries.name], capture_output=True, text=True)
    os.unlink(queries.name)
    output = (result.stdout + result.stderr).replace(queries.name, DASHBOARD).strip()
    report.check(result.returncode == 0, f"promtool parses every query of {DASHBOARD}",
                 f"promtool rejects a query of {DASHBOARD} (rule dashboard:panel_<id>_<refId>):\n"
                 + "\n".join("        " + l for l in output.splitlines()))
    for command, path in (("check", RULES), ("test", RULES_TESTS)):
        result = subprocess.run(["promtool", command, "rules", path], capture_output=True, text=True, cwd=root)
        output = (result.stdout + result.stderr).strip()
        report.check(result.returncode == 0, f"`promtool {command} rules {path}` passes",
                     f"`promtool {command} rules {path}` fails:\n" + "\n".join("        " + l for l in output.splitlines()))


