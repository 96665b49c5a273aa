"""A local stand-in for api.scrapecreators.com, for tests and `make dev`.

It serves the provider's own paths with fixture-shaped bodies (templates/ are copies of the
crafted fixtures), so the real client and the real normalizer run unchanged against it.

Why the numbers look the way they do:
- Every post is identified by the id in its URL, never by the URL text, so two URL forms of one
  post (share links with tracking queries, shorts vs watch) give the same post and counters.
- Counters are a pure function of (post, elapsed time since the post's "posted" moment): a
  saturating curve views = total x (1 - e^(-hours/tau)) plus a slow log tail, with total, tau
  and the engagement ratios taken from a hash of the post. Every counter is the floor of a
  non-decreasing function of time, so no counter ever decreases while the clock moves forward.
- The posted moment is `anchor - offset(hash)` with offset between 10 minutes and 72 hours;
  `anchor` is the clock at start-up unless given, so a fresh server shows fresh, growing posts.
  Pass the same `anchor` (`--anchor`) across restarts to keep the same numbers.

Failures are injected through `/_control/*` (no API key needed there): provider outages
(429, 500, slow), out-of-credits, malformed and success:false bodies, and deleted posts.
Credits are charged like the ingest client counts them: one per post or comments call that
reached the provider and was not answered 401/402/5xx.

Latency: by default the fake answers at once (tests stay fast). `--latency-ms N` (or
`create_app(latency_ms=N)`) makes every post and comments call take N ms on average, drawn
uniformly from 0.5 N to 1.5 N, like a scraping API whose answers take a second or two; a
behaviour rule with its own `delay_ms` (or "slow") replaces that draw for the calls it covers.

Comments (the vendor's four comment endpoints, shapes in
shared/fixtures/scrapecreators/README.md and pulse_ingest/comments.py): every post has a
deterministic set of top-level comments, newest first, paged with each platform's cursor.
Comment i of a post is written `spacing` seconds after the post went live and is visible once
the clock has passed that moment, so later pulls see more comments with the same ids. By
default a post has 5..60 comments, 90 s apart, a "mixed" mood (about 55 % clearly positive,
30 % neutral, 15 % negative texts). `POST /_control/comments {url, count, mood, spacing_s}`
sets a post's set, e.g. `mood: "negative"` (about 70 % negative) to demo a sentiment alert.
Shapes the vendor does not document and this fake chose: Instagram's `created_at` is unix
seconds, TikTok pages hold 20 comments, Instagram 15, YouTube 20, Facebook 10.
Behaviour rules apply to the post endpoints unless they say `endpoint: "comments"`, and
comment calls are listed by `/_control/comment-calls`, apart from `/_control/calls`, so tests
about post pulls are not disturbed by the comment fetches that follow them.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from collections.abc import Callable
from typing import Any, Final

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from .accounts import register_account_routes
from .bodies import (
    DELETED_BODY,
    MISSING_KEY_BODY,
    OUT_OF_CREDITS_BODY,
    RATE_LIMIT_TEXT,
    SERVER_ERROR_BODY,
    SUCCESS_FALSE_BODY,
    load_templates,
    malformed,
    render,
)
from .comments import (
    NEGATIVE_TEXTS,
    NEUTRAL_TEXTS,
    PAGE_SIZES,
    POSITIVE_TEXTS,
    comment_set,
    comments_page,
    cursor_offset,
)
from .control import Behaviour, Endpoint, Mode, State, register_control_routes
from .posts import (
    PLATFORMS,
    BadUrl,
    PlatformName,
    counters_at,
    extra_tags,
    post_id_from_url,
    posted_at,
    unit,
)

# Other code imports these from here (tests, the ingest service's tests): keep them re-exported.
__all__ = [
    "COMMENT_PATHS",
    "NEGATIVE_TEXTS",
    "NEUTRAL_TEXTS",
    "PAGE_SIZES",
    "PATHS",
    "PLATFORMS",
    "POSITIVE_TEXTS",
    "Behaviour",
    "counters_at",
    "create_app",
    "main",
    "post_id_from_url",
]

PATHS: Final[dict[str, PlatformName]] = {
    "/v2/tiktok/video": "tiktok",
    "/v1/instagram/post": "instagram",
    "/v1/youtube/video": "youtube",
    "/v1/facebook/post": "facebook",
}
COMMENT_PATHS: Final[dict[str, PlatformName]] = {
    "/v1/tiktok/video/comments": "tiktok",
    "/v2/instagram/post/comments": "instagram",
    "/v1/youtube/video/comments": "youtube",
    "/v1/facebook/post/comments": "facebook",
}
DEFAULT_CREDITS: Final = 100_000
# "slow" without an explicit delay still has to be slower than any sane client timeout in tests.
DEFAULT_SLOW_MS: Final = 2_000


def create_app(
    clock: Callable[[], float] = time.time,
    *,
    credits: int = DEFAULT_CREDITS,
    anchor: float | None = None,
    latency_ms: float = 0.0,
    rng: random.Random | None = None,
) -> FastAPI:
    """The fake provider; `clock` (unix seconds) drives post ages and call timestamps, and
    `latency_ms` is the mean time a post or comments call takes (see the module doc)."""
    app = FastAPI(title="fake-scrapecreators", docs_url=None, redoc_url=None)
    draw = rng if rng is not None else random.Random()  # jitter, not crypto
    state = State(initial_credits=credits, credits=credits)
    templates = load_templates()
    start_anchor = clock() if anchor is None else anchor

    def now() -> float:
        return clock() + state.offset_s

    def log(path: str, url: str | None, api_key: str | None, status: int) -> None:
        state.calls.append(
            {"path": path, "url": url, "api_key": api_key, "at": now(), "status": status}
        )

    async def post_call(
        request: Request, platform: PlatformName, endpoint: Endpoint = "post"
    ) -> Response:
        path = request.url.path
        url = request.query_params.get("url")
        api_key = request.headers.get("x-api-key") or None
        state.in_flight[platform] += 1
        state.max_in_flight[platform] = max(
            state.max_in_flight[platform], state.in_flight[platform]
        )
        try:
            response, charged = await answer(platform, url, api_key, endpoint, request)
        finally:
            state.in_flight[platform] -= 1
        if charged:
            state.credits = max(0, state.credits - 1)
        if endpoint == "comments":
            state.comment_calls.append(
                {
                    "path": path,
                    "url": url,
                    "api_key": api_key,
                    "at": now(),
                    "status": response.status_code,
                    "params": dict(request.query_params),
                }
            )
        else:
            log(path, url, api_key, response.status_code)
        return response

    async def answer(
        platform: PlatformName,
        url: str | None,
        api_key: str | None,
        endpoint: Endpoint,
        request: Request,
    ) -> tuple[Response, bool]:
        """The response and whether the call costs a credit."""
        if api_key is None:
            return JSONResponse(MISSING_KEY_BODY, status_code=401), False
        rule = state.take_rule(platform, endpoint)
        mode: Mode = rule.mode if rule else "ok"
        delay_ms = latency_ms * draw.uniform(0.5, 1.5) if latency_ms > 0 else 0.0
        if rule is not None:
            delay_ms = rule.delay_ms or (DEFAULT_SLOW_MS if mode == "slow" else delay_ms)
        if delay_ms:
            await asyncio.sleep(delay_ms / 1000)
        if mode == "429":
            headers = {}
            if rule is not None and rule.retry_after_s is not None:
                headers["Retry-After"] = f"{rule.retry_after_s:g}"
            return PlainTextResponse(RATE_LIMIT_TEXT, status_code=429, headers=headers), True
        if mode == "500":
            return JSONResponse(SERVER_ERROR_BODY, status_code=500), False
        if mode == "402" or state.credits <= 0:
            return JSONResponse(OUT_OF_CREDITS_BODY, status_code=402), False
        if mode == "success_false":
            return JSONResponse(SUCCESS_FALSE_BODY), True
        if not url:
            body = {"success": False, "error": "bad_request", "message": "url is required"}
            return JSONResponse(body, status_code=400), True
        try:
            post_id = post_id_from_url(platform, url)
        except BadUrl as exc:
            body = {"success": False, "error": "bad_request", "message": str(exc)}
            return JSONResponse(body, status_code=400), True
        if (platform, post_id) in state.deleted:
            return JSONResponse(DELETED_BODY, status_code=404), True
        if endpoint == "comments":
            return comments_answer(platform, post_id, request, mode)
        body = render(
            templates[platform],
            platform,
            url,
            post_id,
            now=now(),
            anchor=start_anchor,
            credits=state.credits - 1,
            curve=state.curves.get(f"{platform}:{post_id}"),
        )
        if mode == "malformed":
            body = malformed(body, platform)
        return JSONResponse(body), True

    def comments_answer(
        platform: PlatformName, post_id: str, request: Request, mode: Mode
    ) -> tuple[Response, bool]:
        key = f"{platform}:{post_id}"
        curve = state.curves.get(key)
        posted = curve.posted_at if curve is not None else posted_at(key, start_anchor)
        moment = now()
        visible = [
            c for c in comment_set(key, posted, state.comment_sets.get(key)) if c.at <= moment
        ]
        cursor_param = "continuationToken" if platform == "youtube" else "cursor"
        offset = cursor_offset(request.query_params.get(cursor_param))
        if offset is None:
            body = {"success": False, "error": "bad_request", "message": "invalid cursor"}
            return JSONResponse(body, status_code=400), True
        page = comments_page(platform, post_id, visible, offset, state.credits - 1)
        if mode == "malformed":
            page.pop("comments", None)
        return JSONResponse(page), True

    def route(platform: PlatformName, endpoint: Endpoint) -> Callable[[Request], Any]:
        async def handler(request: Request) -> Response:
            return await post_call(request, platform, endpoint)

        handler.__name__ = f"{platform}_{endpoint}"
        return handler

    for path, platform in PATHS.items():
        app.add_api_route(path, route(platform, "post"), methods=["GET"])
    for path, platform in COMMENT_PATHS.items():
        app.add_api_route(path, route(platform, "comments"), methods=["GET"])

    @app.get("/v1/account/credit-balance")
    async def credit_balance(request: Request) -> Response:
        api_key = request.headers.get("x-api-key") or None
        if api_key is None:
            log(request.url.path, None, None, 401)
            return JSONResponse(MISSING_KEY_BODY, status_code=401)
        log(request.url.path, None, api_key, 200)
        return JSONResponse({"creditCount": state.credits})

    def charge(path: str, api_key: str | None) -> Response | None:
        """An account call (accounts.py): refused without a key or credits, else one credit."""
        if api_key is None:
            log(path, None, None, 401)
            return JSONResponse(MISSING_KEY_BODY, status_code=401)
        if state.credits <= 0:
            log(path, None, api_key, 402)
            return JSONResponse(OUT_OF_CREDITS_BODY, status_code=402)
        state.credits -= 1
        log(path, None, api_key, 200)
        return None

    register_account_routes(
        app,
        now=now,
        charge=charge,
        counters_at=counters_at,
        unit=unit,
        extra_tags=extra_tags,
    )

    register_control_routes(app, state, now=now, latency_ms=latency_ms)

    return app


def main(argv: list[str] | None = None) -> None:
    import uvicorn

    parser = argparse.ArgumentParser(prog="fake-scrapecreators", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8010)
    parser.add_argument("--credits", type=int, default=DEFAULT_CREDITS)
    parser.add_argument(
        "--anchor",
        type=float,
        default=None,
        help="unix seconds posts are aged from (default: start-up time)",
    )
    parser.add_argument(
        "--latency-ms",
        type=float,
        default=0.0,
        help="mean time of a post or comments call, drawn from 0.5x to 1.5x (default: none)",
    )
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args(argv)
    uvicorn.run(
        create_app(credits=args.credits, anchor=args.anchor, latency_ms=args.latency_ms),
        host=args.host,
        port=args.port,
        log_level=args.log_level,
    )
