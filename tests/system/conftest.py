"""The demo agency for the dashboard tests: one running system per test module (about 20 s to
seed), so each module's tests share it and leave the other modules' alone."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.demo import DemoSystem, computed_campaigns, running_demo


@pytest.fixture(scope="module")
def demo(service_env: dict[str, str]) -> Iterator[DemoSystem]:
    with running_demo(service_env) as found:
        yield found


@pytest.fixture(scope="module")
def campaigns(demo: DemoSystem) -> dict[str, dict[str, Any]]:
    """The demo's campaigns by name, once their numbers are computed."""
    return computed_campaigns(demo)
