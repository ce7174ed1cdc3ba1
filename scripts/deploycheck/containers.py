"""How PayBridge is run: compose.yaml, the Kubernetes manifests and KEDA, the Dockerfile, paybridge.env.example
and the example commands."""
import json
import os
import re
import shutil
import subprocess
import tempfile
import urllib.parse

from .common import COMMANDS_EXCHANGE, ENV_HARMLESS, ENV_OTEL_PREFIX


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
    # The `prebuilt` stage copies the binaries from the context scripts/images.sh makes (prebuilt/ + the probe), not
    # from the repository: it must copy exactly what the `build` stage builds.
    prebuilt = set(re.findall(r"\bprebuilt/([\w-]+)", "".join(re.findall(r"^COPY\s+prebuilt/.*$", text, re.M))))
    report.check(prebuilt == products, f"Dockerfile's prebuilt stage copies {', '.join(sorted(prebuilt))}",
                 f"Dockerfile's prebuilt stage copies {', '.join(sorted(prebuilt)) or 'nothing'}, "
                 f"not what its build stage builds ({', '.join(sorted(products))})")
    for source in re.findall(r"^COPY\s+(?!--from)(\S+)\s", text, re.M):
        if source not in (".", "./", "Package.swift", "Package.swift ./") and not source.startswith("prebuilt/"):
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


