"""The CPU share spends on one kpi.updated of a large campaign, alone: the message decoded as its
subscriber decodes it and reduced to what share stores (redact_numbers).

    python -m bench.share_decode_cost [--posts-per-booking 10] [--bookings 20] [--repeat 400]

The document is recompute_cost's (20 bookings × 10 posts by default), timed with
`time.process_time` (CPU, not wall time, so a busy machine moves it less): once decoded whole
with the contract's model, once as share's subscriber decodes it (pulse_share.messages). The
two stored numbers must be the same bytes; it says so.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Mapping

from pulse_contracts import EventData, make_event
from pulse_contracts.numbers import CampaignNumbers
from pulse_runtime.messaging import parse_envelope
from pulse_share.domain import redact_numbers
from pulse_share.messages import NARROW, NumbersRead

from .recompute_cost import large_campaign


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bookings", type=int, default=20)
    parser.add_argument("--posts-per-booking", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=400)
    args = parser.parse_args()
    org_id, build = large_campaign(args.bookings, args.posts_per_booking)
    doc = build()
    body = make_event(doc, org_id=org_id, producer="aggregator").model_dump_json().encode()

    def decoded(narrow: Mapping[str, type[EventData]] | None) -> CampaignNumbers | NumbersRead:
        data = parse_envelope(body, "kpi.updated", narrow).data
        assert isinstance(data, CampaignNumbers | NumbersRead)
        return data

    def stored(narrow: Mapping[str, type[EventData]] | None) -> str:
        return redact_numbers(decoded(narrow)).model_dump_json()

    assert stored(None) == stored(NARROW), "the narrow decode stores other numbers"
    print(f"{len(doc.posts)} posts, kpi.updated {len(body) / 1024:.0f} KB, same stored numbers")
    for label, narrow in (("whole", None), ("narrow", NARROW)) * 2:
        started = time.process_time()
        for _ in range(args.repeat):
            decoded(narrow)
        middle = time.process_time()
        for _ in range(args.repeat):
            stored(narrow)
        spent = time.process_time()
        print(
            f"  {label:>6}: decoded {1000 * (middle - started) / args.repeat:.2f} ms, decoded and "
            f"stored {1000 * (spent - middle) / args.repeat:.2f} ms CPU per document"
        )


if __name__ == "__main__":
    main()
