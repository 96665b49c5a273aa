"""What a share link allows and how it is guarded: tokens (only their hash is kept), expiry,
unlock cookies signed over the link's password hash (argon2id: pulse_runtime.passwords), and
the truncated address the access log keeps. Pure, no I/O."""

from __future__ import annotations

import functools
import hashlib
import hmac
import ipaddress
import secrets
from datetime import datetime, timedelta
from typing import Literal
from uuid import UUID

# --- links: tokens, expiry, passwords, unlock cookies -----------------------------------------

LinkState = Literal["active", "expired", "revoked"]
MAX_LINK_LIFETIME = timedelta(days=5 * 366)


def new_token() -> tuple[str, bytes]:
    """32 random bytes, URL-safe: the token shown once, and the SHA-256 that is stored."""
    token = secrets.token_urlsafe(32)
    return token, token_digest(token)


def token_digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def link_state(
    *, expires_at: datetime | None, revoked_at: datetime | None, now: datetime
) -> LinkState:
    if revoked_at is not None and revoked_at <= now:
        return "revoked"
    if expires_at is not None and expires_at <= now:
        return "expired"
    return "active"


def expiry_problem(expires_at: datetime | None, now: datetime) -> str | None:
    """Why an expiry cannot be set, or None when it can."""
    if expires_at is None:
        return None
    if expires_at.tzinfo is None:
        return "expires_at must carry a timezone (e.g. 2026-12-31T23:59:59Z)"
    if expires_at <= now:
        return "expires_at must be in the future"
    if expires_at - now > MAX_LINK_LIFETIME:
        return "expires_at must be within 5 years (or null: the link never expires)"
    return None


def unlock_key(secret: str) -> bytes:
    """The key of unlock cookies, derived so it is never the secret it comes from."""
    return hmac.new(secret.encode(), b"pulse-share-unlock-v1", hashlib.sha256).digest()


def _unlock_mac(key: bytes, link_id: UUID, password_hash: str, expires: int) -> str:
    message = f"{link_id}|{expires}|{password_hash}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def sign_unlock(key: bytes, link_id: UUID, password_hash: str, expires: datetime) -> str:
    """A cookie value proving this link was unlocked, valid until `expires`. It names the link
    and its password hash, so it opens nothing else."""
    stamp = int(expires.timestamp())
    return f"{stamp}.{_unlock_mac(key, link_id, password_hash, stamp)}"


def unlocked(
    key: bytes, cookie: str | None, link_id: UUID, password_hash: str, now: datetime
) -> bool:
    if not cookie or len(cookie) > 200:
        return False
    stamp, _, mac = cookie.partition(".")
    if not stamp.isdigit() or int(stamp) <= now.timestamp():
        return False
    expected = _unlock_mac(key, link_id, password_hash, int(stamp))
    return hmac.compare_digest(expected.encode(), mac.encode())


def unlock_expiry(now: datetime, ttl: timedelta, link_expires_at: datetime | None) -> datetime:
    """Short-lived, and never beyond the link's own expiry."""
    until = now + ttl
    return min(until, link_expires_at) if link_expires_at else until


# --- the access log ---------------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)  # every view logs it; parsing the address was 2 % of one
def truncated_address(host: str | None) -> str:
    """The caller's network, not its address: IPv4 /24, IPv6 /48."""
    if not host:
        return "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return "unknown"
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))
