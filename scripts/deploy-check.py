#!/usr/bin/env python3
"""`make deploy-check`: deploy/ must not drift from the code.

Parses every YAML (multi-document) and JSON file under deploy/ and checks the names in them against what the code
says: the broker topology printed by `paybridge topology --print-definitions` (queues, exchanges, bindings), the
subcommands of `paybridge --help`, the environment variables the Swift sources read, the executables of
Package.swift. deploy/rabbitmq-definitions.json must equal the printed definitions byte for byte. Then
deploy/compose.yaml goes through `docker compose config` (or `docker-compose config`) when one is installed.
The operators' views (grafana-dashboard.json, prometheus-rules.yaml) must be well-formed, name only metrics the
code defines, point each alert at a runbook section of docs/operations.md, and pass `promtool check rules` and
`promtool test rules` (Debian's prometheus package, which `install-deps.sh deploy` installs). Every Kubernetes
object in deploy/*.yaml must validate, strictly, against the schemas of the Kubernetes version the manifests target
(kubernetes-validate from PyPI; keda.sh kinds against a hand-written KEDA schema), in .build/deploy-check-venv, which
the check makes (python3 -m venv, pinned pip install) on its first run.

Usage: deploy-check.py --paybridge PATH [--root DIR]. Exit status 1 when a check fails, 2 when it cannot run.
Python 3 standard library + PyYAML (Debian python3-yaml); python3-venv and PyPI for that venv. The checks live in
scripts/deploycheck/ (one module per part of deploy/); this file is the entry point the Makefile and CI call.
"""
import sys
from pathlib import Path

try:
    import yaml  # noqa: F401  (the package needs it; say so before importing it)
except ImportError:
    sys.exit("deploy-check: PyYAML is missing: apt-get install python3-yaml (bash scripts/install-deps.sh does)")

sys.path.insert(0, str(Path(__file__).resolve().parent))
from deploycheck.main import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(__doc__.splitlines()[0], Path(__file__).resolve().parent.parent))
