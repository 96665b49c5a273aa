"""JSON Schema of every message type, checked in under contracts/schemas/ for other teams' tools.

`python -m pulse_contracts.schemas [DIR]` rewrites them; a test fails when they are stale.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from .envelope import REGISTRY, Envelope

DEFAULT_DIR = Path(__file__).resolve().parent.parent / "schemas"


def schema_documents() -> dict[str, dict[str, Any]]:
    """File name → JSON Schema of the full envelope with that type's data."""
    documents: dict[str, dict[str, Any]] = {}
    for (event_type, version), model in sorted(REGISTRY.items()):
        schema = Envelope[model].model_json_schema()  # type: ignore[valid-type]
        schema["title"] = f"{event_type} v{version}"
        schema["properties"]["type"]["const"] = event_type
        schema["properties"]["version"]["const"] = version
        documents[f"{event_type}.v{version}.json"] = schema
    return documents


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def write(directory: Path = DEFAULT_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in schema_documents().items():
        path = directory / name
        path.write_text(render(schema), encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for path in write(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_DIR):
        print(path)
