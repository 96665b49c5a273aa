"""Secrets of the staff surface: argon2id passwords, API tokens, sessions, CSRF, JWT keys."""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal
from uuid import UUID

import jwt

from pulse_runtime import passwords

Role = Literal["owner", "manager", "analyst"]
ACCESS_TTL = timedelta(hours=24)
API_TOKEN_PREFIX = "pulse_"  # noqa: S105 - a prefix, not a secret


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the email is unknown, so both answers cost the same time. Made on
    the first sign-in, not at import: a hash costs tens of milliseconds of start-up."""
    return passwords.hash_password(secrets.token_urlsafe(16))


class AuthError(Exception):
    """Credentials that do not authenticate anyone (the caller answers 401)."""


def verify_password(password_hash: str | None, password: str) -> bool:
    """Blocking (argon2id, pulse_runtime.passwords): call it through `passwords.run`. Without
    a hash, the dummy one is checked, so an unknown account costs the same time."""
    return passwords.verify_password(password_hash or _dummy_hash(), password) and bool(
        password_hash
    )


def sha256(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def new_secret(prefix: str = "") -> tuple[str, bytes]:
    """32 random bytes, URL-safe: the value shown once, and the SHA-256 that is stored."""
    value = prefix + secrets.token_urlsafe(32)
    return value, sha256(value)


def new_api_token() -> tuple[str, bytes]:
    return new_secret(API_TOKEN_PREFIX)


def new_csrf_token() -> str:
    return secrets.token_urlsafe(24)


def csrf_matches(expected: str, presented: str | None) -> bool:
    return presented is not None and hmac.compare_digest(expected.encode(), presented.encode())


@dataclass(frozen=True)
class JwtKeys:
    """Signing keys by id; tokens are signed with `current` and verified with any listed key,
    so a key can be rotated without signing everybody out."""

    current: str
    keys: dict[str, str]
    # Tokens these keys already verified: the check is a pure function of the token and the
    # keys, so a repeat presentation skips PyJWT (verify_access_token says what stays checked).
    verified: VerifiedTokens = field(
        default_factory=lambda: VerifiedTokens(), compare=False, repr=False
    )

    @classmethod
    def parse(cls, spec: str) -> JwtKeys:
        """`kid1:secret1,kid2:secret2`: the first is current."""
        pairs = [part.split(":", 1) for part in spec.split(",") if part.strip()]
        if not pairs or any(len(p) != 2 or not p[0] or len(p[1]) < 32 for p in pairs):
            raise ValueError(
                "PULSE_JWT_KEYS must be `kid:secret[,kid:secret]` with 32+ char secrets"
            )
        return cls(current=pairs[0][0].strip(), keys={k.strip(): v for k, v in pairs})


@dataclass(frozen=True)
class Claims:
    user_id: UUID
    org_id: UUID
    role: Role
    # The session the token was issued with (`sid`): signing out, a password change or
    # disabling the person deletes it, and with it every JWT that names it.
    session_id: UUID


def issue_access_token(keys: JwtKeys, claims: Claims, now: datetime) -> str:
    payload = {
        "sub": str(claims.user_id),
        "org": str(claims.org_id),
        "role": claims.role,
        "sid": str(claims.session_id),
        "iat": int(now.timestamp()),
        "exp": int((now + ACCESS_TTL).timestamp()),
    }
    return jwt.encode(
        payload, keys.keys[keys.current], algorithm="HS256", headers={"kid": keys.current}
    )


class VerifiedTokens:
    """The claims of at most `max_entries` tokens whose signature and claims were verified,
    each with its `exp`, oldest use evicted first.

    Why it is safe: whether a token's signature and claims are valid depends only on the
    token's bytes and the keys (this cache belongs to one JwtKeys), and the one thing that
    changes with time, expiry, is compared with `now` again on every hit. Nothing here
    authorizes: the session row (sessions.py) still decides, on every request, whether the
    token's session is alive and what its person's role is, so revocation is untouched.
    """

    def __init__(self, max_entries: int = 4096) -> None:
        self._max = max_entries
        self._entries: OrderedDict[str, tuple[float, Claims]] = OrderedDict()

    def get(self, token: str) -> tuple[float, Claims] | None:
        found = self._entries.get(token)
        if found is not None:
            self._entries.move_to_end(token)
        return found

    def put(self, token: str, exp: float, claims: Claims) -> None:
        self._entries[token] = (exp, claims)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)


def verify_access_token(keys: JwtKeys, token: str, now: datetime) -> Claims:
    """The token's claims, or AuthError. A token these keys verified before is not decoded
    again (VerifiedTokens): only its expiry is compared with `now`."""
    if (known := keys.verified.get(token)) is not None:
        exp, claims = known
        if exp <= now.timestamp():
            raise AuthError("token expired")
        return claims
    exp, claims = _decode_access_token(keys, token, now)
    keys.verified.put(token, exp, claims)
    return claims


def _decode_access_token(keys: JwtKeys, token: str, now: datetime) -> tuple[float, Claims]:
    try:
        kid = jwt.get_unverified_header(token).get("kid")
        key = keys.keys.get(str(kid))
        if key is None:
            raise AuthError("unknown signing key")
        payload = jwt.decode(
            token,
            key,
            algorithms=["HS256"],  # never "none", never whatever the token asks for
            # A token without `sid` predates revocable sessions: it cannot be ended, so it
            # is refused and its holder signs in again.
            options={"require": ["exp", "sub", "org", "role", "sid"], "verify_exp": False},
        )
    except jwt.PyJWTError as exc:
        raise AuthError(f"invalid token: {exc}") from exc
    if payload["exp"] <= now.timestamp():
        raise AuthError("token expired")
    if payload["role"] not in ("owner", "manager", "analyst"):
        raise AuthError("invalid role")
    try:
        return float(payload["exp"]), Claims(
            user_id=UUID(payload["sub"]),
            org_id=UUID(payload["org"]),
            role=payload["role"],
            session_id=UUID(payload["sid"]),
        )
    except (TypeError, ValueError) as exc:
        raise AuthError("invalid token: malformed claims") from exc
