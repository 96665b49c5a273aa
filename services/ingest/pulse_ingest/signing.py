"""Webhook signatures (design/security.md, "Machine-to-machine") and the sealing of secrets.

`X-Pulse-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`

- The HMAC covers the exact bytes received, so the sender must sign the string it sends
  (n8n re-serializes JSON bodies: the workflow sends the signed string as a raw body).
- `t` must be within 300 s of the receiver's clock, either way.
- Every candidate is compared in constant time against every active secret (at most two,
  during rotation), without an early exit, so timing tells nothing about which part matched.
- Several `v1=` values are accepted (a sender may sign with both secrets while rotating).

Secrets at rest are sealed with AES-256-GCM (the `cryptography` package, never home-made
crypto); the key comes from the service's settings.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

SIGNATURE_HEADER: Final = "X-Pulse-Signature"
TOLERANCE_S: Final = 300
SECRET_PREFIX: Final = "whsec_"  # noqa: S105 - a prefix, not a secret
MAX_HEADER: Final = 1000
_SEAL_VERSION: Final = b"\x02"  # 2 = AES-256-GCM
_NONCE: Final = 12
_TAG: Final = 16


class SignatureError(ValueError):
    """Why a request's signature is refused; the message starts with the short reason."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


@dataclass(frozen=True)
class ParsedSignature:
    timestamp: int
    signatures: tuple[str, ...]


def signed_payload(timestamp: int, body: bytes) -> bytes:
    return str(timestamp).encode() + b"." + body


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The hex v1 signature of `body` at `timestamp`."""
    return hmac.new(secret.encode(), signed_payload(timestamp, body), hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},v1={sign(secret, timestamp, body)}"


def parse_header(value: str | None) -> ParsedSignature:
    if value is None or not value.strip():
        raise SignatureError("signature missing", f"send {SIGNATURE_HEADER}: t=<unix>,v1=<hex>")
    if len(value) > MAX_HEADER:
        raise SignatureError("malformed signature header", "header is too long")
    timestamp: int | None = None
    found: list[str] = []
    for part in value.split(","):
        key, sep, item = part.strip().partition("=")
        if not sep:
            continue
        if key == "t" and item.isdigit() and len(item) <= 12:
            timestamp = int(item)
        elif key == "v1" and item:
            found.append(item.lower())
    if timestamp is None:
        raise SignatureError("malformed signature header", "no t=<unix seconds>")
    if not found:
        raise SignatureError("malformed signature header", "no v1=<hex signature>")
    return ParsedSignature(timestamp, tuple(found[:4]))


def verify(
    header: str | None,
    body: bytes,
    active_secrets: Sequence[str],
    *,
    now: float,
    tolerance_s: int = TOLERANCE_S,
) -> None:
    """Raise SignatureError unless `header` signs `body` with one of `active_secrets`."""
    parsed = parse_header(header)
    age = now - parsed.timestamp
    if age > tolerance_s:
        raise SignatureError("timestamp too old", f"signed {int(age)} s ago; at most {tolerance_s}")
    if age < -tolerance_s:
        raise SignatureError(
            "timestamp in the future", f"{int(-age)} s ahead; at most {tolerance_s}"
        )
    if not active_secrets:
        raise SignatureError("signature mismatch", "the organization has no active secret")
    matched = False
    for secret in active_secrets:
        expected = sign(secret, parsed.timestamp, body).encode()
        for candidate in parsed.signatures:
            # `|=` and no break: every comparison runs whatever matched before.
            matched |= hmac.compare_digest(expected, candidate.encode())
    if not matched:
        raise SignatureError("signature mismatch", "no active secret signs this exact body")


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


# --- sealing secrets at rest ----------------------------------------------------------------


def seal(master: bytes, plaintext: str) -> bytes:
    """AES-256-GCM with a random 96-bit nonce: confidential and tamper-evident at rest."""
    nonce = secrets.token_bytes(_NONCE)
    return _SEAL_VERSION + nonce + AESGCM(master).encrypt(nonce, plaintext.encode(), _SEAL_VERSION)


def unseal(master: bytes, sealed: bytes) -> str:
    """The secret; ValueError when the blob was not sealed with this key or was altered."""
    if len(sealed) < 1 + _NONCE + _TAG or sealed[:1] != _SEAL_VERSION:
        raise ValueError("not a sealed secret")
    nonce, cipher = sealed[1 : 1 + _NONCE], sealed[1 + _NONCE :]
    try:
        return AESGCM(master).decrypt(nonce, cipher, _SEAL_VERSION).decode()
    except InvalidTag as exc:
        raise ValueError("sealed secret does not authenticate with this key") from exc


def master_key(configured: str | None, service_token: str) -> bytes:
    """The sealing key: PULSE_INGEST_SIGNING_KEY when set, else derived from the service token."""
    material = configured if configured else "derived-from-service-token:" + service_token
    return hashlib.sha256(material.encode()).digest()
