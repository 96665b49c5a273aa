"""What the gateway keeps in memory while kpi.updated documents flow through it (P6): at most
a few decoded documents per consumer, and no thread of its own per relayed event."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import uuid4

import anyio.to_thread
import pytest
from faststream.rabbit import RabbitBroker, TestRabbitBroker

from pulse_contracts import make_event, utcnow
from pulse_contracts.numbers import CampaignFigures, CampaignNumbers
from pulse_gateway.app import create_app
from pulse_gateway.read_model import NumbersReadModel, version_of
from pulse_gateway.settings import GatewaySettings
from pulse_gateway.stream import StreamHub, stream_queue, subscribe_stream
from pulse_runtime.messaging import LARGE_MESSAGE_PREFETCH
from pulse_runtime.topology import EVENTS


def test_the_numbers_consumer_takes_a_few_documents_at_a_time() -> None:
    """Each delivered document is decoded and held while its row is written: the shared
    prefetch of 32 had 32 of them in memory when PostgreSQL was slow."""
    settings = GatewaySettings.load({}, env="test")
    app = create_app(settings)
    (numbers,) = [
        s for s in app.state.runtime.broker.subscribers if s.queue.name == "gateway.numbers"
    ]
    assert numbers.channel is not None
    assert numbers.channel.prefetch_count == LARGE_MESSAGE_PREFETCH < settings.prefetch


@pytest.mark.asyncio
async def test_the_stream_relay_takes_events_without_a_worker_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A relayed kpi.updated reaches the read model and the organization's streams, and
    nothing of it runs in a worker thread (each thread's malloc arena kept what the documents
    left behind)."""
    in_threads: list[Any] = []
    run_sync = anyio.to_thread.run_sync

    async def counted(func: Any, *args: Any, **kwargs: Any) -> Any:
        in_threads.append(func)
        return await run_sync(func, *args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", counted)
    broker = RabbitBroker()
    hub, numbers = StreamHub(), NumbersReadModel()
    subscribe_stream(broker, hub, stream_queue(), numbers)
    org_id, campaign_id = uuid4(), uuid4()
    document = CampaignNumbers(
        campaign=CampaignFigures(
            campaign_id=campaign_id, start_date=date(2026, 1, 1), end_date=date(2026, 2, 1)
        ),
        as_of=utcnow(),
    )
    event = make_event(document, org_id=org_id, producer="aggregator", correlation_id="c")
    async with TestRabbitBroker(broker) as test:
        with hub.subscribe(org_id) as frames:
            await test.publish(event.model_dump_json(), exchange=EVENTS, routing_key="kpi.updated")
            assert in_threads == []
            frame = frames.get_nowait()
    assert f'"version":{version_of(document.as_of)}' in frame
    assert campaign_id in numbers._held
