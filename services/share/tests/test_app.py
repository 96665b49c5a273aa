"""How the share app is put together: what its composition root promises beyond its routes."""

from __future__ import annotations

from pulse_runtime.direct_routes import direct_routes
from pulse_share.app import create_app
from pulse_share.settings import ShareSettings


def test_the_public_json_is_answered_without_fastapi_routing() -> None:
    # The route clients poll (bench P5): FastAPI's dispatch was about a third of a view's CPU.
    app = create_app(ShareSettings(env="test"))
    assert direct_routes(app) == ["GET /api/share/{token}"]
    # Its one declaration stays in the API document.
    assert "/api/share/{token}" in app.openapi()["paths"]
