"""Field types and rules the catalog's input models share (handlers/<resource>.py)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

Count = Annotated[int, Field(ge=0, le=10**15)]
Notes = Annotated[str, Field(max_length=5000)]
HttpsUrl = Annotated[str, Field(max_length=2048, pattern=r"^https://")]


def not_cleared(value: object) -> object:
    """For a Patch model's required fields: they may be changed, never set to null.
    Use as `_kept = field_validator("name", …)(not_cleared)`."""
    if value is None:
        raise ValueError("may be changed but not cleared")
    return value
