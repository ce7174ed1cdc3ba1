"""deploy/ as parsed documents, the broker names in them, and the policies in rabbitmq-policies.json."""
import json
import re

import yaml

from .common import COMMANDS_EXCHANGE, POLICY_ARGUMENT, POLICY_KEYS


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
                                "add it to POLICY_KEYS in scripts/deploycheck/common.py if it is one")
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


