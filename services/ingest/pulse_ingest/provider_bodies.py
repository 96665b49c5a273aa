"""Reading a provider body: the ways it can fail, and path reads that fail as malformed_body."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final, TypeGuard
from urllib.parse import urlsplit, urlunsplit

from pulse_contracts.values import Platform

PROVIDER_ERROR: Final = "provider_error"
OUT_OF_CREDITS: Final = "out_of_credits"
UNRECOGNISED_BODY: Final = "unrecognised_body"
MALFORMED_BODY: Final = "malformed_body"

# Same ceiling as pulse_contracts.values.Counter, so anything we emit also validates there.
_MAX_COUNTER: Final = 10**15
_DIGITS_RE: Final = re.compile(r"\d+")


class ProviderBodyError(ValueError):
    """A provider body that cannot become a NormalizedPost; `code` says which kind of failure."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class BodyPaths:
    """Dotted-path reads over one body that raise malformed_body naming the platform and path."""

    def __init__(self, platform: Platform, raw: Mapping[str, Any]) -> None:
        self.platform = platform
        self.raw = raw

    def malformed(self, path: str, problem: str) -> ProviderBodyError:
        return ProviderBodyError(MALFORMED_BODY, f"{self.platform} body {problem}: {path}")

    def get(self, path: str) -> Any:
        """Value at `path`, None when any step is missing or null; wrong containers raise."""
        node: Any = self.raw
        walked: list[str] = []
        for step in path.split("."):
            if node is None:
                return None
            if isinstance(node, Mapping):
                node = node.get(step)
            elif isinstance(node, Sequence) and not isinstance(node, str | bytes):
                if not step.isdigit():
                    raise self.malformed(".".join(walked), "has a list where an object belongs")
                index = int(step)
                node = node[index] if index < len(node) else None
            else:
                raise self.malformed(".".join(walked), f"has a {type(node).__name__} here")
            walked.append(step)
        return node

    def require_mapping(self, path: str) -> None:
        value = self.get(path)
        if value is None:
            raise ProviderBodyError(MALFORMED_BODY, f"{self.platform} body has no {path}")
        if not isinstance(value, Mapping):
            raise self.malformed(path, f"has a {type(value).__name__} instead of an object")

    def required_id(self, path: str) -> str:
        value = self.get(path)
        if is_int(value) and value >= 0:
            return str(value)
        if isinstance(value, str) and value.strip():
            return value.strip()
        if value is None or value == "":
            raise ProviderBodyError(MALFORMED_BODY, f"{self.platform} body has no {path}")
        raise self.malformed(path, f"has a {type(value).__name__} id")

    def counter(self, path: str) -> int | None:
        value = self.get(path)
        if value is None:
            # Missing means "not exposed"; turning it into 0 would fake a real measurement.
            return None
        number: int | None = None
        if is_int(value):
            number = value
        elif isinstance(value, float) and value.is_integer():
            number = int(value)
        elif isinstance(value, str) and _DIGITS_RE.fullmatch(value.strip()):
            number = int(value.strip())
        if number is None:
            raise self.malformed(path, f"has a non-numeric counter {short_repr(value)}")
        if number < 0:
            raise self.malformed(path, f"has a negative counter {number}")
        if number > _MAX_COUNTER:
            raise self.malformed(path, f"has an implausibly large counter {number}")
        return number

    def text(self, path: str) -> str | None:
        value = self.get(path)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self.malformed(path, f"has a {type(value).__name__} instead of a string")
        return value.strip() or None

    def first_url(self, path: str) -> str | None:
        items = self.get(path)
        if items is None:
            return None
        if not isinstance(items, Sequence) or isinstance(items, str | bytes):
            raise self.malformed(path, "is not a list")
        return self.text(f"{path}.0") if items else None

    def timestamp(self, path: str) -> datetime | None:
        value = self.get(path)
        if value is None or value == "":
            return None
        try:
            if is_int(value) or isinstance(value, float):
                return from_unix(value)
            if isinstance(value, str):
                stripped = value.strip()
                if _DIGITS_RE.fullmatch(stripped):
                    return from_unix(int(stripped))
                parsed = datetime.fromisoformat(stripped)
                # A bare date/time has no offset; the provider speaks UTC everywhere else.
                if parsed.tzinfo is None:
                    parsed = parsed.replace(tzinfo=UTC)
                return parsed.astimezone(UTC)
        except (ValueError, OverflowError, OSError):
            pass
        raise self.malformed(path, f"has an unreadable timestamp {short_repr(value)}")


def from_unix(seconds: float) -> datetime | None:
    if seconds <= 0:
        # 0 is a placeholder for "unknown", not 1970.
        return None
    return datetime.fromtimestamp(seconds, tz=UTC)


def is_int(value: object) -> TypeGuard[int]:
    # bool is an int subclass; a true/false counter is a shape error, not 1/0.
    return isinstance(value, int) and not isinstance(value, bool)


def short_repr(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def host_of(url: object) -> str | None:
    if not isinstance(url, str):
        return None
    try:
        host = urlsplit(url.strip()).hostname
    except ValueError:
        return None
    return host.rstrip(".").lower() if host else None


def host_in(host: str | None, domains: Sequence[str]) -> bool:
    if host is None:
        return False
    return any(host == d or host.endswith("." + d) for d in domains)


def without_query(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
