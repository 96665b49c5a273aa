"""The shared error shape: database refusals of client text become a clear 422, never a 500."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
from fastapi import FastAPI

from pulse_runtime.http import Metrics, create_http_app


@contextlib.asynccontextmanager
async def _lifespan(_: FastAPI) -> AsyncIterator[None]:
    yield


def _app(error: Exception) -> FastAPI:
    app = create_http_app(
        title="t", metrics=Metrics("t"), ready_checks=[], asyncapi=dict, lifespan=_lifespan
    )

    @app.post("/things")
    async def create(body: dict[str, Any]) -> None:
        raise error

    return app


async def test_text_with_nul_answers_422_with_the_reason() -> None:
    for error in (
        asyncpg.exceptions.CharacterNotInRepertoireError("invalid byte sequence 0x00"),
        asyncpg.exceptions.UntranslatableCharacterError("unsupported Unicode escape"),
    ):
        transport = httpx.ASGITransport(app=_app(error))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.post("/things", json={"name": "a\u0000b"})
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "validation_error"
        assert "NUL" in response.json()["error"]["message"]


async def test_every_answer_echoes_the_request_id_and_errors_name_fields() -> None:
    transport = httpx.ASGITransport(app=_app(RuntimeError("unused")))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.post("/things", content=b"[", headers={"X-Request-ID": "r-1"})
    assert response.status_code == 422
    assert response.headers["X-Request-ID"] == "r-1"
    assert response.json()["error"]["details"][0]["path"].startswith("body")


async def test_what_a_use_case_refuses_reaches_the_caller_with_its_status_and_field() -> None:
    from pulse_runtime.errors import Conflict, Invalid, NotFound, NotSignedIn, TooManyAttempts

    cases = [
        (NotFound("no campaign 7"), 404, "not_found", []),
        (Conflict("already tracked"), 409, "conflict", []),
        (NotSignedIn("wrong password"), 401, "unauthorized", []),
        (TooManyAttempts("slow down"), 429, "too_many_requests", []),
        (
            Invalid("end_date", "end_date is before start_date"),
            422,
            "validation_error",
            [{"path": "body.end_date", "message": "end_date is before start_date"}],
        ),
    ]
    for error, status, code, details in cases:
        transport = httpx.ASGITransport(app=_app(error))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.post("/things", json={})
        assert response.status_code == status
        assert response.json()["error"] == {"code": code, "message": str(error), "details": details}
