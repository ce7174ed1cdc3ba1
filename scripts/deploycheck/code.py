"""What the code says: the topology `paybridge topology --print-definitions` prints, the subcommands of
`paybridge --help`, the environment variables the Swift sources read, the executables of Package.swift."""
import os
import re
import subprocess
import sys
import time

from .common import COMMANDS_EXCHANGE, ENV_PREFIXES


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
        # The three broker roles' permissions: no role may have `.*`.
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

