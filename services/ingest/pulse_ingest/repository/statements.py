"""ingest's schema and its statements: one file per statement in sql/ beside the repository."""

from __future__ import annotations

from pathlib import Path

from pulse_runtime.db import SqlFiles

SCHEMA = "ingest"
sql = SqlFiles(Path(__file__).parent.parent / "sql")
