#!/usr/bin/env python3
"""Types generated from the contract (`make types-check`; run by scripts/types-check.sh inside its venv).

For every JSON Schema under schemas/*/ (commands/, events/, and any directory added later), one line:
- the schema has no duplicated `enum` value (generators refuse them, or emit one member twice);
- its `examples` validate with python-jsonschema (Draft 2020-12, format checking off);
- datamodel-code-generator turns it into pydantic v2 models without failing or warning (GENERATOR_ARGS below: the
  command docs/integration.md, "Types from the contract", gives teams), the module imports without a warning, and
  every example loads into the generated model (`model_validate` and `model_validate_json`);
- schemas of what clients publish (commands/, queries/): each example loaded into the model and written back as a
  producer writes it (`model_dump_json(by_alias=True, exclude_none=True)`) still validates with the schema;
- event schemas (the ones with tolerant enums, `$defs/laterValue`): an example carrying values added within v1 later
  (status, provider, operation, error class, confirmedBy), an unknown `data` field and an extension attribute still
  validates, with the schema and with the model, and the model keeps the unknown field;
- the same generator with `--output-model-type dataclasses.dataclass` does not fail or warn, and its module imports.

The generator runs in this process through the entry point of its `datamodel-codegen` command (the same argument
list; one Python start instead of two per schema). Exit status 1 when any schema fails; the generated modules are
written to a temporary directory and removed.
"""
import contextlib
import copy
import glob
import importlib
import importlib.metadata
import inspect
import io
import json
import os
import sys
import tempfile
import time
import typing
import warnings

import jsonschema
import pydantic
import referencing
from datamodel_code_generator.__main__ import main as datamodel_codegen

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# The options teams use (docs/integration-types.section.md); `--output-model-type` and `--output` are added per run.
GENERATOR_ARGS = [
    "--input-file-type", "jsonschema",
    "--use-title-as-name",  # class names from the schemas' titles: PaymentResponseData, KnownPaymentStatus, ...
    "--collapse-root-models",  # `status: Literal[...] | str`, not a wrapper model with `.root`
    "--enum-field-as-literal", "all",  # enums as Literal[...]: with the tolerant branch a value stays a plain str
    "--formatters", "builtin",  # no black/isort, and no warning about the default formatters changing
    "--no-allow-remote-refs",  # every $ref is local; never fetch
]
MODEL_TYPES = ["pydantic_v2.BaseModel", "dataclasses.dataclass"]
PUBLISHED_BY_CLIENTS = {"commands", "queries"}  # schemas/<dir>/ whose messages clients build and write


def schema_files():
    return sorted(glob.glob(os.path.join(ROOT, "schemas", "*", "*.json")))


