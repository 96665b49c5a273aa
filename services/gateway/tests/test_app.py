"""How the gateway app is put together: which reads skip FastAPI's routing."""

from __future__ import annotations

from pulse_gateway.app import create_app
from pulse_gateway.settings import GatewaySettings
from pulse_runtime.direct_routes import direct_routes


def test_the_dashboards_most_frequent_reads_are_answered_without_fastapi_routing() -> None:
    # bench P3's reads: FastAPI's routing was about a quarter of a read's CPU. Start-up refuses
    # a route another one could shadow, so a new route beside these fails here first.
    app = create_app(GatewaySettings.load({}, env="test"))
    hot = [
        "/api/campaigns/{campaign_id}",
        "/api/campaigns/{campaign_id}/bookings",
        "/api/campaigns/{campaign_id}/daily",
        "/api/compare",
    ]
    assert direct_routes(app) == [f"GET {path}" for path in hot]
    # Their one declaration stays in the API document.
    assert set(hot) <= set(app.openapi()["paths"])
