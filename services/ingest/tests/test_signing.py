"""Webhook signature verification (pure): HMAC-SHA256 over "<t>.<raw body>", 300 s tolerance,
two active secrets during rotation; and sealing secrets at rest."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from pulse_ingest.signing import (
    SignatureError,
    master_key,
    new_secret,
    parse_header,
    seal,
    sign,
    signature_header,
    unseal,
    verify,
)

NOW = 1_790_000_000
OLD, NEW = new_secret(), new_secret()
BODY = json.dumps({"items": [{"post_id": "x", "metrics": {"views": 1}}]}).encode()


def header(secret: str, t: int = NOW, body: bytes = BODY) -> str:
    return f"t={t},v1={sign(secret, t, body)}"


def reason(value: str | None, body: bytes = BODY, secrets: tuple[str, ...] = (OLD,)) -> str:
    with pytest.raises(SignatureError) as caught:
        verify(value, body, list(secrets), now=NOW)
    return caught.value.reason


def test_the_signature_is_hmac_sha256_over_t_dot_raw_body() -> None:
    expected = hmac.new(OLD.encode(), f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert sign(OLD, NOW, BODY) == expected
    assert signature_header(OLD, NOW, BODY) == f"t={NOW},v1={expected}"


def test_a_valid_signature_passes() -> None:
    verify(header(OLD), BODY, [OLD], now=NOW)
    # Whitespace and an upper-case hex digest are the same signature.
    verify(f" t={NOW} , v1={sign(OLD, NOW, BODY).upper()}", BODY, [OLD], now=NOW)


def test_a_missing_header_is_refused() -> None:
    assert reason(None) == "signature missing"
    assert reason("") == "signature missing"


def test_malformed_headers_are_refused() -> None:
    assert reason(f"v1={sign(OLD, NOW, BODY)}") == "malformed signature header"
    assert reason(f"t={NOW}") == "malformed signature header"
    assert reason(f"t=soon,v1={sign(OLD, NOW, BODY)}") == "malformed signature header"
    assert reason("x" * 2000) == "malformed signature header"


def test_the_wrong_secret_is_refused() -> None:
    assert reason(header(new_secret())) == "signature mismatch"


def test_a_modified_body_is_refused() -> None:
    assert reason(header(OLD), body=BODY.replace(b'"views": 1', b'"views": 9')) == (
        "signature mismatch"
    )
    # Re-serialized JSON (what n8n would send from a JSON body) is a different body.
    reserialized = json.dumps(json.loads(BODY), separators=(",", ":")).encode()
    assert reason(header(OLD), body=reserialized) == "signature mismatch"


def test_the_timestamp_is_part_of_the_signature() -> None:
    forged = f"t={NOW - 10},v1={sign(OLD, NOW, BODY)}"
    assert reason(forged) == "signature mismatch"


def test_timestamps_beyond_300_s_are_refused_either_way() -> None:
    verify(header(OLD, NOW - 300), BODY, [OLD], now=NOW)
    verify(header(OLD, NOW + 300), BODY, [OLD], now=NOW)
    assert reason(header(OLD, NOW - 301)) == "timestamp too old"
    assert reason(header(OLD, NOW - 86400)) == "timestamp too old"
    assert reason(header(OLD, NOW + 301)) == "timestamp in the future"


def test_both_active_secrets_verify_during_rotation() -> None:
    both = [OLD, NEW]
    verify(header(OLD), BODY, both, now=NOW)
    verify(header(NEW), BODY, both, now=NOW)
    # A sender signing with both at once (two v1 values) passes too.
    verify(f"{header(OLD)},v1={sign(NEW, NOW, BODY)}", BODY, both, now=NOW)
    # Once the old one is retired, only the new one verifies.
    assert reason(header(OLD), secrets=(NEW,)) == "signature mismatch"
    verify(header(NEW), BODY, [NEW], now=NOW)


def test_no_active_secret_means_nothing_verifies() -> None:
    assert reason(header(OLD), secrets=()) == "signature mismatch"


def test_parse_header_keeps_every_v1() -> None:
    parsed = parse_header("t=12,v1=aa,v0=bb,v1=cc")
    assert parsed.timestamp == 12
    assert parsed.signatures == ("aa", "cc")


def test_secrets_are_sealed_at_rest() -> None:
    key = master_key("a-configured-key", "service-token")
    secret = new_secret()
    assert secret.startswith("whsec_")
    assert len(secret) > 40
    sealed = seal(key, secret)
    assert secret.encode() not in sealed
    assert seal(key, secret) != sealed  # a fresh nonce every time
    assert unseal(key, sealed) == secret
    with pytest.raises(ValueError, match="authenticate"):
        unseal(master_key("another-key", "service-token"), sealed)
    tampered = bytearray(sealed)
    tampered[20] ^= 1
    with pytest.raises(ValueError, match="authenticate"):
        unseal(key, bytes(tampered))
    # Without a configured key it is derived from the service token.
    assert master_key(None, "t1") != master_key(None, "t2")
    assert master_key(None, "t1") != master_key("t1", "t1")