def duplicated_enum_values(node, path="#"):
    """Every `enum` (outside `examples`) that lists a value twice, as 'path: value'."""
    found = []
    if isinstance(node, dict):
        values = node.get("enum")
        if isinstance(values, list):
            texts = [json.dumps(v, sort_keys=True) for v in values]
            found += [f"{path}/enum: {t}" for t in sorted(set(texts)) if texts.count(t) > 1]
        for key, value in node.items():
            if key != "examples":
                found += duplicated_enum_values(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += duplicated_enum_values(value, f"{path}/{i}")
    return found


def generate(schema_path, model_type, output):
    """Runs the generator; returns what it printed or warned (empty when clean). Raises when it fails."""
    args = ["--input", schema_path, *GENERATOR_ARGS, "--output-model-type", model_type, "--output", output]
    printed = io.StringIO()
    with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(printed), \
            contextlib.redirect_stderr(printed):
        # What the `datamodel-codegen` command prints, every time: all warnings but the deprecation ones Python's
        # default filters hide outside __main__ (today only pydantic's advice to use --use-annotated, which would
        # put the tolerant branch first in every enum's union).
        warnings.simplefilter("always")
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        warnings.filterwarnings("ignore", category=PendingDeprecationWarning)
        status = datamodel_codegen(args)
    if int(status or 0) != 0:
        raise RuntimeError(f"datamodel-codegen exited {int(status)}: {printed.getvalue().strip()[:500]}")
    return printed.getvalue().strip() + "".join(f"\n{w.category.__name__}: {w.message}" for w in caught)


def load_module(name, directory):
    """Imports a generated module; any warning while importing (pydantic's included) is an error."""
    sys.path.insert(0, directory)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            return importlib.import_module(name)
    finally:
        sys.path.remove(directory)


def root_model(module, schema):
    """The message's model: the generator writes it last (everything it uses comes before it)."""
    models = [c for c in vars(module).values()
              if inspect.isclass(c) and issubclass(c, pydantic.BaseModel) and c.__module__ == module.__name__]
    if not models:
        raise RuntimeError("no pydantic model generated")
    model = models[-1]
    const = schema.get("properties", {}).get("type", {}).get("const")
    field = model.model_fields.get("type")
    if const is not None and (field is None or typing.get_args(field.annotation) != (const,)):
        raise RuntimeError(f"{model.__name__} (the last model) is not the one for type {const}")
    return model


def later_values_example(schema):
    """The first example with values a later v1 may add (docs/contract.md, "Versioning"), or None for schemas
    without tolerant enums (commands)."""
    if "laterValue" not in schema.get("$defs", {}) or not schema.get("examples"):
        return None
    # An example that carries an error, where there is one: a later error class is probed on it (a reply has either
    # methods or an error, never both).
    with_error = [e for e in schema["examples"] if isinstance(e.get("data"), dict) and e["data"].get("error")]
    event = copy.deepcopy((with_error or schema["examples"])[0])
    data = event["data"]
    properties = schema["$defs"]["data"]["properties"]
    later = {"status": "on_hold", "provider": "thirdpay", "operation": "refund", "confirmedBy": "webhook_v2"}
    for name, value in later.items():
        if name in properties:
            data[name] = value
    if "error" in properties:
        data["error"] = {"code": "SOMETHING_NEW", "message": "", "class": "rate_limited"}
    data["fieldAddedLater"] = {"any": ["json", 1]}
    event["traceparent"] = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    return event


def brief(error):
    """One line for an exception: pydantic's errors as `location: message`."""
    if isinstance(error, pydantic.ValidationError):
        text = "; ".join(f"{'.'.join(map(str, e['loc'])) or '$'}: {e['msg']}" for e in error.errors())
    else:
        text = f"{type(error).__name__}: {error}"
    return " ".join(text.split())[:500]


def check(schema_path, workdir):
    """One schema; returns (ok, line)."""
    name = os.path.relpath(schema_path, os.path.join(ROOT, "schemas"))
    with open(schema_path, encoding="utf-8") as f:
        schema = json.load(f)
    examples = schema.get("examples", [])
    problems = [f"duplicated enum value {d}" for d in duplicated_enum_values(schema)]

    jsonschema.Draft202012Validator.check_schema(schema)
    # No format_checker: formats are not asserted. An empty registry: a $ref that is not local fails, never fetched.
    validator = jsonschema.Draft202012Validator(schema, registry=referencing.Registry())
    for i, example in enumerate(examples):
        problems += [f"example {i}: {m}" for m in schema_errors(validator, example)]

    module_base = os.path.splitext(name)[0].replace(os.sep, "__").replace(".", "_").replace("-", "_")
    models = {}
    for model_type in MODEL_TYPES:
        module_name = f"{module_base}__{model_type.split('.')[0]}"
        try:
            printed = generate(schema_path, model_type, os.path.join(workdir, module_name + ".py"))
            if printed:
                problems.append(f"{model_type}: the generator warned: {' '.join(printed.split())[:500]}")
            models[model_type] = load_module(module_name, workdir)
        except Exception as e:  # noqa: BLE001 - reported per schema, the check goes on
            problems.append(f"{model_type}: {brief(e)}")

    model_name, notes = "-", ""
    if "pydantic_v2.BaseModel" in models:
        try:
            model = root_model(models["pydantic_v2.BaseModel"], schema)
            model_name = model.__name__
            found, notes = model_problems(model, schema, name.split(os.sep)[0], validator)
            problems += found
        except Exception as e:  # noqa: BLE001
            problems.append(f"pydantic: {brief(e)}")

    if problems:
        return False, f"FAIL {name}: " + "; ".join(problems)
    kinds = " + ".join(t.split(".")[0] for t in MODEL_TYPES)
    return True, (f"ok   {name}: {model_name}, {len(examples)} examples valid (jsonschema, pydantic){notes}; "
                  f"{kinds} generated and imported, no warnings")


def model_problems(model, schema, directory, validator):
    """The generated model against the schema's examples (and, per kind of schema, what a producer writes or what a
    later v1 may send); returns (problems, what was checked beyond the examples)."""
    problems, notes = [], ""
    for i, example in enumerate(schema.get("examples", [])):
        for how, load in (("model_validate", model.model_validate),
                          ("model_validate_json", lambda e: model.model_validate_json(json.dumps(e)))):
            try:
                load(example)
            except pydantic.ValidationError as e:
                problems.append(f"example {i}: {model.__name__}.{how}: {brief(e)}")
        if directory in PUBLISHED_BY_CLIENTS and not problems:
            written = model.model_validate(example).model_dump_json(by_alias=True, exclude_none=True)
            problems += [f"example {i} as the model writes it: {m}"
                         for m in schema_errors(validator, json.loads(written))]
            notes = ", written back valid"
    event = later_values_example(schema)
    if event is not None:
        problems += [f"later values: {m}" for m in schema_errors(validator, event)]
        try:
            loaded = model.model_validate_json(json.dumps(event))
            if (loaded.data.model_extra or {}).get("fieldAddedLater") != event["data"]["fieldAddedLater"]:
                problems.append("later values: the model dropped an unknown data field")
        except pydantic.ValidationError as e:
            problems.append(f"later values: {model.__name__}.model_validate_json: {brief(e)}")
        notes = ", later values and unknown fields kept"
    return problems, notes


def schema_errors(validator, instance):
    return [f"jsonschema: {e.json_path}: {' '.join(e.message.split())[:300]}" for e in validator.iter_errors(instance)]


def main():
    started = time.monotonic()
    files = schema_files()
    if not files:
        print("FAIL no schema under schemas/*/")
        return 1
    print(f"datamodel-code-generator {importlib.metadata.version('datamodel-code-generator')}, "
          f"pydantic {pydantic.VERSION}, jsonschema {importlib.metadata.version('jsonschema')}: "
          f"datamodel-codegen --input <schema> {' '.join(GENERATOR_ARGS)} --output-model-type <type>")
    failed = 0
    with tempfile.TemporaryDirectory(prefix="paybridge-types-") as workdir:
        for path in files:
            try:
                ok, line = check(path, workdir)
            except Exception as e:  # noqa: BLE001 - an unreadable schema fails its line, not the run
                ok, line = False, f"FAIL {os.path.relpath(path, os.path.join(ROOT, 'schemas'))}: {brief(e)}"
            failed += not ok
            print(line, flush=True)
    print(f"types-check: {len(files) - failed}/{len(files)} schemas ok in {time.monotonic() - started:.1f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
