"""Earned media value on the client view (docs/insights.md): for a link that opted in, the
campaign's and each creator's EMV at the organization's rates, valued at view time from the
posts' counters the projection already shows. An estimate; never a fee, a spend or an ROI."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulse_contracts.emv import EmvRates, post_emv_cents
from pulse_contracts.envelope import ContractModel
from pulse_contracts.values import CurrencyCode

from .domain import SharePayload


class ShareCreatorEmv(ContractModel):
    display_name: str
    emv_cents: int


class ShareEmv(ContractModel):
    """What an opted-in link adds beside the allow-listed payload: money, so nothing else."""

    estimate: bool = True
    currency: CurrencyCode
    emv_cents: int
    creators: list[ShareCreatorEmv]


def share_emv(payload: SharePayload, overrides: Mapping[str, Any] | None) -> ShareEmv:
    """Each post valued as the staff screens value it (pulse_contracts.emv); a creator's EMV is
    the sum of their posts', the campaign's the sum of the creators' (so it adds up)."""
    rates = EmvRates.merged(overrides)
    creators = [
        ShareCreatorEmv(
            display_name=i.display_name,
            emv_cents=sum(post_emv_cents(p.counters, p.platform, rates) or 0 for p in i.posts),
        )
        for i in payload.influencers
    ]
    return ShareEmv(
        currency=rates.currency,
        emv_cents=sum(c.emv_cents for c in creators),
        creators=creators,
    )
