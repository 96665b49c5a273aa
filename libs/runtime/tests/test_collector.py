"""Every service keeps the cyclic garbage collector off its hot path once started
(service.quiet_collector): the runtime's lifespan does it, so no service can forget it."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from pulse_runtime.service import GC_THRESHOLDS, ServiceRuntime
from tests.support.servers import Servers
from tests.support.services import settings_for

pytestmark = pytest.mark.integration


@pytest.fixture
def default_collector() -> Iterator[None]:
    """This test process's collector as Python starts it, and again afterwards."""
    before = gc.get_threshold()
    gc.unfreeze()
    gc.set_threshold(700, 10, 10)
    yield
    gc.unfreeze()
    gc.set_threshold(*before)


@pytest.mark.usefixtures("default_collector")
async def test_a_started_service_has_frozen_its_start_up_and_collects_rarely(
    servers: Servers,
) -> None:
    runtime = ServiceRuntime(settings_for("aggregator", servers), queues=[])
    app = runtime.http_app("collector test", loops=[])
    assert gc.get_freeze_count() == 0
    async with app.router.lifespan_context(app):
        assert gc.get_threshold() == GC_THRESHOLDS
        # What start-up built is out of the collector's view: modules, models, the app.
        assert gc.get_freeze_count() > 10_000
