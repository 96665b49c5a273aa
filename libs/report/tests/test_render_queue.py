"""The bounded line of PDF renders: refused beyond the cap, dropped when the client has gone."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from pulse_report import RenderAbandoned, RendersBusy, RenderSlots
from pulse_report.render_queue import raise_if_abandoned


class Renders:
    """A render that holds its slot until released, and counts how many ever started."""

    def __init__(self) -> None:
        self.started = 0
        self.finished = 0
        self.release = threading.Event()
        self.stopped_at_checkpoint = 0

    def __call__(self) -> bytes:
        self.started += 1
        self.release.wait(10)
        try:
            raise_if_abandoned()
        except RenderAbandoned:
            self.stopped_at_checkpoint += 1
            raise
        self.finished += 1
        return b"%PDF-"


class Client:
    """Whether the requesting client has hung up, as the route's `request.is_disconnected`."""

    def __init__(self) -> None:
        self.left = False

    async def gone(self) -> bool:
        return self.left


async def test_requests_beyond_slots_and_queue_are_refused_at_once() -> None:
    slots, renders = RenderSlots(1, queue=1), Renders()
    first = asyncio.create_task(slots.run(renders))
    second = asyncio.create_task(slots.run(renders))
    await asyncio.sleep(0.05)
    started = time.monotonic()
    with pytest.raises(RendersBusy) as busy:
        await slots.run(renders)
    assert time.monotonic() - started < 0.5
    assert busy.value.retry_after_s >= 1
    renders.release.set()
    assert await first == await second == b"%PDF-"
    assert renders.started == 2
    assert await slots.run(renders) == b"%PDF-"  # the line is free again


async def test_a_waiting_request_whose_client_left_never_renders() -> None:
    slots, renders = RenderSlots(1, queue=3), Renders()
    running = asyncio.create_task(slots.run(renders))
    await asyncio.sleep(0.05)
    client = Client()
    waiting = asyncio.create_task(slots.run(renders, gone=client.gone))
    await asyncio.sleep(0.05)
    client.left = True
    with pytest.raises(RenderAbandoned):
        await asyncio.wait_for(waiting, timeout=2)
    renders.release.set()
    assert await running == b"%PDF-"
    assert renders.started == 1, "the render of a client who had left was started"


async def test_a_running_render_whose_client_left_stops_at_its_next_checkpoint() -> None:
    slots, renders, client = RenderSlots(1, queue=0), Renders(), Client()
    running = asyncio.create_task(slots.run(renders, gone=client.gone))
    await asyncio.sleep(0.05)
    client.left = True
    with pytest.raises(RenderAbandoned):
        await asyncio.wait_for(running, timeout=2)
    renders.release.set()
    for _ in range(100):  # the thread reaches its checkpoint, then gives the slot back
        if renders.stopped_at_checkpoint:
            break
        await asyncio.sleep(0.02)
    assert renders.stopped_at_checkpoint == 1
    assert renders.finished == 0
    renders.release.set()
    assert await slots.run(renders) == b"%PDF-"  # and its slot came back
