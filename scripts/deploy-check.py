#!/usr/bin/env python3
"""`make deploy-check`: deploy/ must not drift from the code.

Parses every YAML (multi-document) and JSON file under deploy/ and checks the names in them against what the code
says: the broker topology printed by `paybridge topology --print-definitions` (queues, exchanges, bindings), the
subcommands of `paybridge --help`, the environment variables the Swift sources read, the executables of
Package.swift. deploy/rabbitmq-definitions.json must equal the printed definitions byte for byte. Then
deploy/compose.yaml goes through `docker compose config` (or `docker-compose config`) when one is installed.
The operators' views (grafana-dashboard.json, prometheus-rules.yaml) must be well-formed, name only metrics the
code defines, point each alert at a runbook section of docs/operations.md, and pass `promtool check rules` and
`promtool test rules` (Debian's prometheus package, which `install-deps.sh deploy` installs).

Usage: deploy-check.py --paybridge PATH [--root DIR]. Exit status 1 when a check fails, 2 when it cannot run.
Python 3 standard library + PyYAML (Debian python3-yaml).
"""
import argparse
import difflib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

try:
    import yaml
except ImportError:
    sys.exit("deploy-check: PyYAML is missing: apt-get install python3-yaml (bash scripts/install-deps.sh does)")

# The one broker name this script starts from: the exchange commands are published to. The command queues are
# whatever the topology binds to it, so new providers and new queues need no change here.
COMMANDS_EXCHANGE = "payments.commands"
# Environment variable prefixes PayBridge reads (the sandbox also reads LOG_LEVEL).
ENV_PREFIXES = ("PAYBRIDGE_", "AMANPAY_", "FIRSTPAY_")
# Variables any container may carry without the program reading them.
ENV_HARMLESS = {"TZ", "LANG", "LC_ALL"}
# OpenTelemetry's standard variables: PayBridge reads the ones that switch span export on (TraceExport.swift);
# swift-otel reads the rest itself (paybridge built with the OTLPExporter trait, as the Dockerfile does).
ENV_OTEL_PREFIX = "OTEL_"
# Policy keys RabbitMQ 3.10 ... 4.x accept on queues, with a check of the value. `delivery-limit` must be >= 0:
# 4.x takes -1 for "no limit", but 3.x refuses the whole definitions file for it.
POLICY_KEYS = {
    "delivery-limit": lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0,
    "dead-letter-strategy": lambda v: v in ("at-most-once", "at-least-once"),
    "overflow": lambda v: v in ("drop-head", "reject-publish", "reject-publish-dlx"),
    "dead-letter-exchange": lambda v: isinstance(v, str),
    "dead-letter-routing-key": lambda v: isinstance(v, str),
    "message-ttl": lambda v: isinstance(v, int) and v >= 0,
    "max-length": lambda v: isinstance(v, int) and v >= 0,
    "max-length-bytes": lambda v: isinstance(v, int) and v >= 0,
    "expires": lambda v: isinstance(v, int) and v >= 1,
    "alternate-exchange": lambda v: isinstance(v, str),
}
# Policy key -> the queue argument the code may declare for the same thing.
POLICY_ARGUMENT = {"delivery-limit": "x-delivery-limit", "dead-letter-strategy": "x-dead-letter-strategy",
                   "overflow": "x-overflow", "dead-letter-exchange": "x-dead-letter-exchange",
                   "dead-letter-routing-key": "x-dead-letter-routing-key", "message-ttl": "x-message-ttl",
                   "max-length": "x-max-length", "max-length-bytes": "x-max-length-bytes", "expires": "x-expires"}


class Report:
    def __init__(self):
        self.passed = self.failed = self.skipped = 0

    def section(self, title):
        print(f"\n== {title}")

    def ok(self, message):
        self.passed += 1
        print(f"  ok    {message}")

    def fail(self, message):
        self.failed += 1
        print(f"  FAIL  {message}")

    def check(self, condition, ok_message, fail_message):
        (self.ok if condition else self.fail)(ok_message if condition else fail_message)
        return condition

    def note(self, message):
        print(f"  note  {message}")

    def warn(self, message):
        self.skipped += 1
        print("  " + "!" * 100)
        print(f"  WARN  {message}")
        print("  " + "!" * 100)


# --- What the code says ---------------------------------------------------------------------------------------

