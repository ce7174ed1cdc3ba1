#!/usr/bin/env python3
"""Writes the event examples PayBridge's code produced into schemas/events/*.schema.json (`make examples`).

The examples come from Tests/PayBridgeTests/EventExamples.swift: EventExamplesTests writes them, as
{"<schema path>": [event, ...]}, to the file named by PAYBRIDGE_WRITE_EXAMPLES. This script replaces each schema's
`examples` with them; the next build embeds the new texts (the EmbedSchemas plugin).

    python3 scripts/write-event-examples.py .build/event-examples.json
"""
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Number(str):
    """A JSON number kept as its text: 2505.10 stays 2505.10 (json.dumps would write a float's 2505.1)."""


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f, parse_float=Number, parse_int=Number)


def dumps(value, indent=0):
    """json.dumps(value, indent=2, ensure_ascii=False), numbers written as read."""
    pad, inner = " " * indent, " " * (indent + 2)
    if isinstance(value, Number):
        return str(value)
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = [f"{inner}{json.dumps(k, ensure_ascii=False)}: {dumps(v, indent + 2)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(value, list):
        if not value:
            return "[]"
        return "[\n" + ",\n".join(inner + dumps(v, indent + 2) for v in value) + "\n" + pad + "]"
    return json.dumps(value, ensure_ascii=False)


def main():
    generated = load(sys.argv[1])
    for schema, examples in sorted(generated.items()):
        path = os.path.join(ROOT, "schemas", schema)
        document = load(path)
        document["examples"] = examples
        with open(path, "w", encoding="utf-8") as f:
            f.write(dumps(document) + "\n")
        print(f"{schema}: {len(examples)} examples")


if __name__ == "__main__":
    main()
