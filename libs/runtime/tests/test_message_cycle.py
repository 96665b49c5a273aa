"""A consumed message is freed as soon as its subscriber is done, without waiting for the cyclic
garbage collector: each one holds its whole body (a kpi.updated is ~130 KB), and with the
collector's full passes kept rare (service.quiet_collector) bodies kept in a cycle piled up to
hundreds of MB per service under load."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest
from faststream.rabbit.message import RabbitMessage

from pulse_runtime.messaging import message_itself, taken


@pytest.fixture
def no_collector() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _decoded(body: bytes) -> RabbitMessage:
    """A message as FastStream hands it to our subscribers: decoded by message_itself, whose
    result FastStream keeps on the message."""
    message = RabbitMessage(body=body, raw_message=None)  # type: ignore[arg-type]
    message.set_decoder(message_itself)
    return message


@pytest.mark.usefixtures("no_collector")
async def test_a_taken_message_is_freed_by_reference_counting_alone() -> None:
    message = _decoded(b"x" * 130_000)
    assert await message.decode() is message  # the cycle FastStream's cache makes
    gone = weakref.ref(taken(message))
    del message
    assert gone() is None


@pytest.mark.usefixtures("no_collector")
async def test_without_taking_it_the_message_would_wait_for_the_collector() -> None:
    message = _decoded(b"x" * 130_000)
    await message.decode()
    held = weakref.ref(message)
    del message
    assert held() is not None  # what `taken` is for
    gc.collect()
    assert held() is None
