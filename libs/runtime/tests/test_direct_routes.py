"""A route served directly answers exactly as through FastAPI, with everything around it."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request, Response
from fastapi.responses import JSONResponse

from pulse_runtime.direct_routes import (
    DIRECT_KEY,
    DirectRouteError,
    direct_routes,
    serve_directly,
)
from pulse_runtime.errors import Conflict
from pulse_runtime.http import Metrics, create_http_app

PATH = "/api/things/{token}"


@contextlib.asynccontextmanager
async def _lifespan(_: FastAPI) -> AsyncIterator[None]:
    yield


def _app(direct: bool) -> tuple[FastAPI, Metrics]:
    metrics = Metrics(f"direct{direct}")
    app = create_http_app(
        title="t", metrics=metrics, ready_checks=[], asyncapi=dict, lifespan=_lifespan
    )
    router = APIRouter()

    @router.get(PATH)
    async def thing(request: Request, token: str) -> Response:
        if token == "taken":
            raise Conflict("that token is taken")
        if token == "gone":
            raise HTTPException(status_code=410, detail="gone for good")
        if token == "broken":
            raise RuntimeError("a bug")
        return JSONResponse(
            {
                "token": token,
                "agent": request.headers.get("user-agent"),
                "direct": request.scope.get(DIRECT_KEY, False),
            },
            headers={"X-Thing": "1"},
        )

    @router.post(PATH)
    async def replace(token: str) -> dict[str, str]:
        return {"replaced": token}

    app.include_router(router)
    if direct:
        serve_directly(app, router, "GET", PATH)
    return app, metrics


async def _ask(app: FastAPI, method: str, path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        return await client.request(
            method, path, headers={"User-Agent": "ua-1", "X-Request-ID": "r-7"}
        )


@pytest.mark.parametrize("token", ["abc", "taken", "gone", "broken", "a%20b"])
async def test_a_direct_route_answers_as_fastapi_does_with_its_errors_handled_alike(
    token: str,
) -> None:
    routed, _ = _app(direct=False)
    direct, _ = _app(direct=True)
    before = await _ask(routed, "GET", f"/api/things/{token}")
    after = await _ask(direct, "GET", f"/api/things/{token}")
    assert after.status_code == before.status_code
    # A crash's 500 comes from the server error middleware outside the request id's, in both.
    assert after.headers.get("X-Request-ID") == before.headers.get("X-Request-ID")
    if before.status_code == 200:
        assert before.json()["direct"] is False
        assert after.json() == {**before.json(), "direct": True}
        assert after.headers["X-Thing"] == "1"
    else:
        assert after.content == before.content
    assert (token, after.status_code) in {
        ("abc", 200),
        ("a%20b", 200),
        ("taken", 409),
        ("gone", 410),
        ("broken", 500),
    }


async def test_what_the_pattern_does_not_match_goes_on_to_fastapi() -> None:
    app, _ = _app(direct=True)
    posted = await _ask(app, "POST", "/api/things/abc")
    assert posted.status_code == 200
    assert posted.json() == {"replaced": "abc"}
    for path in ("/api/things/", "/api/things/abc/more", "/api/other/abc"):
        answer = await _ask(app, "GET", path)
        assert answer.status_code == 404, path
    assert (await _ask(app, "GET", "/health")).json()["status"] == "ok"


async def test_a_direct_request_is_counted_under_its_route() -> None:
    app, metrics = _app(direct=True)
    for _ in range(3):
        assert (await _ask(app, "GET", "/api/things/abc")).status_code == 200
    labels = {"method": "GET", "route": PATH, "status": "200"}
    assert metrics.registry.get_sample_value("pulse_http_requests_total", labels) == 3
    assert direct_routes(app) == [f"GET {PATH}"]


def test_only_an_endpoint_of_request_and_path_parameters_can_be_served_directly() -> None:
    app = FastAPI()
    router = APIRouter()

    def org() -> str:
        return "o"

    @router.get("/a/{token}")
    async def with_query(request: Request, token: str, days: int = 7) -> Response:
        return Response()

    @router.get("/b/{token}")
    async def with_dependency(request: Request, token: str, o: str = Depends(org)) -> Response:
        return Response()

    app.include_router(router)
    for path in ("/a/{token}", "/b/{token}"):
        with pytest.raises(DirectRouteError, match="must take exactly"):
            serve_directly(app, router, "GET", path)
    with pytest.raises(DirectRouteError, match="no such route"):
        serve_directly(app, router, "GET", "/c/{token}")
    assert direct_routes(app) == []
