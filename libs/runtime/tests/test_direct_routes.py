"""A route served directly answers exactly as through FastAPI, with everything around it."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Annotated
from uuid import UUID

import httpx
import pytest
from fastapi import (
    APIRouter,
    BackgroundTasks,
    Depends,
    FastAPI,
    HTTPException,
    Query,
    Request,
    Response,
)
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


SOLVED = "/api/items/{item_id}"


async def _who(request: Request) -> str:
    """A dependency of the request alone, as the gateway's role checks are."""
    who = request.headers.get("x-who")
    if who is None:
        raise Conflict("say who you are")
    request.state.seen = getattr(request.state, "seen", 0) + 1  # once per request: cached
    return who


Who = Annotated[str, Depends(_who)]
DONE_LATER: list[tuple[UUID, bool]] = []  # what the route's background task did, and where


def _solved_app(direct: bool) -> FastAPI:
    app = create_http_app(
        title="t",
        metrics=Metrics(f"solved{direct}"),
        ready_checks=[],
        asyncapi=dict,
        lifespan=_lifespan,
    )
    router = APIRouter(prefix="/api/items")

    @router.get("/{item_id}")
    async def item(
        request: Request,
        who: Who,
        again: Who,
        item_id: UUID,
        later: BackgroundTasks,
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
        cursor: str | None = None,
    ) -> Response:
        if limit == 13:
            raise HTTPException(status_code=404, detail="no such page")
        later.add_task(DONE_LATER.append, (item_id, request.scope.get(DIRECT_KEY, False)))
        return JSONResponse(
            {
                "item": str(item_id),
                "who": who,
                "limit": limit,
                "cursor": cursor,
                "seen": request.state.seen,
                "direct": request.scope.get(DIRECT_KEY, False),
            }
        )

    app.include_router(router)
    if direct:
        serve_directly(app, router, "GET", SOLVED)
    return app


ITEM = "8c9e9a4e-8d3c-4a52-9a53-7f1f4c6f7c11"


@pytest.mark.parametrize(
    ("path", "who", "status"),
    [
        (f"/api/items/{ITEM}", "ana", 200),
        (f"/api/items/{ITEM}?limit=7&cursor=abc", "ana", 200),
        (f"/api/items/{ITEM}?limit=13", "ana", 404),
        (f"/api/items/{ITEM}?limit=0", "ana", 422),
        (f"/api/items/{ITEM}?limit=many", "ana", 422),
        ("/api/items/not-a-uuid", "ana", 422),
        (f"/api/items/{ITEM}", None, 409),
    ],
)
async def test_a_route_with_dependencies_and_query_parameters_answers_as_fastapi_does(
    path: str, who: str | None, status: int
) -> None:
    headers = {"X-Request-ID": "r-9", **({"X-Who": who} if who else {})}
    answers = []
    for direct in (False, True):
        transport = httpx.ASGITransport(app=_solved_app(direct), raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            answers.append(await client.get(path, headers=headers))
    routed, served = answers
    assert (routed.status_code, served.status_code) == (status, status)
    assert served.headers.get("X-Request-ID") == routed.headers.get("X-Request-ID") == "r-9"
    if status == 200:
        assert routed.json()["direct"] is False
        assert served.json() == {**routed.json(), "direct": True}
        assert served.json()["seen"] == 1  # the dependency asked twice ran once
        # Its background task ran after the answer, on both paths.
        assert DONE_LATER[-2:] == [(UUID(ITEM), False), (UUID(ITEM), True)]
    else:
        assert served.json() == routed.json()


async def test_dependency_overrides_apply_to_a_route_served_directly() -> None:
    app = _solved_app(direct=True)

    async def someone(request: Request) -> str:
        request.state.seen = 1
        return "override"

    app.dependency_overrides[_who] = someone
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        answer = await client.get(f"/api/items/{ITEM}")
    assert answer.status_code == 200
    assert answer.json()["who"] == "override"
    assert answer.json()["direct"] is True


def test_what_cannot_be_served_directly_is_refused_at_start_up() -> None:
    app = FastAPI()
    router = APIRouter()
    elsewhere = APIRouter()

    async def org() -> AsyncIterator[str]:
        yield "o"

    @router.get("/a/{token}")
    async def not_a_response(token: str, days: int = 7) -> dict[str, int]:
        return {"days": days}

    @router.get("/b/{token}")
    async def yielding(request: Request, token: str, o: str = Depends(org)) -> Response:
        return Response()

    @router.post("/c/{token}")
    async def posted(token: str, days: int = 7) -> Response:
        return Response()

    @router.get("/d/{token}")
    async def shared(token: str, days: int = 7) -> Response:
        return Response()

    @router.get("/d/latest")
    async def latest() -> Response:
        return Response()

    @elsewhere.get("/e/{token}")
    async def prefixed(token: str, days: int = 7) -> Response:
        return Response()

    app.include_router(router)
    app.include_router(elsewhere, prefix="/v2")
    refused = {
        ("GET", "/a/{token}"): "must return a Response",
        ("GET", "/b/{token}"): "yields",
        ("POST", "/c/{token}"): "only a GET",
        ("GET", "/d/{token}"): "shares paths with GET /d/latest",
        ("GET", "/z/{token}"): "no such route",
    }
    for (method, path), reason in refused.items():
        with pytest.raises(DirectRouteError, match=reason):
            serve_directly(app, router, method, path)
    with pytest.raises(DirectRouteError, match="included with a prefix"):
        serve_directly(app, elsewhere, "GET", "/e/{token}")
    assert direct_routes(app) == []
