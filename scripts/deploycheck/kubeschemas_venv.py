"""Runs inside .build/deploy-check-venv (kubeschemas.py made it; not importable from the system Python): validates
every Kubernetes object (a YAML document with apiVersion and kind) of the files given against the strict schemas of
one Kubernetes version, as kubernetes-validate ships them, and the keda.sh kinds against the hand-written KEDA schema
beside this file. Prints one JSON list: per object, its file, kind, name, the schema used and the errors (empty when
it validates). Strict: a field the schema does not declare is an error.

Usage: python kubeschemas_venv.py KUBERNETES_VERSION KEDA_VERSION KEDA_SCHEMA FILE...
"""
import json
import re
import sys
from pathlib import Path

import jsonschema
import kubernetes_validate.utils as kv
import yaml
from kubernetes_validate.version import __version__ as tool_version
from referencing import Registry, Resource


def where(error):
    path = ""
    for part in error.absolute_path:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "(top level)"


def messages(validator, document):
    errors = sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path)))
    return [f"{where(e)}: {e.message}" for e in errors]


def kubernetes_schema(document, version):
    """The strict schema kubernetes-validate would use for this object (its own file naming, utils.validate)."""
    api_version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", document["apiVersion"])
    name = f"{document['kind'].lower()}-{api_version}.json"
    return kv.schema_contents(f"kubernetes-json-schema/v{version}.0-local-strict/{name}", version)


def main():
    version, keda_version, keda_path, files = sys.argv[1], sys.argv[2], Path(sys.argv[3]), sys.argv[4:]
    definitions = Resource.from_contents(kv.schema_contents(
        f"kubernetes-json-schema/v{version}.0-local-strict/_definitions.json", version))
    keda = json.loads(keda_path.read_text())
    keda_kinds = {choice["$ref"].rpartition("/")[2] for choice in keda["oneOf"]}  # ScaledObject, TriggerAuthentication
    registry = Registry().with_resources([(definitions.id(), definitions), (keda["$id"], Resource.from_contents(keda))])
    results = []
    for path in files:
        try:
            documents = list(yaml.safe_load_all(Path(path).read_text()))
        except yaml.YAMLError as error:  # the parse check of deploy-check says more
            results.append({"file": path, "kind": "file", "apiVersion": "-", "name": "", "schema": "YAML",
                            "errors": [f"does not parse: {error}"]})
            continue
        for document in documents:
            if not (isinstance(document, dict) and "apiVersion" in document and "kind" in document):
                continue
            metadata = document.get("metadata") if isinstance(document.get("metadata"), dict) else {}
            result = {"file": path, "kind": str(document["kind"]), "apiVersion": str(document["apiVersion"]),
                      "name": str(metadata.get("name", "?")), "errors": []}
            results.append(result)
            if str(document["apiVersion"]).startswith("keda.sh/"):
                result["schema"] = f"KEDA {keda_version} ({keda_path.name})"
                if document["apiVersion"] != "keda.sh/v1alpha1" or document["kind"] not in keda_kinds:
                    result["errors"] = [f"no schema for {document['kind']} {document['apiVersion']} in "
                                        f"{keda_path.name}"]
                    continue
                validator = jsonschema.Draft202012Validator({"$ref": f"{keda['$id']}#/$defs/{document['kind']}"},
                                                            registry=registry)
                result["errors"] = messages(validator, document)
                continue
            result["schema"] = f"Kubernetes {version} (kubernetes-validate {tool_version})"
            try:
                kv.validate(document, version, strict=True)  # the tool's own verdict
            except kv.SchemaNotFoundError as error:
                result["errors"] = [error.message]
            except kv.ValidationError as error:
                # kubernetes-validate reports the best match only; list every error of the same strict schema.
                schema = kubernetes_schema(document, version)
                validator = jsonschema.Draft202012Validator(schema, registry=registry)
                result["errors"] = messages(validator, document) or [f"{where(error)}: {error.message}"]
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
