"""Field types and rules the catalog's input models share (handlers/<resource>.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from pydantic import Field, ValidationError

from pulse_runtime.errors import Invalid

Count = Annotated[int, Field(ge=0, le=10**15)]
Notes = Annotated[str, Field(max_length=5000)]
HttpsUrl = Annotated[str, Field(max_length=2048, pattern=r"^https://")]


def not_cleared(value: object) -> object:
    """For a Patch model's required fields: they may be changed, never set to null.
    Use as `_kept = field_validator("name", …)(not_cleared)`."""
    if value is None:
        raise ValueError("may be changed but not cleared")
    return value


def invalid_fields(
    exc: ValidationError,
    field_of: Callable[[Any], str] = lambda err: ".".join(map(str, err["loc"])),
) -> Invalid:
    """A settings document's validation errors as one Invalid naming every bad field
    (`body.<field>`), the way request validation names them."""
    details = [
        {"path": f"body.{field_of(err)}", "message": err["msg"], "type": err["type"]}
        for err in exc.errors()
    ]
    names = ", ".join(dict.fromkeys(d["path"] for d in details))
    first = details[0]["path"].removeprefix("body.")
    return Invalid(first, f"invalid fields: {names}", details=details)
