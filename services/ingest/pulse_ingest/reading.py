"""Read an ingest body into its items: the whole body in one parser call, item by item only when
one item makes that call fail.

Why item by item at all: a single NaN, lone surrogate (`"\\ud800"`) or 10,000-deep `raw` used
to fail the parse of the whole body, so the valid items beside it were lost with it. JSON has no
NaN or Infinity, PostgreSQL's jsonb refuses lone surrogates and the parser stops at its nesting
limit, so such an item can never be stored as a value; it is kept instead as its own text (an
`Unreadable`), which becomes that item's rejection and can be seen and replayed. The fallback
only runs for a body the fast parse refused, so valid traffic keeps its one-call cost.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from typing import Any, Final, Literal

from pydantic_core import from_json

from pulse_contracts.posts import MAX_SAMPLES_PER_MESSAGE

MAX_ITEMS: Final = MAX_SAMPLES_PER_MESSAGE
MAX_BODY_BYTES: Final = 5 * 1024 * 1024
# pydantic-core's parser refuses anything nested deeper than this (its fixed recursion limit).
MAX_DEPTH: Final = 200

# A JSON string (escapes included) or one structural character: enough to find where the
# items of a body begin and end without parsing them.
_TOKEN: Final = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{},]')
_ITEMS_WRAPPER: Final = re.compile(rb'\s*\{\s*"items"\s*:\s*(?=\[)')
_OPEN: Final = frozenset(b"[{")
_CLOSE: Final = frozenset(b"]}")
_COMMA: Final = ord(",")
_QUOTE: Final = ord('"')
# Parser messages that mean "this text is not valid Unicode" (lone surrogates, bytes that are
# not UTF-8, raw control characters, broken escapes).
_TEXT_PROBLEMS: Final = ("surrogate", "escape", "unicode", "control character")


class BodyError(ValueError):
    """The request body as a whole is unusable (not JSON, too many items, too large)."""

    def __init__(self, status: Literal[400, 413], message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True, slots=True)
class Unreadable:
    """An item whose text cannot become a storable value: `code` says why, `text` is the item
    exactly as sent (decoded as UTF-8, undecodable bytes as U+FFFD)."""

    code: Literal["invalid_number", "invalid_text", "too_deep"]
    message: str
    text: str


def parse_body(body: bytes) -> list[Any]:
    """One item, a JSON array of items, or {"items": [...]}; an item that cannot be read on
    its own comes back as an `Unreadable` in its place."""
    if len(body) > MAX_BODY_BYTES:
        raise BodyError(413, f"body is {len(body)} bytes; the limit is {MAX_BODY_BYTES}")
    try:
        # pydantic-core's parser: about twice the standard library's speed. NaN and Infinity
        # are refused here (they are not JSON, and jsonb cannot hold them).
        items = _items_of(from_json(body, allow_inf_nan=False))
    except ValueError as exc:
        items = _item_by_item(body, exc)
    if not items:
        raise BodyError(400, 'no items: send one item, an array of items, or {"items": [...]}')
    if len(items) > MAX_ITEMS:
        raise BodyError(413, f"{len(items)} items; the limit is {MAX_ITEMS} per request")
    return items


def _items_of(parsed: Any) -> list[Any]:
    if isinstance(parsed, dict) and set(parsed) == {"items"}:
        parsed = parsed["items"]
    return parsed if isinstance(parsed, list) else [parsed]


def _item_by_item(body: bytes, failure: ValueError) -> list[Any]:
    texts = _item_texts(body)
    if texts is None:
        raise BodyError(400, f"body is not valid JSON: {failure}")
    if texts == [body.strip()]:  # one item, the whole body: its own reason, or the parser's
        with contextlib.suppress(BodyError):
            return [_read_item(texts[0])]
        raise BodyError(400, f"body is not valid JSON: {failure}")
    return [_read_item(text) for text in texts]


def _read_item(text: bytes) -> Any:
    text = text.strip()
    try:
        return from_json(text, allow_inf_nan=False)
    except ValueError as exc:
        reason = str(exc)
    sent = text.decode("utf-8", errors="replace")
    if "recursion limit" in reason:
        return Unreadable("too_deep", f"item is nested deeper than {MAX_DEPTH} levels", sent)
    if any(problem in reason for problem in _TEXT_PROBLEMS):
        return Unreadable(
            "invalid_text",
            f"item holds text that is not valid Unicode ({reason}); a lone surrogate such "
            "as \\ud800, a raw control character or bytes that are not UTF-8",
            sent,
        )
    try:
        from_json(text, allow_inf_nan=True)
    except ValueError:
        raise BodyError(400, f"body is not valid JSON: item {sent[:80]!r}: {reason}") from None
    return Unreadable(
        "invalid_number", "item holds NaN or Infinity, which are not JSON numbers", sent
    )


def _item_texts(body: bytes) -> list[bytes] | None:
    """The text of each item, without parsing them; None when the body's outer shape (an
    array, {"items": [...]} or one value) is broken."""
    stripped = body.strip()
    if stripped.startswith(b"["):
        found = _elements(stripped, 0)
        return found[0] if found and not stripped[found[1] :].strip() else None
    wrapper = _ITEMS_WRAPPER.match(stripped)
    if wrapper:
        found = _elements(stripped, wrapper.end())
        if found and stripped[found[1] :].strip() == b"}":
            return found[0]
    return [stripped]  # one item (read on its own, like any other)


def _elements(body: bytes, opening: int) -> tuple[list[bytes], int] | None:
    """The elements of the array that opens at `opening`, and where it closes; None when it
    never closes."""
    depth = 0
    elements: list[bytes] = []
    begin = opening + 1
    for token in _TOKEN.finditer(body, opening):
        first = body[token.start()]
        if first == _QUOTE:
            continue
        if first in _OPEN:
            depth += 1
        elif first in _CLOSE:
            depth -= 1
            if depth == 0:
                last = body[begin : token.start()]
                if elements or last.strip():
                    elements.append(last)
                return elements, token.end()
        elif first == _COMMA and depth == 1:
            elements.append(body[begin : token.start()])
            begin = token.end()
    return None
