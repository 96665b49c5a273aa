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
the requests its own pattern matches by calling its endpoint. An endpoint of only the Request
and the path parameters is called with them. One with dependencies or query parameters (the
gateway's reads: the caller's role, a cursor) has them solved by FastAPI's own
`solve_dependencies`, so validation, its 422s, dependency overrides and the per-request cache
are FastAPI's; what is skipped is the routing (FastAPI 0.16x matches every included router's
routes in turn, twice for the one it picks) and the wrappers around the endpoint. Such a
route must be a GET without a body whose endpoint returns a Response (so no response model is
applied), with no dependency that yields, and no other route of the same method may share its
paths (which of two overlapping routes FastAPI picks depends on their order).

Everything around the route still runs: the middlewares of ours and of the framework outside
this one (request id, metrics under the route's path, security headers, body limit), and the
app's exception handlers, looked up as Starlette's ExceptionMiddleware does. Anything the
pattern does not match goes on to FastAPI unchanged.
"""

from __future__ import annotations

import inspect
import re
import typing
from collections.abc import Callable, Iterator
from contextlib import AsyncExitStack
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import solve_dependencies
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

# Set on the scope of a request answered here (tests read it; nothing else should).
DIRECT_KEY = "pulse.direct_route"


class DirectRouteError(ValueError):
    """The route cannot be answered directly (named in the message); raised at start-up."""


def serve_directly(app: FastAPI, router: APIRouter, method: str, path: str) -> None:
    """Answer `method path`, a route of `router` (included in `app` without a prefix), without
    FastAPI's routing.

    Call it after every route of the app is declared and before the app serves its first
    request: the dispatcher joins the app's middlewares as the innermost of them."""
    route = _declared(router, method, path)
    plain = _takes_only_path(route)
    if not plain:
        _check_solvable(route, method)
    _check_included_plainly(app, router, method, path)
    _check_alone(app, route, method)
    app.user_middleware.append(
        Middleware(_DirectRoute, route=route, method=method, owner=app, plain=plain)
    )
    app.state.direct_routes = [*direct_routes(app), f"{method} {path}"]


def direct_routes(app: FastAPI) -> list[str]:
    """The routes `app` answers directly, as "METHOD path"."""
    served: list[str] = getattr(app.state, "direct_routes", [])
    return list(served)


def _declared(router: APIRouter, method: str, path: str) -> APIRoute:
    for route in router.routes:
        if isinstance(route, APIRoute) and route.path == path and method in (route.methods or ()):
            return route
    raise DirectRouteError(f"{method} {path}: no such route on the router")


def _takes_only_path(route: APIRoute) -> bool:
    names = list(inspect.signature(route.endpoint).parameters)
    return names == ["request", *route.param_convertors] and not route.dependant.dependencies


def _check_solvable(route: APIRoute, method: str) -> None:
    where = f"{method} {route.path}"
    if method != "GET" or route.body_field is not None:
        raise DirectRouteError(f"{where}: only a GET without a body can have its parameters solved")
    returns = typing.get_type_hints(route.endpoint).get("return")
    if not (inspect.isclass(returns) and issubclass(returns, Response)):
        raise DirectRouteError(
            f"{where}: its endpoint must return a Response (no response model applied);"
            f" it returns {returns}"
        )
    for dependant in _tree(route.dependant):
        if _yields(dependant.call):
            raise DirectRouteError(f"{where}: the dependency {dependant.call} yields")


def _yields(call: Callable[..., Any] | None) -> bool:
    if call is None:
        return False
    if not (inspect.isfunction(call) or inspect.ismethod(call)):
        call = getattr(call, "__call__", call)  # noqa: B004 - a class instance's __call__
    return inspect.isgeneratorfunction(call) or inspect.isasyncgenfunction(call)


def _tree(dependant: Dependant) -> Iterator[Dependant]:
    for sub in dependant.dependencies:
        yield sub
        yield from _tree(sub)


def _check_included_plainly(app: FastAPI, router: APIRouter, method: str, path: str) -> None:
    # A prefix or dependencies given to include_router apply around the route, not in it.
    for item in app.routes:
        if getattr(item, "original_router", None) is router:
            context = getattr(item, "include_context", None)
            if context is not None and (context.prefix or context.dependencies):
                raise DirectRouteError(
                    f"{method} {path}: its router is included with a prefix or dependencies"
                )
            return
    raise DirectRouteError(f"{method} {path}: its router is not included in the app")


def _check_alone(app: FastAPI, route: APIRoute, method: str) -> None:
    """No other route of `method` may match one of the route's paths, nor it one of theirs:
    FastAPI would pick between them by their order, which this dispatcher does not keep."""
    for other in _routes(app.routes):
        if other is route or method not in (getattr(other, "methods", None) or ()):
            continue
        theirs: re.Pattern[str] | None = getattr(other, "path_regex", None)
        if theirs is None:
            continue
        if route.path_regex.match(_example(other)) or theirs.match(_example(route)):
            raise DirectRouteError(
                f"{method} {route.path}: it shares paths with {method} {_path(other)}"
            )


def _routes(routes: list[BaseRoute]) -> Iterator[BaseRoute]:
    for item in routes:
        inner = getattr(item, "original_router", None)
        if inner is not None:
            yield from _routes(inner.routes)
        else:
            yield item


def _path(route: BaseRoute) -> str:
    return str(getattr(route, "path_format", getattr(route, "path", "")))


def _example(route: BaseRoute) -> str:
    """One path the route matches: each parameter as `x`."""
    return re.sub(r"{[^}]+}", "x", _path(route))


class _DirectRoute:
    def __init__(
        self, app: ASGIApp, route: APIRoute, method: str, owner: FastAPI, plain: bool
    ) -> None:
        self.app = app
        self.route = route
        self.method = method
        self.owner = owner  # the app whose exception handlers and dependency overrides apply
        self.plain = plain  # the endpoint takes only the request and the path parameters

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
            if self.plain:
                response: Response = await self.route.endpoint(request, **params)
            else:
                response = await self._solved(request)
        except Exception as exc:
            handler = self._handler(exc)
            if handler is None:
                raise
            answer = handler(request, exc)
            response = await answer if inspect.isawaitable(answer) else answer
        await response(scope, receive, send)

    async def _solved(self, request: Request) -> Response:
        # The exit stacks solve_dependencies expects, as FastAPI's request_response sets them;
        # no dependency here yields (checked at start-up), so they stay empty.
        scope = request.scope
        async with AsyncExitStack() as request_stack, AsyncExitStack() as function_stack:
            scope["fastapi_inner_astack"] = request_stack
            scope["fastapi_function_astack"] = function_stack
            solved = await solve_dependencies(
                request=request,
                dependant=self.route.dependant,
                dependency_overrides_provider=self.route.dependency_overrides_provider
                or self.owner,
                async_exit_stack=request_stack,
                embed_body_fields=False,
            )
            if solved.errors:
                raise RequestValidationError(solved.errors)
            response = await self.route.endpoint(**solved.values)
        if not isinstance(response, Response):
            raise TypeError(f"{self.route.path}: its endpoint returned {type(response)}")
        if response.background is None:  # as FastAPI: run after the response is sent
            response.background = solved.background_tasks
        return response

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
