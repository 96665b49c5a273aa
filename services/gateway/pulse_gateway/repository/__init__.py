"""The catalog's tables, one module per resource; SQL lives in sql/ beside them.

Every function takes a connection from `db.org_transaction` and still filters by org_id
itself: row-level security is the second line, not the first.
"""

from pathlib import Path

from pulse_runtime.db import SqlFiles

sql = SqlFiles(Path(__file__).parent / "sql")
