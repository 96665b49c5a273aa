"""The one error shape of every HTTP surface: {"error": {"code", "message", "details"}}."""

from __future__ import annotations

from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    422: "validation_error",
    429: "too_many_requests",
    503: "unavailable",
}


class ApiError(Exception):
    """Raise from routes and handlers for a clear, typed HTTP error."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        details: list[Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code or _CODES.get(status, "error")
        self.message = message
        self.details = details or []


# --- what a use case says when it refuses ----------------------------------------------------
# Handlers raise these in the agency's words and never name a status code: the one mapping to
# HTTP is here. They are ApiErrors, so the JSON API and the server-rendered forms (which catch
# ApiError to show the message beside the form) treat them with no further code.


class NotFound(ApiError):
    """The thing asked for does not exist, or belongs to another organization (never said)."""

    def __init__(self, message: str) -> None:
        super().__init__(404, message)


class Invalid(ApiError):
    """A value the agency gave cannot be used; `field` names it, as request validation does."""

    def __init__(self, field: str, message: str, *, details: list[Any] | None = None) -> None:
        super().__init__(
            422, message, details=details or [{"path": f"body.{field}", "message": message}]
        )
        self.field = field


class Conflict(ApiError):
    """The request is valid but clashes with what exists (a duplicate, a dependant left)."""

    def __init__(self, message: str) -> None:
        super().__init__(409, message)


class NotSignedIn(ApiError):
    """The credentials, link or token given do not identify anyone."""

    def __init__(self, message: str) -> None:
        super().__init__(401, message)


class TooManyAttempts(ApiError):
    """Refused for now to slow guessing down; trying later works."""

    def __init__(self, message: str) -> None:
        super().__init__(429, message)


def error_body(code: str, message: str, details: list[Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or []}}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(error_body(exc.code, exc.message, exc.details), status_code=exc.status)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _CODES.get(exc.status_code, "error")
        return JSONResponse(
            error_body(code, str(exc.detail)), status_code=exc.status_code, headers=exc.headers
        )

    # PostgreSQL text cannot hold NUL (\u0000): such input is the client's mistake, not a 500.
    @app.exception_handler(asyncpg.exceptions.CharacterNotInRepertoireError)
    @app.exception_handler(asyncpg.exceptions.UntranslatableCharacterError)
    async def _nul_in_text(_: Request, exc: Exception) -> JSONResponse:
        return JSONResponse(
            error_body("validation_error", "text fields may not contain NUL (\\u0000) characters"),
            status_code=422,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = [
            {
                "path": ".".join(str(p) for p in err["loc"]),
                "message": err["msg"],
                "type": err["type"],
            }
            for err in exc.errors()
        ]
        names = ", ".join(d["path"] for d in details[:5])
        return JSONResponse(
            error_body("validation_error", f"invalid fields: {names}", details), status_code=422
        )