def run_paybridge(binary, *arguments):
    """Runs the binary (retrying: a build may be replacing it) without the broker settings of this shell, so the
    printed definitions name vhost / whatever PAYBRIDGE_AMQP_URL says here."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAYBRIDGE_AMQP_URL")}
    last = None
    for attempt in range(5):
        try:
            result = subprocess.run([binary, *arguments], capture_output=True, text=True, env=env, timeout=60)
            if result.returncode == 0:
                return result.stdout
            last = f"exit status {result.returncode}: {result.stderr.strip()[:300]}"
        except OSError as error:
            last = str(error)
        time.sleep(3)
    sys.exit(f"deploy-check: cannot run `{binary} {' '.join(arguments)}` ({last}); "
             "build it (make deploy-check does) or set PAYBRIDGE_BIN")


def subcommands(help_text):
    names, inside = set(), False
    for line in help_text.splitlines():
        if line.startswith("SUBCOMMANDS:"):
            inside = True
        elif inside and (m := re.match(r"^  ([a-z][\w-]*)(\s{2,}|$)", line)):
            names.add(m.group(1))
    return names


def swift_files(root, *folders, exclude=()):
    for folder in folders:
        for path in sorted((root / folder).rglob("*.swift")):
            if not any(part in exclude for part in path.parts):
                yield path.read_text(encoding="utf-8")


def paybridge_env_names(root):
    """Every PAYBRIDGE_/AMANPAY_/FIRSTPAY_ name that appears as a whole string literal in the sources of the
    paybridge executable, plus NAME_FILE for the settings read as secrets (`secret("NAME")`, the broker URL)."""
    names = set()
    literal = re.compile(r'"((?:%s)[A-Z0-9_]+)"' % "|".join(ENV_PREFIXES))
    for text in swift_files(root, "Sources", exclude={"ProviderSandbox", "ProviderSandboxServer", "PayBridgeBench",
                                                      "AMQPBench", "BrokerTestKit"}):
        names.update(literal.findall(text))
        names.update(n + "_FILE" for n in re.findall(r'\bsecret\("([A-Z0-9_]+)"\)', text))
        names.update(n + "_FILE" for n in re.findall(r'amqpURLVariable\s*=\s*"([A-Z0-9_]+)"', text))
    return names


def sandbox_env_names(root):
    """The names paybridge-sandbox reads: `setting("NAME")`, which also reads NAME_FILE."""
    names = set()
    for text in swift_files(root, "Sources/ProviderSandboxServer"):
        for name in re.findall(r'\bsetting\("([A-Z0-9_]+)"\)', text):
            names.update((name, name + "_FILE"))
    return names


def sandbox_key_files(root):
    text = "".join(swift_files(root, "Sources/ProviderSandbox"))
    return set(re.findall(r'"(\w+\.pem)"', text))


def default_port(root, field):
    text = (root / "Sources/PayBridge/Configuration/PayBridgeConfiguration.swift").read_text()
    m = re.search(r"var %s: Int = (\d+)" % field, text)
    return int(m.group(1)) if m else None


def executables(root):
    return set(re.findall(r'\.executable\(\s*name:\s*"([^"]+)"', (root / "Package.swift").read_text()))


class Topology:
    def __init__(self, definitions):
        self.queues = {q["name"]: q.get("arguments", {}) for q in definitions["queues"]}
        self.exchanges = {e["name"]: e for e in definitions["exchanges"]}
        self.bindings = definitions["bindings"]
        self.vhosts = {x["vhost"] for k in ("queues", "exchanges", "bindings") for x in definitions[k]}
        # The three broker roles' permissions (issue 21): no role may have `.*`.
        self.permissions = definitions.get("permissions", [])
        self.command_queues = {b["destination"] for b in self.bindings if b["source"] == COMMANDS_EXCHANGE}
        # Every name starts with the same label ("payments."): strings in the manifests that start with it are
        # taken for broker names.
        prefixes = {n.split(".")[0] for n in [*self.queues, *self.exchanges]}
        self.prefix = prefixes.pop() + "." if len(prefixes) == 1 else None

    def names(self):
        return set(self.queues) | set(self.exchanges)

    def command_route(self, routing_key):
        """The command queues a routing key reaches through the commands exchange (a topic exchange)."""
        return {b["destination"] for b in self.bindings
                if b["source"] == COMMANDS_EXCHANGE and topic_matches(b["routing_key"], routing_key)}


def topic_matches(pattern, key):
    regex = "^" + r"\.".join("[^.]+" if w == "*" else ".*" if w == "#" else re.escape(w)
                             for w in pattern.split(".")) + "$"
    return re.match(regex, key) is not None


# --- deploy/ -------------------------------------------------------------------------------------------------------

def load_documents(deploy, report):
    """[(relative path, document)] of every YAML/JSON file; a file that does not parse fails."""
    documents = []
    files = sorted(p for p in deploy.rglob("*") if p.suffix in (".json", ".yaml", ".yml") and p.is_file())
    for path in files:
        name = str(path.relative_to(deploy.parent))
        try:
            text = path.read_text(encoding="utf-8")
            parsed = [json.loads(text)] if path.suffix == ".json" else [d for d in yaml.safe_load_all(text)
                                                                       if d is not None]
        except (ValueError, yaml.YAMLError) as error:
            report.fail(f"{name} does not parse: {error}")
            continue
        report.ok(f"{name} parses ({len(parsed)} document{'s' if len(parsed) != 1 else ''})")
        documents.extend((name, doc) for doc in parsed)
    return documents


def strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def check_broker_names(documents, topology, report):
    """Every string naming a broker object (it starts with the topology's prefix) names one that exists."""
    if topology.prefix is None:
        report.fail("the topology's names do not share one prefix; deploy-check cannot tell broker names apart")
        return
    token = re.compile(r"(?<![\w./-])%s[\w.-]*\w" % re.escape(topology.prefix))
    known = topology.names()
    for name, doc in documents:
        if name.endswith("rabbitmq-definitions.json"):
            continue
        found = {t for s in strings(doc) for t in token.findall(s)}
        unknown = sorted(found - known)
        if found:
            report.check(not unknown, f"{name}: broker names exist in the topology ({', '.join(sorted(found))})",
                         f"{name}: {', '.join(unknown)} not in `paybridge topology --print-definitions` "
                         f"(queues and exchanges: {', '.join(sorted(known))})")


def check_policies(documents, topology, report):
    files = [(name, doc) for name, doc in documents if isinstance(doc, dict) and "policies" in doc]
    report.check(files, f"policies in {', '.join(n for n, _ in files)}",
                 "no definitions file with \"policies\" in deploy/ (rabbitmq-policies.json)")
    applying = {q: [] for q in topology.queues}  # queue -> [(priority, policy)]
    for name, doc in files:
        for policy in doc["policies"]:
            label = f"{name}: policy {policy.get('name')!r}"
            missing = {"vhost", "name", "pattern", "apply-to", "priority", "definition"} - set(policy)
            if missing:
                report.fail(f"{label} lacks {', '.join(sorted(missing))}")
                continue
            report.check(policy["vhost"] in topology.vhosts, f"{label}: vhost {policy['vhost']!r} is the topology's",
                         f"{label}: vhost {policy['vhost']!r}, but the definitions are for {sorted(topology.vhosts)}")
            report.check(policy["apply-to"] in ("queues", "exchanges", "all"), f"{label}: apply-to {policy['apply-to']}",
                         f"{label}: apply-to {policy['apply-to']!r}: RabbitMQ 3.10/3.11 accept only queues, "
                         "exchanges or all")
            for key, value in policy["definition"].items():
                valid = POLICY_KEYS.get(key)
                if valid is None:
                    report.fail(f"{label}: {key!r} is not a policy key deploy-check knows (RabbitMQ 3.10-4.x); "
                                "add it to POLICY_KEYS in scripts/deploy-check.py if it is one")
                elif not valid(value):
                    report.fail(f"{label}: {key} = {value!r} is not accepted by RabbitMQ 3.10-4.x")
                elif key in ("dead-letter-exchange", "alternate-exchange") and value not in topology.exchanges:
                    report.fail(f"{label}: {key} {value!r} is not an exchange of the topology")
            try:
                pattern = re.compile(policy["pattern"])
            except re.error as error:
                report.fail(f"{label}: pattern {policy['pattern']!r} is not a regular expression: {error}")
                continue
            targets = []
            if policy["apply-to"] in ("queues", "all"):
                targets += [q for q in topology.queues if pattern.search(q)]
            if policy["apply-to"] in ("exchanges", "all"):
                targets += [e for e in topology.exchanges if pattern.search(e)]
            if not report.check(targets, f"{label}: pattern {policy['pattern']} matches {', '.join(targets)}",
                                f"{label}: pattern {policy['pattern']!r} matches no "
                                f"{policy['apply-to'].rstrip('s')} of the topology: a name drifted"):
                continue
            for queue in (t for t in targets if t in topology.queues):
                applying[queue].append((policy["priority"], policy))
                check_policy_against_queue(label, policy["definition"], queue, topology.queues[queue], report)
    for queue, policies in applying.items():
        if not policies:
            continue
        top = max(p for p, _ in policies)
        winners = [p["name"] for prio, p in policies if prio == top]
        if len(winners) > 1:
            report.fail(f"queue {queue}: policies {', '.join(winners)} match it with the same priority {top}; "
                        "RabbitMQ applies only one")
    for queue in sorted(topology.command_queues):
        winner = max(applying[queue], key=lambda x: x[0])[1] if applying[queue] else None
        report.check(winner is not None and "delivery-limit" in winner["definition"],
                     f"command queue {queue}: explicit delivery limit by policy {winner and winner['name']}",
                     f"command queue {queue} (bound to {COMMANDS_EXCHANGE}) has no policy with a delivery-limit")
    uncovered = sorted(q for q, p in applying.items() if not p)
    if uncovered:
        report.note(f"queues no policy applies to (their declared arguments only): {', '.join(uncovered)}")


def check_policy_against_queue(label, definition, queue, arguments, report):
    """A policy must not contradict the arguments the code declares: on a quorum queue the lower delivery limit
    wins, and on RabbitMQ 4.x a policy's overflow wins over the argument."""
    for key, value in definition.items():
        argument = POLICY_ARGUMENT.get(key)
        if argument in arguments and arguments[argument] != value:
            report.fail(f"{label}: {key} = {value!r}, but the code declares {queue} with {argument} = "
                        f"{arguments[argument]!r}")
    strategy = definition.get("dead-letter-strategy", arguments.get("x-dead-letter-strategy"))
    overflow = definition.get("overflow", arguments.get("x-overflow"))
    if strategy == "at-least-once" and overflow != "reject-publish":
        report.fail(f"{label}: {queue} would dead-letter at-least-once with overflow {overflow!r}; RabbitMQ "
                    "then falls back to at-most-once (it needs reject-publish)")


def check_env(where, names, known, program, report):
    unknown = sorted(n for n in names
                     if n not in known and n not in ENV_HARMLESS and not n.startswith(ENV_OTEL_PREFIX))
    report.check(not unknown, f"{where}: {len(names)} variable(s), all read by {program}",
                 f"{where}: {', '.join(unknown)} not read by {program} (names from the Swift sources)")


def check_compose(path, documents, topology, code, report):
    compose = next((d for n, d in documents if n.endswith(path.name) and isinstance(d, dict)), None)
    if compose is None or not isinstance(compose.get("services"), dict):
        report.fail(f"{path.name}: no services")
        return
    services = compose["services"]
    access = next((d for n, d in documents if isinstance(d, dict) and "users" in d and "permissions" in d), None)
    for service, spec in services.items():
        label = f"compose service {service}"
        for dependency in spec.get("depends_on") or {}:
            report.check(dependency in services, f"{label}: depends on {dependency}",
                         f"{label}: depends on {dependency!r}, which is not a service")
        mounts = {}
        for volume in spec.get("volumes") or []:
            if not isinstance(volume, str):
                report.fail(f"{label}: deploy-check reads only the short volume syntax (SOURCE:TARGET[:MODE])")
                continue
            source, _, rest = volume.partition(":")
            target = rest.split(":")[0]
            if source.startswith("."):
                mounts[target] = (path.parent / source).resolve()
                report.check(mounts[target].exists(), f"{label}: mounts {source}",
                             f"{label}: mounts {source}, which does not exist")
        image = str(spec.get("image", "")) + json.dumps(spec.get("build", ""))
        if "paybridge" not in image:
            if service == "rabbitmq" or "rabbitmq" in image:
                check_compose_broker(label, mounts, path, report)
            continue
        env = spec.get("environment") or {}
        if isinstance(env, list):
            env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
        entrypoint = " ".join(spec.get("entrypoint") or [])
        if "paybridge-sandbox" in entrypoint:
            check_env(label, env, code["sandbox_env"], "paybridge-sandbox", report)
            keys_dir = mounts.get(env.get("PAYBRIDGE_SANDBOX_KEYS_DIR", ""))
            if keys_dir:
                missing = sorted(k for k in code["sandbox_keys"] if not (keys_dir / k).exists())
                report.check(not missing, f"{label}: PAYBRIDGE_SANDBOX_KEYS_DIR holds {', '.join(sorted(code['sandbox_keys']))}",
                             f"{label}: PAYBRIDGE_SANDBOX_KEYS_DIR lacks {', '.join(missing)}")
        else:
            command = spec.get("command") or []
            first = command[0] if command else None
            report.check(first in code["subcommands"] or first in ("--help", "help"),
                         f"{label}: runs `paybridge {first}`",
                         f"{label}: `paybridge {first}` is not a subcommand ({', '.join(sorted(code['subcommands']))})")
            check_env(label, env, code["paybridge_env"], "paybridge", report)
        for variable, value in env.items():
            value = str(value)
            if variable.endswith("_FILE") or variable.endswith("_DIR"):
                mount = next((m for m in mounts if value == m or value.startswith(m.rstrip("/") + "/")), None)
                local = mounts[mount] / value[len(mount):].lstrip("/") if mount else None
                report.check(local is not None and local.exists(), f"{label}: {variable} {value} is mounted",
                             f"{label}: {variable} {value} is not a file of a bind mount of this service")
            elif value.startswith("http://") or value.startswith("amqp"):
                host = urllib.parse.urlsplit(value).hostname
                report.check(host in services, f"{label}: {variable} names service {host}",
                             f"{label}: {variable} names host {host!r}, which is not a service")
            if variable == "PAYBRIDGE_AMQP_URL":
                check_amqp_url(label, value, access, topology, report)


def check_compose_broker(label, mounts, path, report):
    """The broker imports, in file-name order, the access file (it creates the vhost), the topology, the policies."""
    imported = sorted((target, local) for target, local in mounts.items() if target.startswith("/etc/rabbitmq/definitions.d/"))
    names = [local.name for _, local in imported]
    expected = ["compose-rabbitmq-access.json", "rabbitmq-definitions.json", "rabbitmq-policies.json"]
    report.check(names == expected, f"{label}: imports {', '.join(names)} at boot, in that order",
                 f"{label}: imports {names} at boot; expected {expected} in that order (file names decide it)")


def check_amqp_url(label, url, access, topology, report):
    parts = urllib.parse.urlsplit(url)
    vhost = urllib.parse.unquote(parts.path[1:]) if len(parts.path) > 1 else "/"
    report.check(vhost in topology.vhosts, f"{label}: broker vhost {vhost!r} is the definitions' vhost",
                 f"{label}: broker vhost {vhost!r}, but the definitions are for {sorted(topology.vhosts)}")
    if access is None:
        return
    user = next((u for u in access["users"] if u["name"] == parts.username), None)
    # Permissions come from the access file (compose-only users) or from rabbitmq-definitions.json (the roles).
    allowed = any(p["user"] == parts.username and p["vhost"] == vhost
                  for p in access["permissions"] + topology.permissions)
    report.check(user is not None and user.get("password") == parts.password and allowed,
                 f"{label}: broker user {parts.username} exists with access to {vhost!r}",
                 f"{label}: broker user {parts.username!r} (with this password and access to {vhost!r}) is not in "
                 "compose-rabbitmq-access.json")


def check_kubernetes(documents, topology, code, readme, report):
    objects = [(n, d) for n, d in documents if isinstance(d, dict) and "apiVersion" in d and "kind" in d]
    by_kind = {}
    for name, doc in objects:
        by_kind.setdefault(doc["kind"], {})[doc["metadata"]["name"]] = (name, doc)
    configmaps = by_kind.get("ConfigMap", {})
    deployments = by_kind.get("Deployment", {})
    roles = {}  # deployment -> (pod labels, subcommand)
    for deployment, (name, doc) in deployments.items():
        label = f"{name}: Deployment {deployment}"
        pod = doc["spec"]["template"]
        report.check(doc["spec"]["selector"]["matchLabels"].items() <= pod["metadata"]["labels"].items(),
                     f"{label}: selector matches its pods", f"{label}: selector does not match its pod labels")
        for container in pod["spec"]["containers"]:
            if "paybridge" not in container.get("image", ""):
                continue
            args = container.get("args") or []
            roles[deployment] = (pod["metadata"]["labels"], args[0] if args else None)
            report.check(args and args[0] in code["subcommands"], f"{label}: runs `paybridge {args and args[0]}`",
                         f"{label}: `paybridge {args and args[0]}` is not a subcommand")
            env, settings = set(), {}
            for source in container.get("envFrom") or []:
                ref = (source.get("configMapRef") or {}).get("name")
                if ref is None:
                    continue
                if report.check(ref in configmaps, f"{label}: ConfigMap {ref} is defined",
                                f"{label}: envFrom ConfigMap {ref!r} is not in the manifests"):
                    data = configmaps[ref][1].get("data") or {}
                    env |= set(data)
                    settings.update(data)
            env |= {e["name"] for e in container.get("env") or []}
            check_env(label, env, code["paybridge_env"], "paybridge", report)
            ports = {p["name"]: p["containerPort"] for p in container.get("ports") or []}
            for port_name, setting, field in (("admin", "PAYBRIDGE_ADMIN_PORT", "adminPort"),
                                              ("http", "PAYBRIDGE_HTTP_PORT", "httpPort")):
                if port_name in ports:
                    expected = int(settings.get(setting, code["ports"][field]))
                    report.check(ports[port_name] == expected, f"{label}: port {port_name} is {setting} ({expected})",
                                 f"{label}: port {port_name} is {ports[port_name]}, but {setting} is {expected}")
            for probe in ("livenessProbe", "readinessProbe"):
                port = ((container.get(probe) or {}).get("httpGet") or {}).get("port")
                if port is not None:
                    report.check(port in ports or port in ports.values(), f"{label}: {probe} on port {port}",
                                 f"{label}: {probe} on port {port!r}, which the container does not declare")
            for value in settings.values():
                for secret_key in re.findall(r"^/run/secrets/([\w.-]+)$", str(value)):
                    report.check(secret_key in readme, f"{label}: secret file {secret_key} is in deploy/README.md",
                                 f"{label}: reads /run/secrets/{secret_key}, which deploy/README.md does not tell "
                                 "how to create")
    for service, (name, doc) in by_kind.get("Service", {}).items():
        selector = doc["spec"]["selector"]
        report.check(any(selector.items() <= labels.items() for labels, _ in roles.values()),
                     f"{name}: Service {service} selects a PayBridge Deployment",
                     f"{name}: Service {service} selects no Deployment ({selector})")
    covered = set()
    for budget, (name, doc) in by_kind.get("PodDisruptionBudget", {}).items():
        selector = doc["spec"]["selector"]["matchLabels"]
        matched = {d for d, (labels, _) in roles.items() if selector.items() <= labels.items()}
        covered |= matched
        report.check(matched, f"{name}: PodDisruptionBudget {budget} covers {', '.join(sorted(matched))}",
                     f"{name}: PodDisruptionBudget {budget} selects no Deployment ({selector})")
    uncovered = sorted(set(roles) - covered)
    report.check(roles and not uncovered, "every PayBridge Deployment has a PodDisruptionBudget",
                 f"no PodDisruptionBudget for {', '.join(uncovered) or 'any Deployment'}")
    check_keda(by_kind, roles, topology, readme, report)


def check_keda(by_kind, roles, topology, readme, report):
    authentications = by_kind.get("TriggerAuthentication", {})
    for auth, (name, doc) in authentications.items():
        for ref in doc["spec"].get("secretTargetRef") or []:
            report.check(ref["name"] in readme and ref["key"] in readme,
                         f"{name}: TriggerAuthentication {auth}: secret {ref['name']}/{ref['key']} is in deploy/README.md",
                         f"{name}: TriggerAuthentication {auth} reads secret {ref['name']} key {ref['key']}, which "
                         "deploy/README.md does not tell how to create")
    scaled = by_kind.get("ScaledObject", {})
    if not report.check(scaled, f"ScaledObject {', '.join(scaled)}", "no KEDA ScaledObject in deploy/"):
        return
    queues_with_trigger = set()
    for obj, (name, doc) in scaled.items():
        label = f"{name}: ScaledObject {obj}"
        spec = doc["spec"]
        target = spec["scaleTargetRef"]["name"]
        report.check(target in roles and roles[target][1] in ("worker", "run"),
                     f"{label}: scales {target} (`paybridge {roles.get(target, (0, None))[1]}`)",
                     f"{label}: scales {target!r}, which is not a Deployment running `paybridge worker`")
        report.check(spec.get("minReplicaCount", 0) <= spec.get("maxReplicaCount", 100),
                     f"{label}: {spec.get('minReplicaCount')}...{spec.get('maxReplicaCount')} replicas",
                     f"{label}: minReplicaCount above maxReplicaCount")
        for trigger in spec.get("triggers") or []:
            if trigger.get("type") != "rabbitmq":
                continue
            meta = trigger.get("metadata") or {}
            queue = meta.get("queueName")
            report.check(all(isinstance(v, str) for v in meta.values()), f"{label}: {queue}: metadata are strings",
                         f"{label}: {queue}: every trigger metadata value must be a string (quote numbers)")
            queues_with_trigger.add(queue)
            report.check(queue in topology.command_queues, f"{label}: trigger on command queue {queue}",
                         f"{label}: queueName {queue!r} is not a command queue of the topology "
                         f"({', '.join(sorted(topology.command_queues))})")
            report.check(meta.get("mode") in ("QueueLength", "MessageRate") and _positive(meta.get("value")),
                         f"{label}: {queue}: {meta.get('mode')} {meta.get('value')}",
                         f"{label}: {queue}: mode must be QueueLength or MessageRate with a positive value")
            ref = (trigger.get("authenticationRef") or {}).get("name")
            report.check(ref in authentications, f"{label}: {queue}: TriggerAuthentication {ref}",
                         f"{label}: {queue}: TriggerAuthentication {ref!r} is not in the manifests")
    missing = sorted(topology.command_queues - queues_with_trigger)
    report.check(not missing, "every command queue scales the workers",
                 f"no KEDA trigger for command queue(s) {', '.join(missing)}: their backlog would not add workers")


def _positive(value):
    try:
        return float(value) > 0
    except (TypeError, ValueError):
        return False


def check_examples(documents, topology, root, report):
    for name, doc in documents:
        if not (isinstance(doc, dict) and doc.get("specversion") and str(doc.get("type", "")).startswith("paybridge.")):
            continue
        m = re.match(r"^paybridge\.(\w+)\.(\w+)\.v(\d+)$", doc["type"])
        if not report.check(m, f"{name}: command type {doc['type']}", f"{name}: {doc['type']!r} is not a command type"):
            continue
        routing_key = f"{m.group(1)}.{m.group(2)}"
        queues = topology.command_route(routing_key)
        report.check(queues, f"{name}: routing key {routing_key} reaches {', '.join(sorted(queues))}",
                     f"{name}: routing key {routing_key} reaches no queue from {COMMANDS_EXCHANGE}")
        schema = root / "schemas/commands" / f"{doc['type'][len('paybridge.'):]}.schema.json"
        report.check(schema.exists(), f"{name}: schema {schema.relative_to(root)} exists",
                     f"{name}: no schema {schema.relative_to(root)}")


def check_dockerfile(path, code, report):
    text = path.read_text()
    products = set(re.findall(r"--product\s+\"?(\$product|[\w-]+)", text))
    loop = re.search(r"for product in ([\w\s-]+?);", text)
    if "$product" in products and loop:
        products = (products - {"$product"}) | set(loop.group(1).split())
    unknown = sorted(products - code["executables"])
    report.check(products and not unknown, f"Dockerfile builds {', '.join(sorted(products))}",
                 f"Dockerfile builds {', '.join(unknown)}, not executables of Package.swift "
                 f"({', '.join(sorted(code['executables']))})")
    exposed = {int(p) for line in re.findall(r"^EXPOSE\s+(.+)$", text, re.M) for p in line.split()}
    wanted = {code["ports"]["adminPort"], code["ports"]["httpPort"]}
    report.check(wanted <= exposed, f"Dockerfile exposes {sorted(wanted)}", f"Dockerfile exposes {sorted(exposed)}, "
                 f"not the default ports {sorted(wanted)}")
    user = re.findall(r"^USER\s+(\S+)", text, re.M)
    report.check(user and user[-1].split(":")[0] not in ("0", "root"), f"Dockerfile runs as user {user[-1] if user else ''}",
                 "Dockerfile's final stage runs as root")
    report.check(re.search(r"^HEALTHCHECK .*/healthz", text, re.M), "Dockerfile has a HEALTHCHECK on /healthz",
                 "Dockerfile has no HEALTHCHECK on /healthz")
    env = {name for line in re.findall(r"^ENV\s+((?:.*\\\n)*.*)$", text, re.M)
           for name in re.findall(r"([A-Z][A-Z0-9_]*)=", line)}
    check_env("Dockerfile ENV", env, code["paybridge_env"], "paybridge", report)
    for source in re.findall(r"^COPY\s+(?!--from)(\S+)\s", text, re.M):
        if source not in (".", "./", "Package.swift", "Package.swift ./"):
            report.check((path.parent.parent / source).exists(), f"Dockerfile copies {source}",
                         f"Dockerfile copies {source}, which does not exist")


def check_env_example(path, code, report):
    names = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", path.read_text(), re.M))
    check_env(path.name, names, code["paybridge_env"], "paybridge", report)


def validate_compose(path, report):
    """`docker compose config` (Compose v2) or `docker-compose config` (v1, Debian bookworm's package); v1 does
    not know the Compose specification's top-level `name`, so it validates a copy without it."""
    if subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0 if shutil.which("docker") else False:
        tool, command = "docker compose", ["docker", "compose", "-f", str(path), "config", "-q"]
        copy = None
    elif shutil.which("docker-compose"):
        version = subprocess.run(["docker-compose", "version", "--short"], capture_output=True, text=True).stdout.strip()
        tool = f"docker-compose {version}"
        copy = None
        if version.startswith("1."):
            copy = tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False)
            copy.write(re.sub(r"^name:.*\n", "", path.read_text(), flags=re.M))
            copy.close()
        command = ["docker-compose", "-f", copy.name if copy else str(path), "--project-directory", str(path.parent),
                   "config", "-q"]
    else:
        report.warn(f"{path.name} was NOT validated by Compose: neither `docker compose` nor `docker-compose` is "
                    "installed here (`bash scripts/install-deps.sh deploy` installs Debian's docker-compose). "
                    "Only deploy-check's own checks ran on it.")
        return
    result = subprocess.run(command, capture_output=True, text=True)
    output = (result.stderr or result.stdout).strip()
    if copy:
        os.unlink(copy.name)
        output = output.replace(copy.name, str(path))
    report.check(result.returncode == 0, f"`{tool} config` accepts {path.name}",
                 f"`{tool} config` rejects {path.name}:\n" + "\n".join("        " + l for l in output.splitlines()))


