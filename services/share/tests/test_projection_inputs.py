"""A kpi.updated rebuilds the projection from the numbers it just saved, in hand rather than read
back: the inputs, and so the payload, must be exactly those the stored copy gives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bench.recompute_cost import large_campaign
from pulse_runtime.db import create_pool
from pulse_share import repository
from pulse_share.domain import build_payload, redact_numbers
from tests.support.servers import Servers
from tests.support.services import settings_for

pytestmark = pytest.mark.integration


async def test_the_numbers_in_hand_give_the_inputs_the_stored_numbers_give(
    servers: Servers,
) -> None:
    org_id, build = large_campaign(6, 4)
    document = build()
    # A later as_of than any run of this test left, so the save always wins.
    document = document.model_copy(update={"as_of": datetime.now(UTC) + timedelta(days=1)})
    numbers = redact_numbers(document)
    campaign_id = document.campaign.campaign_id
    pool = await create_pool(settings_for("share", servers).dsn, min_size=1, max_size=1)
    try:
        async with pool.acquire() as conn:
            transaction = conn.transaction()
            await transaction.start()
            try:
                assert await repository.save_numbers(conn, org_id, campaign_id, numbers)
                stored = await repository.load_inputs(conn, org_id, campaign_id)
                in_hand = await repository.load_inputs(conn, org_id, campaign_id, numbers=numbers)
            finally:
                await transaction.rollback()  # nothing left behind for other tests
    finally:
        await pool.close()
    # Saved as pydantic's JSON text: read back, it is the same model to the last field.
    assert stored.numbers == numbers
    assert stored == in_hand
    now = datetime.now(UTC)
    built = [build_payload(i.numbers, i.refs, now) for i in (stored, in_hand)]
    assert built[0] is not None
    assert built[1] is not None
    assert built[0].model_dump_json() == built[1].model_dump_json()
    assert built[0].kpis.actual_views > 0
