"""Which peers' forwarded headers are believed, and who may read a public port's metrics."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from pulse_runtime.operator_routes import parse_networks
from pulse_runtime.settings import ServiceSettings


def test_nobody_is_trusted_by_default() -> None:
    assert ServiceSettings.load(environ={"PULSE_ENV": "test"}).trusted_proxy_list() == []


def test_proxies_are_addresses_or_networks() -> None:
    settings = ServiceSettings.load(
        environ={"PULSE_ENV": "test", "PULSE_TRUSTED_PROXIES": "10.0.0.0/8, 127.0.0.1,::1"}
    )
    assert settings.trusted_proxy_list() == ["10.0.0.0/8", "127.0.0.1", "::1"]


@pytest.mark.parametrize("spec", ["*", "ingress.internal", "10.0.0.0/33"])
def test_trusting_everyone_or_a_name_is_refused_at_start(spec: str) -> None:
    with pytest.raises(ValidationError, match="PULSE_TRUSTED_PROXIES"):
        ServiceSettings.load(environ={"PULSE_ENV": "test", "PULSE_TRUSTED_PROXIES": spec})


def test_metrics_networks_name_the_setting_when_malformed() -> None:
    assert parse_networks("", "PULSE_SHARE_METRICS_NETWORKS") == ()
    assert len(parse_networks("10.20.0.0/16,127.0.0.1", "X")) == 2
    with pytest.raises(ValueError, match="PULSE_SHARE_METRICS_NETWORKS"):
        parse_networks("prometheus", "PULSE_SHARE_METRICS_NETWORKS")
