"""Secrets of the staff surface: argon2id passwords, API tokens, sessions, CSRF, JWT keys."""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal
from uuid import UUID

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

Role = Literal["owner", "manager", "analyst"]
ACCESS_TTL = timedelta(hours=24)
API_TOKEN_PREFIX = "pulse_"  # noqa: S105 - a prefix, not a secret

# argon2id with the library's RFC 9106 low-memory profile: strong, and fast enough that a
# login costs tens of milliseconds on this 2-core machine.
_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the email is unknown, so both answers cost the same time. Made on
    the first sign-in, not at import: a hash costs tens of milliseconds of start-up."""
    return _hasher.hash(secrets.token_urlsafe(16))


class AuthError(Exception):
    """Credentials that do not authenticate anyone (the caller answers 401)."""


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return (
            _hasher.verify(password_hash or _dummy_hash(), password) and password_hash is not None
        )
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


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


def verify_access_token(keys: JwtKeys, token: str, now: datetime) -> Claims:
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
        return Claims(
            user_id=UUID(payload["sub"]),
            org_id=UUID(payload["org"]),
            role=payload["role"],
            session_id=UUID(payload["sid"]),
        )
    except (TypeError, ValueError) as exc:
        raise AuthError("invalid token: malformed claims") from exc
