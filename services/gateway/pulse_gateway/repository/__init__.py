"""The catalog's tables, one module per resource; SQL lives in sql/ beside them.

Every function takes a connection from `db.org_transaction` and still filters by org_id
itself: row-level security is the second line, not the first.
"""

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pulse_runtime.db import SqlFiles

sql = SqlFiles(Path(__file__).parent / "sql")


def in_order(values: Mapping[str, Any], columns: Sequence[str]) -> list[Any]:
    """A row's values as the statement's parameters after org_id and id ($3 onwards), in the
    order `columns` names them: the one list that both the insert and the update file number."""
    return [values[c] for c in columns]
