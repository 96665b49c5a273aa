"""Internal contracts keep the wire as the serving routes always wrote it."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from pulse_contracts.internal.alerter import Alert
from pulse_contracts.internal.ingest import ItemsAnswer
from pulse_contracts.internal.share import LinkIn


def test_only_a_held_rejection_says_held() -> None:
    """Ingest has always written `held` on kept items only; senders test for the key."""
    served = {
        "accepted": 1,
        "duplicates": 0,
        "rejected": [
            {"index": 1, "code": "unknown_post", "message": "no such post", "held": True},
            {"index": 2, "code": "invalid_item", "message": "views must be a number"},
        ],
    }
    assert ItemsAnswer.model_validate(served).model_dump(mode="json") == served


def test_answers_ignore_new_keys_and_requests_refuse_them() -> None:
    """A service may add a field before its callers read it; a caller's typo never passes."""
    alert = {
        "id": "6f1c1c39-76a0-4c4b-9d5c-6d1f4b8a0e11",
        "campaign_id": None,
        "booking_id": None,
        "post_id": None,
        "type": "deadline",
        "scope": "campaign",
        "severity": "warning",
        "message": "3 days left",
        "debounce_key": "deadline:x",
        "status": "open",
        "raised_at": "2026-12-06T10:00:00Z",
        "last_seen_at": "2026-12-06T10:00:00Z",
        "resolved_at": None,
        "resolved_by": None,
        "resolved_by_user": None,
        "resolution_note": None,
    }
    assert Alert.model_validate({**alert, "added_later": 1}).model_dump(mode="json") == alert
    with pytest.raises(ValidationError):
        LinkIn.model_validate({"campaign_id": alert["id"], "pasword": "secret-words"})


def test_a_link_password_must_be_text_utf8_can_carry() -> None:
    with pytest.raises(ValidationError, match=r"(?i)unicode"):
        LinkIn(campaign_id="6f1c1c39-76a0-4c4b-9d5c-6d1f4b8a0e11", password="abc\ud800defgh")
