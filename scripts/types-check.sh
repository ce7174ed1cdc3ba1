#!/usr/bin/env bash
# `make types-check`: types generated from the contract. Python types (pydantic v2 models, and plain dataclasses)
# from every JSON Schema under schemas/*/ with a pinned datamodel-code-generator: the generator must not fail or
# warn, the modules must import, and each schema's own `examples` must load into its generated model
# (scripts/types-check.py says exactly what is checked; docs/integration.md, "Types from the contract", gives teams
# the same command). The venv is .build/types-venv, made once; pip runs again only when the pins below change.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYTHON=${PYTHON:-python3}
VENV=.build/types-venv
PINS=(datamodel-code-generator==0.97.0 pydantic==2.14.4 jsonschema==4.26.0)

if [ ! -x "$VENV/bin/python" ]; then
  echo "==> creating $VENV"
  "$PYTHON" -m venv "$VENV"
fi
stamp="$VENV/paybridge-pins.txt"
if [ "$(cat "$stamp" 2>/dev/null)" != "${PINS[*]}" ]; then
  echo "==> pip install ${PINS[*]}"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "${PINS[@]}"
  echo "${PINS[*]}" > "$stamp"
fi
exec "$VENV/bin/python" scripts/types-check.py