# --- Operators' views: the Grafana dashboard and the Prometheus rules -------------------------------------------

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


def guarded(report, check, *arguments):
    """Runs one group of checks; a file whose structure it did not expect fails the check instead of crashing."""
    try:
        check(*arguments)
    except (KeyError, TypeError, AttributeError, IndexError, ValueError) as error:
        report.fail(f"{check.__name__}: a file here is not shaped as expected ({type(error).__name__}: {error})")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paybridge", required=True, help="the paybridge executable")
    parser.add_argument("--root", default=Path(__file__).resolve().parent.parent, type=Path)
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
                 f"the topology has no exchange {COMMANDS_EXCHANGE}: update COMMANDS_EXCHANGE in this script")
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

    report.section("Dockerfile, paybridge.env.example, examples/")
    guarded(report, check_dockerfile, deploy / "Dockerfile", code, report)
    guarded(report, check_env_example, deploy / "paybridge.env.example", code, report)
    guarded(report, check_examples, documents, topology, root, report)

    report.section("operators' views: grafana-dashboard.json, prometheus-rules.yaml")
    defined = metric_names(root)
    report.check(defined, f"{len(defined)} metric names in Sources/PayBridge",
                 "no MetricNameDescriptor found in Sources/PayBridge: update metric_names in this script")
    guarded(report, check_dashboard, documents, defined, report)
    guarded(report, check_rules, documents, defined, root, report)
    guarded(report, validate_rules, root, documents, report)

    print(f"\ndeploy-check: {report.passed} passed, {report.failed} failed"
          + (f", {report.skipped} skipped" if report.skipped else ""))
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
