#!/usr/bin/env python3
"""Writes the event examples PayBridge's code produced into schemas/events/*.schema.json (`make examples`).

The examples come from Tests/PayBridgeTests/EventExamples.swift: EventExamplesTests writes them, as
{"<schema path>": [event, ...]}, to the file named by PAYBRIDGE_WRITE_EXAMPLES. This script replaces each schema's
`examples` with them; `python3 scripts/embed-schemas.py` then regenerates the embedded copies.

    python3 scripts/write-event-examples.py .build/event-examples.json
"""
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    generated = json.load(open(sys.argv[1], encoding="utf-8"))
    for schema, examples in sorted(generated.items()):
        path = os.path.join(ROOT, "schemas", schema)
        with open(path, encoding="utf-8") as f:
            document = json.load(f)
        document["examples"] = examples
        with open(path, "w", encoding="utf-8") as f:
            f.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
        print(f"{schema}: {len(examples)} examples")


if __name__ == "__main__":
    main()
