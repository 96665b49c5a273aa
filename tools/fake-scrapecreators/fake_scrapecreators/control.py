"""Failure injection: the `/_control/*` routes and the outages, credits and clock they set."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from fastapi import FastAPI
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from .comments import CommentsBody
from .posts import PLATFORMS, BadUrl, CurveBody, PlatformName, post_id_from_url

Mode = Literal["ok", "slow", "429", "500", "402", "malformed", "success_false"]
Endpoint = Literal["post", "comments"]


class Behaviour(BaseModel):
    """Body of POST /_control/behaviour."""

    platform: PlatformName | None = None
    # Which endpoints the rule applies to; post endpoints unless told otherwise.
    endpoint: Endpoint = "post"
    mode: Mode = "ok"
    times: int | None = Field(default=None, ge=1)
    delay_ms: int = Field(default=0, ge=0)
    # Extra to the brief: lets tests check that a client honours Retry-After on 429.
    retry_after_s: float | None = Field(default=None, ge=0)


class CreditsBody(BaseModel):
    credits: int = Field(ge=0)


class DeletedBody(BaseModel):
    url: str


class AdvanceBody(BaseModel):
    seconds: float = Field(ge=0)


@dataclass
class Rule:
    mode: Mode
    remaining: int | None
    delay_ms: int
    retry_after_s: float | None


@dataclass
class State:
    initial_credits: int
    credits: int
    rules: dict[tuple[Endpoint, PlatformName | None], Rule] = field(default_factory=dict)
    calls: list[dict[str, Any]] = field(default_factory=list)
    comment_calls: list[dict[str, Any]] = field(default_factory=list)
    comment_sets: dict[str, CommentsBody] = field(default_factory=dict)  # by "platform:post id"
    deleted: set[tuple[PlatformName, str]] = field(default_factory=set)
    curves: dict[str, CurveBody] = field(default_factory=dict)  # by "platform:post id"
    in_flight: dict[str, int] = field(default_factory=lambda: dict.fromkeys(PLATFORMS, 0))
    max_in_flight: dict[str, int] = field(default_factory=lambda: dict.fromkeys(PLATFORMS, 0))
    offset_s: float = 0.0

    def reset(self) -> None:
        self.credits = self.initial_credits
        self.rules.clear()
        self.calls.clear()
        self.comment_calls.clear()
        self.comment_sets.clear()
        self.deleted.clear()
        self.curves.clear()
        self.offset_s = 0.0
        # Calls still sleeping in "slow" mode keep their slot until they answer.
        self.max_in_flight = dict(self.in_flight)

    def take_rule(self, platform: PlatformName | None, endpoint: Endpoint = "post") -> Rule | None:
        """The rule for this call (platform rule before the global one), consuming one use."""
        key: tuple[Endpoint, PlatformName | None] = (
            (endpoint, platform) if (endpoint, platform) in self.rules else (endpoint, None)
        )
        rule = self.rules.get(key)
        if rule is None:
            return None
        if rule.remaining is not None:
            rule.remaining -= 1
            if rule.remaining <= 0:
                del self.rules[key]
        return rule


def _not_a_post() -> Response:
    return JSONResponse({"ok": False, "message": "not a post url"}, status_code=400)


def _post_of(url: str) -> tuple[PlatformName, str] | None:
    """(platform, post id) of the first platform whose URL shape `url` has, else None."""
    for platform in PLATFORMS:
        try:
            return platform, post_id_from_url(platform, url)
        except BadUrl:
            continue
    return None


def register_control_routes(
    app: FastAPI, state: State, *, now: Callable[[], float], latency_ms: float
) -> None:
    """The test and demo controls; they need no API key."""

    @app.post("/_control/behaviour")
    async def set_behaviour(behaviour: Behaviour) -> dict[str, Any]:
        key = (behaviour.endpoint, behaviour.platform)
        if behaviour.mode == "ok" and behaviour.delay_ms == 0:
            state.rules.pop(key, None)
        else:
            state.rules[key] = Rule(
                behaviour.mode, behaviour.times, behaviour.delay_ms, behaviour.retry_after_s
            )
        return {"ok": True}

    @app.post("/_control/reset")
    async def reset() -> dict[str, Any]:
        state.reset()
        return {"ok": True}

    @app.get("/_control/calls")
    async def calls() -> list[dict[str, Any]]:
        return state.calls

    @app.get("/_control/comment-calls")
    async def comment_calls() -> list[dict[str, Any]]:
        return state.comment_calls

    @app.post("/_control/comments")
    async def set_comments(body: CommentsBody) -> Response:
        if (found := _post_of(body.url)) is None:
            return _not_a_post()
        state.comment_sets[f"{found[0]}:{found[1]}"] = body
        return JSONResponse({"ok": True, "platform": found[0]})

    @app.post("/_control/credits")
    async def set_credits(body: CreditsBody) -> dict[str, Any]:
        state.credits = body.credits
        return {"creditCount": state.credits}

    @app.post("/_control/deleted")
    async def set_deleted(body: DeletedBody) -> Response:
        if (found := _post_of(body.url)) is None:
            return _not_a_post()
        state.deleted.add(found)
        return JSONResponse({"ok": True, "platform": found[0]})

    @app.post("/_control/curves")
    async def set_curve(body: CurveBody) -> Response:
        if (found := _post_of(body.url)) is None:
            return _not_a_post()
        state.curves[f"{found[0]}:{found[1]}"] = body
        return JSONResponse({"ok": True, "platform": found[0]})

    @app.post("/_control/advance")
    async def advance(body: AdvanceBody) -> dict[str, Any]:
        """Move this server's clock forward (posts age, counters grow) without waiting."""
        state.offset_s += body.seconds
        return {"now": now()}

    @app.get("/_control/stats")
    async def stats() -> dict[str, Any]:
        return {
            "credits": state.credits,
            "calls": len(state.calls),
            "comment_calls": len(state.comment_calls),
            "in_flight": dict(state.in_flight),
            "max_in_flight": dict(state.max_in_flight),
            "latency_ms": latency_ms,
            "now": now(),
        }
