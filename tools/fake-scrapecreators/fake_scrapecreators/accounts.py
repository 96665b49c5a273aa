"""The fake's account endpoints, for benchmark pulls (docs/insights.md): TikTok profile and
profile videos, Instagram profile and user posts, shaped like templates/*_profile*.json and
*_user_posts.json (crafted from the vendor's documented samples, values made up).

Every account is a pure function of its handle and the clock, like the posts: followers grow a
little each day from a hash-chosen base, and the account posts every `gap` hours (hash-chosen,
8..60 h) with counters on the post curve of posts.py. Handles that start with `unknown` answer
404 as the provider does for an account it cannot find; those that start with `private` are
private accounts (profile only, no posts).
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Callable
from importlib import resources
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

POSTS_PER_PAGE = 12
NOT_FOUND_BODY = {"success": False, "message": "User not found"}

Counter = Callable[[str, float], Any]  # counters_at(key, hours)
Unit = Callable[[str, str], float]  # a stable number in [0, 1) from a key and a salt


def _template(name: str) -> dict[str, Any]:
    folder = resources.files("fake_scrapecreators") / "templates"
    body = json.loads((folder / name).read_text(encoding="utf-8"))
    assert isinstance(body, dict)
    return body


def register_account_routes(
    app: FastAPI,
    *,
    now: Callable[[], float],
    charge: Callable[[str, str | None], Response | None],
    counters_at: Counter,
    unit: Unit,
    extra_tags: Callable[[str], str],
) -> None:
    """`charge(path, api_key)` answers for a call that may not go on (no key, no credits) and
    otherwise counts its credit and returns None."""
    templates = {
        name: _template(f"{name}.json")
        for name in ("tiktok_profile", "tiktok_profile_videos", "instagram_profile")
    }
    templates["instagram_user_posts"] = _template("instagram_user_posts.json")

    def followers(platform: str, handle: str) -> int:
        base: float = 10 ** (3.5 + 3.0 * unit(f"{platform}:@{handle}", "followers"))
        daily = 0.001 + 0.004 * unit(f"{platform}:@{handle}", "follower-growth")
        growth: float = (1 + daily) ** (now() / 86400 - 20_000)
        return math.floor(base * growth)

    def recent_posts(
        platform: str, handle: str, before: float | None = None
    ) -> tuple[list[tuple[str, int, Any, str]], int]:
        """(post id, posted at, counters, caption) of one page of posts, newest first, posted
        before `before` (unix s; None: now), and the first slot of the next page."""
        key = f"{platform}:@{handle}"
        gap = (8 + 52 * unit(key, "gap")) * 3600
        phase = unit(key, "phase") * gap
        t = now()
        newest = math.floor((min(t, before if before is not None else t) - phase) / gap)
        if before is not None and newest * gap + phase >= before:
            newest -= 1
        found = []
        for i in range(POSTS_PER_PAGE):
            slot = newest - i
            posted = math.floor(slot * gap + phase)
            digits = str(10**18 + (slot * 7919 + int(unit(key, "id") * 10**9)) % 10**18)
            post_id = digits if platform == "tiktok" else f"B{digits[-10:]}"
            post_key = f"{platform}:{post_id}"
            found.append(
                (post_id, posted, counters_at(post_key, (t - posted) / 3600), extra_tags(post_key))
            )
        return found, newest - POSTS_PER_PAGE

    def answer(
        request: Request, kind: str, render: Callable[[str, Request], dict[str, Any]]
    ) -> Response:
        refused = charge(request.url.path, request.headers.get("x-api-key") or None)
        if refused is not None:
            return refused
        handle = (request.query_params.get("handle") or "").lstrip("@").lower()
        if not handle:
            body = {"success": False, "error": "bad_request", "message": "handle is required"}
            return JSONResponse(body, status_code=400)
        if handle.startswith("unknown"):
            return JSONResponse(NOT_FOUND_BODY, status_code=404)
        return JSONResponse(render(handle, request))

    def tiktok_profile(handle: str, _: Request) -> dict[str, Any]:
        body = copy.deepcopy(templates["tiktok_profile"])
        body["user"].update(uniqueId=handle, nickname=handle.title())
        body["user"]["privateAccount"] = body["user"]["secret"] = handle.startswith("private")
        body["stats"]["followerCount"] = followers("tiktok", handle)
        return body

    def tiktok_videos(handle: str, request: Request) -> dict[str, Any]:
        """Paged like the provider: `max_cursor` (ms) of the oldest post in the last page."""
        body = copy.deepcopy(templates["tiktok_profile_videos"])
        item = body["aweme_list"][0]
        items = []
        cursor = request.query_params.get("max_cursor")
        before = int(cursor) / 1000 if cursor and cursor.isdigit() else None
        page, _ = recent_posts("tiktok", handle, before)
        for post_id, posted, c, tags in page:
            video = copy.deepcopy(item)
            video.update(aweme_id=post_id, create_time=posted, desc=f"New drop{tags}")
            video["author"]["unique_id"] = handle
            video["url"] = f"https://www.tiktok.com/@{handle}/video/{post_id}"
            video["statistics"].update(
                aweme_id=post_id,
                play_count=c.views,
                digg_count=c.likes,
                comment_count=c.comments,
                share_count=c.shares,
                collect_count=c.saves,
            )
            items.append(video)
        body["aweme_list"] = [] if handle.startswith("private") else items
        body["has_more"] = 1 if body["aweme_list"] else 0
        body["max_cursor"] = items[-1]["create_time"] * 1000 if items else 0
        body["min_cursor"] = items[0]["create_time"] * 1000 if items else 0
        return body

    def instagram_profile(handle: str, _: Request) -> dict[str, Any]:
        body = copy.deepcopy(templates["instagram_profile"])
        user = body["data"]["user"]
        user.update(
            username=handle, full_name=handle.title(), is_private=handle.startswith("private")
        )
        user["edge_followed_by"]["count"] = followers("instagram", handle)
        return body

    def instagram_posts(handle: str, request: Request) -> dict[str, Any]:
        """Paged like the provider: `next_max_id` from the last page ("<slot>_<user id>")."""
        body = copy.deepcopy(templates["instagram_user_posts"])
        item = body["items"][0]
        items = []
        cursor = (request.query_params.get("next_max_id") or "").split("_")[0]
        before = None
        if cursor.lstrip("-").isdigit():
            key = f"instagram:@{handle}"
            gap = (8 + 52 * unit(key, "gap")) * 3600
            before = (int(cursor) + 1) * gap + unit(key, "phase") * gap
        page, next_slot = recent_posts("instagram", handle, before)
        for post_id, posted, c, tags in page:
            post = copy.deepcopy(item)
            post.update(
                code=post_id,
                taken_at=posted,
                play_count=c.views,
                ig_play_count=c.views,
                like_count=c.likes,
                comment_count=c.comments,
            )
            post["caption"] = {"text": f"New drop{tags}"}
            items.append(post)
        body["items"] = [] if handle.startswith("private") else items
        body["num_results"] = len(body["items"])
        body["more_available"] = bool(body["items"])
        body["next_max_id"] = f"{next_slot}_{body['user']['pk']}" if body["items"] else None
        body["user"]["username"] = handle
        return body

    routes = {
        "/v1/tiktok/profile": tiktok_profile,
        "/v3/tiktok/profile/videos": tiktok_videos,
        "/v1/instagram/profile": instagram_profile,
        "/v2/instagram/user/posts": instagram_posts,
    }

    def route(path: str, render: Callable[[str, Request], dict[str, Any]]) -> Callable[..., Any]:
        async def handler(request: Request) -> Response:
            return answer(request, path, render)

        handler.__name__ = path.strip("/").replace("/", "_")
        return handler

    for path, render in routes.items():
        app.add_api_route(path, route(path, render), methods=["GET"])
