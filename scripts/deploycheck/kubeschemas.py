"""The Kubernetes manifests against the schemas of the Kubernetes version they target: every object of
deploy/*.yaml (a document with apiVersion and kind) through kubernetes-validate's strict schemas (PyPI; it ships the
JSON schemas of each Kubernetes minor version, so nothing is fetched at check time), the keda.sh kinds through
keda-2.20.schema.json (hand-written from KEDA 2.20's CRDs; no PyPI package ships them) with python-jsonschema.

Both run in .build/deploy-check-venv, which scripts/checkkit/venv.py makes on the first run (pip again only when PINS
change). kubeschemas_venv.py is what runs inside it.
"""
import json
import re
import subprocess
import sys
from pathlib import Path

from checkkit.venv import VenvError, pinned_venv

# The version the manifests target; deploy/README.md ("Kubernetes + KEDA") and the manifests' header comments say
# the same (checked below). kubernetes-validate 1.37.0 ships the schemas of Kubernetes 1.25 ... 1.37.
KUBERNETES_VERSION = "1.35"
KEDA_VERSION = "2.20"
PINS = ("kubernetes-validate==1.37.0", "jsonschema==4.26.0")
VENV = ".build/deploy-check-venv"
MANIFESTS = ("deploy/kubernetes.yaml", "deploy/kubernetes-keda.yaml")
HERE = Path(__file__).resolve().parent
KEDA_SCHEMA = HERE / f"keda-{KEDA_VERSION}.schema.json"


def venv_python(root, report):
    """The venv's python with PINS installed, or None (after a FAIL line) when it cannot be made."""
    try:
        python, made = pinned_venv(root, VENV, PINS)
    except VenvError as error:
        report.fail(str(error))
        return None
    if made:
        report.note(made)
    return python


def check_versions_stated(root, report):
    """README and the manifests' header comments say "targets Kubernetes X.Y" with the version validated against."""
    for relative in ("deploy/README.md",) + MANIFESTS:
        text = (root / relative).read_text()
        stated = set(re.findall(r"[Tt]argets? Kubernetes (1\.\d+)", text))
        said = ", ".join(sorted(stated)) or "(no `targets Kubernetes 1.N`)"
        report.check(stated == {KUBERNETES_VERSION}, f"{relative} targets Kubernetes {KUBERNETES_VERSION}",
                     f"{relative} targets Kubernetes {said}; deploy-check validates against {KUBERNETES_VERSION} "
                     f"(KUBERNETES_VERSION in {Path(__file__).name})")
    keda = (root / "deploy/kubernetes-keda.yaml").read_text()
    report.check(re.search(rf"[Tt]argets? .*KEDA {re.escape(KEDA_VERSION)}\b", keda),
                 f"deploy/kubernetes-keda.yaml targets KEDA {KEDA_VERSION}",
                 f"deploy/kubernetes-keda.yaml does not say it targets KEDA {KEDA_VERSION}, the version of "
                 f"{KEDA_SCHEMA.name}")


def validate_manifests(root, report):
    check_versions_stated(root, report)
    python = venv_python(root, report)
    if python is None:
        return
    # The manifests first, in their order, then any other YAML file here (a new manifest is validated too).
    files = sorted((str(p.relative_to(root)) for p in (root / "deploy").glob("*.yaml")),
                   key=lambda f: (MANIFESTS.index(f) if f in MANIFESTS else len(MANIFESTS), f))
    report.note("strict: a field the schema does not declare is an error, as with `kubectl apply --validate=strict`")
    # -I: isolated, so this folder (code.py, …) does not shadow modules of the venv.
    command = [str(python), "-I", str(HERE / "kubeschemas_venv.py"), KUBERNETES_VERSION, KEDA_VERSION, str(KEDA_SCHEMA)]
    result = subprocess.run(command + files, capture_output=True, text=True, cwd=root)
    try:
        objects = json.loads(result.stdout)
    except ValueError:
        objects = None
    if result.returncode != 0 or objects is None:
        output = (result.stderr or result.stdout).strip().splitlines()[-15:]
        report.fail(f"kubeschemas_venv.py failed (exit {result.returncode}):\n"
                    + "\n".join("        " + line for line in output))
        return
    for obj in objects:
        label = f"{obj['file']}: {obj['kind']} {obj['name']} ({obj['apiVersion']})"
        report.check(not obj["errors"], f"{label} validates against {obj['schema']}",
                     f"{label} does not validate against {obj['schema']}:\n"
                     + "\n".join("        " + error for error in obj["errors"]))
    seen = {o["file"] for o in objects}
    missing = [m for m in MANIFESTS if m not in seen]
    report.check(not missing, f"{len(objects)} objects in {', '.join(sorted(seen))}",
                 f"no Kubernetes object found in {', '.join(missing)}")
