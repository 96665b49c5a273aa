"""A hot route answered without FastAPI's routing: the same endpoint, called directly.

FastAPI's dispatch of one request (its middlewares, matching every route in turn, solving the
endpoint's dependencies, wrapping it for its response) costs ~0.14 ms of CPU here, where
uvicorn's own HTTP handling costs ~0.05 (`python -m bench.floor --compare`: FastAPI + uvicorn
answering a constant body against a bare ASGI app, under the same load: 0.186 against 0.049).
On the public share JSON it was about a third of a view's CPU (share's CPU per view
0.43 -> 0.30 ms in bench P5), and a replica's event loop is what bounds P5's latency at 32
clients.

`serve_directly(app, router, "GET", "/api/share/{token}")` finds that route as declared on
its router (its OpenAPI entry, path pattern and endpoint stay the one definition) and answers
the requests its own pattern matches by calling its endpoint with the Request and the path
parameters. Only an endpoint that takes nothing else qualifies: no dependencies, no query or
body parameters, and it returns a Response. Everything around the route still runs: the
middlewares of ours and of the framework outside this one (request id, metrics under the
route's path, security headers, body limit), and the app's exception handlers, looked up as
Starlette's ExceptionMiddleware does. Anything the pattern does not match goes on to FastAPI
unchanged.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

# Set on the scope of a request answered here (tests read it; nothing else should).
DIRECT_KEY = "pulse.direct_route"


class DirectRouteError(ValueError):
    """The route cannot be answered directly (named in the message); raised at start-up."""


def serve_directly(app: FastAPI, router: APIRouter, method: str, path: str) -> None:
    """Answer `method path`, a route of `router` (included in `app` without a prefix), without
    FastAPI's routing.

    Call it after the router is included and before the app serves its first request: the
    dispatcher joins the app's middlewares as the innermost of them."""
    route = _declared(router, method, path)
    app.user_middleware.append(Middleware(_DirectRoute, route=route, method=method, owner=app))
    app.state.direct_routes = [*direct_routes(app), f"{method} {path}"]


def direct_routes(app: FastAPI) -> list[str]:
    """The routes `app` answers directly, as "METHOD path"."""
    served: list[str] = getattr(app.state, "direct_routes", [])
    return list(served)


def _declared(router: APIRouter, method: str, path: str) -> APIRoute:
    for route in router.routes:
        if isinstance(route, APIRoute) and route.path == path and method in (route.methods or ()):
            break
    else:
        raise DirectRouteError(f"{method} {path}: no such route on the router")
    names = list(inspect.signature(route.endpoint).parameters)
    params = list(route.param_convertors)
    if names != ["request", *params] or route.dependant.dependencies:
        raise DirectRouteError(
            f"{method} {path}: its endpoint must take exactly (request, {', '.join(params)}),"
            f" with no dependencies; it takes ({', '.join(names)})"
        )
    return route


class _DirectRoute:
    def __init__(self, app: ASGIApp, route: APIRoute, method: str, owner: FastAPI) -> None:
        self.app = app
        self.route = route
        self.method = method
        self.owner = owner  # the app whose exception handlers apply

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        params = self._match(scope)
        if params is None:
            await self.app(scope, receive, send)
            return
        scope["route"] = self.route  # what the request metrics label the request by
        scope["path_params"] = params
        scope["endpoint"] = self.route.endpoint
        scope[DIRECT_KEY] = True
        request = Request(scope, receive)
        try:
            response: Response = await self.route.endpoint(request, **params)
        except Exception as exc:
            handler = self._handler(exc)
            if handler is None:
                raise
            answer = handler(request, exc)
            response = await answer if inspect.isawaitable(answer) else answer
        await response(scope, receive, send)

    def _match(self, scope: Scope) -> dict[str, Any] | None:
        # A root path would make scope["path"] differ from the route path FastAPI matches on.
        if scope["type"] != "http" or scope["method"] != self.method or scope.get("root_path"):
            return None
        found = self.route.path_regex.match(scope["path"])
        if found is None:
            return None
        convertors = self.route.param_convertors
        return {name: convertors[name].convert(value) for name, value in found.groupdict().items()}

    def _handler(self, exc: Exception) -> Callable[..., Any] | None:
        """The handler Starlette's ExceptionMiddleware would pick: by status code for an
        HTTPException, else the nearest class in the exception's MRO. Those for 500 and for
        Exception are the server error middleware's, outside this one, as in FastAPI."""
        handlers: dict[Any, Callable[..., Any]] = self.owner.exception_handlers
        status = exc.status_code if isinstance(exc, HTTPException) else None
        if status is not None and status != 500 and status in handlers:
            return handlers[status]
        for cls in type(exc).__mro__:
            if cls is Exception:
                break
            if cls in handlers:
                return handlers[cls]
        return None
