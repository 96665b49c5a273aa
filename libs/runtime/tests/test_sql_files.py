"""SqlFiles: one .sql file per statement, with a row's column list written once."""

from __future__ import annotations

from pathlib import Path

import pytest

from pulse_runtime.db import SqlFiles


def test_a_fragment_is_written_once_and_named_where_it_is_used(tmp_path: Path) -> None:
    (tmp_path / "things_row.sql").write_text("id, name,\n       created_at\n")
    (tmp_path / "things_get.sql").write_text("SELECT {{ things_row }}\nFROM t WHERE id = $1\n")
    (tmp_path / "things_insert.sql").write_text(
        "INSERT INTO t (name) VALUES ($1)\nRETURNING {{things_row}}\n"
    )
    sql = SqlFiles(tmp_path)
    assert sql.things_get == "SELECT id, name,\n       created_at\nFROM t WHERE id = $1\n"
    assert sql.things_insert.endswith("RETURNING id, name,\n       created_at\n")


def test_a_missing_statement_or_fragment_is_named(tmp_path: Path) -> None:
    (tmp_path / "broken.sql").write_text("SELECT {{ nowhere }}")
    sql = SqlFiles(tmp_path)
    with pytest.raises(AttributeError, match=r"nowhere\.sql"):
        _ = sql.broken
    with pytest.raises(AttributeError, match=r"absent\.sql"):
        _ = sql.absent


def test_every_statement_of_every_service_expands_to_plain_sql() -> None:
    """No statement reaches PostgreSQL with a placeholder left in it."""
    services = Path(__file__).parents[3] / "services"
    directories = sorted({p.parent for p in services.glob("*/pulse_*/**/sql/*.sql")})
    assert directories
    for directory in directories:
        sql = SqlFiles(directory)
        for path in sorted(directory.glob("*.sql")):
            assert "{{" not in getattr(sql, path.stem), path
