"""Verified bearer tokens are remembered per set of keys (security.VerifiedTokens) without
weakening the check: an expired token is refused even when remembered, a token is trusted
only by the keys that verified it, anything else is verified in full, and the memory is
bounded. Revocation does not depend on it: the session check on every request decides
(test_credentials.py: signing out, a password change or disabling ends the same JWT at once)."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import jwt
import pytest

from pulse_contracts import utcnow
from pulse_gateway.security import (
    ACCESS_TTL,
    AuthError,
    Claims,
    JwtKeys,
    VerifiedTokens,
    issue_access_token,
    verify_access_token,
)

KEYS = "k1:" + "a" * 40


def claims() -> Claims:
    return Claims(user_id=uuid4(), org_id=uuid4(), role="analyst", session_id=uuid4())


def test_a_verified_token_is_not_decoded_again(monkeypatch: pytest.MonkeyPatch) -> None:
    keys, now, who = JwtKeys.parse(KEYS), utcnow(), claims()
    token = issue_access_token(keys, who, now)
    assert verify_access_token(keys, token, now) == who
    assert len(keys.verified) == 1

    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("decoded again")

    monkeypatch.setattr(jwt, "decode", refuse)
    assert verify_access_token(keys, token, now + timedelta(minutes=1)) == who


def test_a_remembered_token_past_its_expiry_is_refused() -> None:
    keys, now = JwtKeys.parse(KEYS), utcnow()
    token = issue_access_token(keys, claims(), now)
    verify_access_token(keys, token, now)
    with pytest.raises(AuthError, match="expired"):
        verify_access_token(keys, token, now + ACCESS_TTL + timedelta(seconds=1))


def test_a_token_is_trusted_only_by_the_keys_that_verified_it() -> None:
    now = utcnow()
    ours, theirs = JwtKeys.parse(KEYS), JwtKeys.parse("k1:" + "b" * 40)
    token = issue_access_token(theirs, claims(), now)
    verify_access_token(theirs, token, now)
    with pytest.raises(AuthError):
        verify_access_token(ours, token, now)
    assert len(ours.verified) == 0


def test_a_changed_or_refused_token_is_verified_in_full_and_not_remembered() -> None:
    keys, now = JwtKeys.parse(KEYS), utcnow()
    token = issue_access_token(keys, claims(), now)
    verify_access_token(keys, token, now)
    head, payload, signature = token.split(".")
    forged = f"{head}.{payload}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}"
    for bad in (forged, f"{head}.{payload}.", "not-a-jwt"):
        with pytest.raises(AuthError):
            verify_access_token(keys, bad, now)
    expired = issue_access_token(keys, claims(), now - ACCESS_TTL - timedelta(seconds=1))
    with pytest.raises(AuthError, match="expired"):
        verify_access_token(keys, expired, now)
    assert len(keys.verified) == 1  # only the good one


def test_the_memory_is_bounded() -> None:
    memory = VerifiedTokens(max_entries=3)
    for n in range(5):
        memory.put(f"t{n}", 0.0, claims())
    assert len(memory) == 3
    assert memory.get("t0") is None
    assert memory.get("t4") is not None
