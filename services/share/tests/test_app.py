"""How the share app is put together: how the public JSON is dispatched, and the headers every
answer of the service carries."""

from __future__ import annotations

from pulse_runtime.direct_routes import direct_routes
from pulse_share.app import create_app
from pulse_share.public import SECURITY_HEADERS, with_security_headers
from pulse_share.render import API_CSP
from pulse_share.settings import ShareSettings


def test_the_public_json_is_answered_without_fastapi_routing() -> None:
    # The route clients poll (bench P5): FastAPI's dispatch was about a third of a view's CPU.
    app = create_app(ShareSettings(env="test"))
    assert direct_routes(app) == ["GET /api/share/{token}"]
    # Its one declaration stays in the API document.
    assert "/api/share/{token}" in app.openapi()["paths"]


def test_every_answer_gets_the_share_headers_and_a_page_keeps_its_own_policy() -> None:
    api = with_security_headers([(b"content-type", b"application/json")])
    assert dict(api) == {
        b"content-type": b"application/json",
        **{name.lower().encode(): value.encode() for name, value in SECURITY_HEADERS.items()},
        b"content-security-policy": API_CSP.encode(),
    }
    assert len(api) == len(dict(api))  # each header once
    # A route's own caching header is replaced, never sent beside ours; a page's policy stays.
    page = with_security_headers(
        [(b"Cache-Control", b"max-age=600"), (b"content-security-policy", b"style-src 'sha256-x'")]
    )
    assert [v for n, v in page if n.lower() == b"cache-control"] == [b"private, no-store"]
    assert [v for n, v in page if n == b"content-security-policy"] == [b"style-src 'sha256-x'"]
