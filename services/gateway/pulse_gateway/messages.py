"""What the gateway's durable numbers consumer decodes of a kpi.updated: which campaign, and
when its document was computed.

The read model's table keeps the document as the text the aggregator sent (read_model.py), so
the consumer needs only those two fields to store it where it belongs and to know whether it is
newer. Whole, a 200-post campaign's document is ~130-170 KB, and decoding it whole in both of
the gateway's consumers (the live relay and this one) was most of the gateway's CPU per
kpi.updated. The live relay still decodes every document whole, and the durable consumer
decodes one whole itself whenever the live relay has not held that very document, so nothing
is stored that the contract refuses. The envelope is validated whole as always
(pulse_runtime.messaging.parse_envelope's `narrow`).

Not registered: the contract of record stays pulse_contracts'.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar
from uuid import UUID

from pydantic import ConfigDict

from pulse_contracts import EventData
from pulse_contracts.envelope import ContractModel
from pulse_contracts.numbers import CampaignNumbers

_READ_ONLY_THESE = ConfigDict(extra="ignore", frozen=True)


class CampaignStamp(ContractModel):
    model_config = _READ_ONLY_THESE
    campaign_id: UUID


class NumbersStamp(EventData):
    """A kpi.updated document's campaign and `as_of`, the rest left in the body's text."""

    model_config = _READ_ONLY_THESE
    event_type: ClassVar[str] = CampaignNumbers.event_type
    campaign: CampaignStamp
    as_of: datetime


# The durable consumer's `narrow` (pulse_runtime.messaging.subscribe_events_with_body).
NARROW: dict[str, type[EventData]] = {NumbersStamp.event_type: NumbersStamp}
