"""Ingest's operator routes (runs, red flags, rejected items and replay, a post's pull runs and
comments, the test clock) answer exactly their contracts in
pulse_contracts.internal.ingest_operations, and exactly what they served before they had one:
each answer is compared with the route's former untyped dict, built from the same rows and
encoded as FastAPI encoded it (a contract that left out a column would drop it silently).

Ingest's routers run in process over real PostgreSQL; the organization, its token and posts
arrive as catalog events, the items through the n8n webhook within a run."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from fastapi.encoders import jsonable_encoder
from pydantic import BaseModel

from pulse_contracts import make_event, utcnow
from pulse_contracts.catalog import (
    ApiTokenUpserted,
    CampaignUpserted,
    OrganizationUpserted,
    PostRegistered,
)
from pulse_contracts.internal.ingest_operations import (
    ClockSet,
    PostComments,
    PullRunPage,
    RedFlags,
    RejectedPage,
    Replayed,
    RunDetail,
    RunPage,
)
from pulse_ingest import api, flags, handlers, repository, runs
from pulse_ingest import runs_repository as rr
from pulse_ingest.comments import ScoredComment
from pulse_ingest.provider_runs import PullRun
from pulse_ingest.runs_api import runs_internal, runs_router
from pulse_ingest.scheduler import Clock
from pulse_ingest.sentiment import score
from pulse_ingest.tokens import TokenCache
from pulse_runtime.db import create_pool
from pulse_runtime.http import install_error_handlers
from tests.support.servers import Servers
from tests.support.services import settings_for

pytestmark = pytest.mark.integration

SERVICE_TOKEN = "operator-contracts-test-token"
CIRCUITS = ["instagram"]


@pytest.fixture(scope="module")
async def pool(servers: Servers) -> AsyncIterator[asyncpg.Pool]:
    created = await create_pool(settings_for("ingest", servers).dsn, max_size=4)
    yield created
    await created.close()


def _round_trip(model: type[BaseModel], served: Any) -> Any:
    """The answer parsed into its contract; it must dump back to the JSON that was served."""
    parsed = model.model_validate(served)
    assert parsed.model_dump(mode="json") == served
    return parsed


def _as_before(untyped: Any) -> Any:
    """The JSON FastAPI wrote for a route's plain dict (no response_model), key for key."""
    return json.loads(json.dumps(jsonable_encoder(untyped)))


async def _catalog(pool: asyncpg.Pool, org_id: UUID, *events: Any) -> None:
    for data in events:
        envelope = make_event(data, org_id=org_id, producer="gateway")
        await handlers.on_catalog_event(pool, envelope, tokens=TokenCache())


async def test_operator_routes_answer_their_contracts_and_what_they_served_before(
    pool: asyncpg.Pool,
) -> None:
    now = utcnow()
    org_id, campaign_id, token = uuid4(), uuid4(), f"pk_{uuid4().hex}"
    fresh = {"id": uuid4(), "url": "https://www.tiktok.com/@lin/video/7433917265401856301"}
    stale = {"id": uuid4(), "url": "https://www.tiktok.com/@lin/video/7433917265401856302"}
    await _catalog(
        pool,
        org_id,
        OrganizationUpserted(id=org_id, name="Contracts Org", updated_at=now),
        ApiTokenUpserted(
            id=uuid4(),
            org_id=org_id,
            name="n8n",
            token_sha256=hashlib.sha256(token.encode()).hexdigest(),
            scopes=["ingest"],
            updated_at=now,
        ),
        CampaignUpserted(
            id=campaign_id,
            client_id=uuid4(),
            name="Linen Launch",
            status="live",
            start_date=(now - timedelta(days=5)).date(),
            end_date=(now + timedelta(days=10)).date(),
            updated_at=now,
        ),
        *[
            PostRegistered(
                id=p["id"],
                booking_id=uuid4(),
                campaign_id=campaign_id,
                platform="tiktok",
                url=p["url"],
                platform_post_id=p["url"].rsplit("/", 1)[1],
                # Registered two days ago and never sampled: the stale one is a red flag.
                registered_at=now - timedelta(days=2),
            )
            for p in (fresh, stale)
        ],
    )
    clock = Clock()
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(api.ingest_router(lambda: pool, tokens=TokenCache()))
    app.include_router(api.internal_reads(lambda: pool, SERVICE_TOKEN))
    app.include_router(
        runs_router(lambda: pool, tokens=TokenCache(), clock=clock, wake_relay=lambda: None)
    )
    app.include_router(
        runs_internal(
            lambda: pool,
            SERVICE_TOKEN,
            clock=clock,
            wake_relay=lambda: None,
            open_circuits=lambda: list(CIRCUITS),
        )
    )
    app.include_router(
        api.pulling_routes(lambda: pool, SERVICE_TOKEN, puller=None, clock=clock, key=b"")
    )
    app.include_router(api.test_routes(SERVICE_TOKEN, puller=None, clock=clock))
    transport = httpx.ASGITransport(app=app)
    async with (
        httpx.AsyncClient(
            transport=transport, base_url="http://ingest", headers={"X-Pulse-Key": token}
        ) as n8n,
        httpx.AsyncClient(
            transport=transport,
            base_url=f"http://ingest/internal/orgs/{org_id}",
            headers={"X-Pulse-Service-Token": SERVICE_TOKEN},
        ) as internal,
    ):

        async def served(method: str, path: str, **kwargs: Any) -> Any:
            response = await internal.request(method, path, **kwargs)
            assert response.status_code == 200, response.text
            return response.json()

        # A run as n8n makes one: opened, items sent within it, completed with outcomes.
        opened = await n8n.post("/api/ingest/runs", json={"workflow": "Pulse metrics"})
        run_id = opened.json()["run_id"]
        items = [
            {
                "post_id": str(fresh["id"]),
                "observed_at": (now - timedelta(minutes=5)).isoformat(),
                "metrics": {"views": 1200, "likes": 90},
            },
            {"url": "https://www.tiktok.com/@late/video/7433917265401856399", "metrics": {}},
            {"post_id": str(fresh["id"]), "metrics": {"views": -5}},
        ]
        sent = await n8n.post("/api/ingest/posts", json=items, headers={"X-Pulse-Run": run_id})
        assert sent.status_code == 200, sent.text
        assert sent.json()["accepted"] == 1
        completed = await n8n.post(
            f"/api/ingest/runs/{run_id}/complete",
            json={
                "outcomes": [
                    {"post_id": str(fresh["id"]), "status": "ok", "tries": 1},
                    {
                        "url": stale["url"],
                        "status": "failed",
                        "code": "provider_error",
                        "message": "the provider answered 500",
                        "http_status": 500,
                        "tries": 3,
                    },
                ]
            },
        )
        assert completed.status_code == 200, completed.text

        # Pulse's own calls for the post, its comments, and the provider paused.
        async with pool.acquire() as conn:
            await repository.insert_pull_runs(
                conn,
                org_id=org_id,
                command_id=uuid4(),
                priority="high",
                reason="manual",
                runs=[
                    (
                        fresh["id"],
                        PullRun("tiktok", fresh["url"], "ok", 200, 310, 1, 1, None, None, now),
                    ),
                    (
                        fresh["id"],
                        PullRun(
                            "tiktok",
                            fresh["url"],
                            "failed",
                            None,
                            10_000,
                            0,
                            3,
                            "timeout",
                            "no answer in 10 s",
                            now,
                        ),
                    ),
                ],
            )
            comments = [
                ScoredComment(
                    "c1",
                    "love this linen, stunning",
                    "ana",
                    now,
                    12,
                    score("love this linen, stunning"),
                ),
                ScoredComment("c2", "meh", None, None, None, score("meh")),
            ]
            await repository.insert_comments(conn, fresh["id"], now, comments)
            comment_run = PullRun("tiktok", fresh["url"], "ok", 200, 250, 1, 1, None, None, now)
            await repository.insert_comment_pull(
                conn,
                org_id=org_id,
                post_id=fresh["id"],
                command_id=uuid4(),
                run=comment_run,
                pages=1,
                received=2,
                new_comments=2,
            )
            await repository.pause_org(conn, org_id, now, "out_of_credits")

        listed = await served("GET", "/runs")
        detail = await served("GET", f"/runs/{run_id}")
        red = await served("GET", "/red-flags")
        rejected = await served("GET", "/rejected-items")
        pulls = await served("GET", f"/posts/{fresh['id']}/pull-runs")
        post_comments = await served("GET", f"/posts/{fresh['id']}/comments", params={"limit": 5})

        # What each route returned before its contract, from the same rows.
        async with pool.acquire() as conn:
            run_rows = await rr.list_runs(
                conn, org_id=org_id, limit=50, status=None, source=None, before=None
            )
            run_row = await rr.get_run(conn, UUID(run_id), org_id)
            assert run_row is not None
            run_items = await rr.run_items(conn, UUID(run_id), 1000)
            flagged = await flags.red_flags(conn, org_id, now=clock.now(), open_circuits=CIRCUITS)
            rejected_rows = await repository.rejected_items(
                conn, org_id=org_id, before_id=2**62, limit=100
            )
            pull_rows = await repository.pull_runs(
                conn, org_id=org_id, post_id=fresh["id"], before_id=2**62, limit=50
            )
            summary = await repository.comment_summary(conn, org_id, fresh["id"])
            assert summary is not None
            comment_rows = await repository.post_comments(conn, fresh["id"], 5)

        assert [r.run_id for r in _round_trip(RunPage, listed).items] == [UUID(run_id)]
        assert listed == _as_before(
            {"items": [runs.summary(r) for r in run_rows], "next_cursor": None}
        )
        run = _round_trip(RunDetail, detail)
        assert detail == _as_before(
            {**runs.summary(run_row), "items": [dict(i) for i in run_items]}
        )
        assert (run.status, run.name, run.posts_ok, run.posts_failed) == (
            "partial",
            "Pulse metrics",
            1,
            1,
        )
        assert {(i.kind, i.status, i.code) for i in run.items} >= {
            ("outcome", "ok", None),
            ("outcome", "failed", "provider_error"),
            ("item", "rejected", "unknown_post"),
        }

        found = _round_trip(RedFlags, red)
        before = _as_before(flagged)
        # The outbox's lag is read at each call (now() in SQL): the same key, a later value.
        assert red.pop("outbox_lag_s") >= 0
        assert before.pop("outbox_lag_s") >= 0
        assert red == before
        assert [p.id for p in found.stale_posts] == [stale["id"]]
        assert [r.run_id for r in found.runs] == [UUID(run_id)]
        assert (found.provider.paused, found.provider.open_circuits) == (True, CIRCUITS)
        assert red["provider"]["paused_at"] == now.isoformat()  # "+00:00", as before

        page = _round_trip(RejectedPage, rejected)
        assert rejected == _as_before(
            {"items": [dict(r) for r in rejected_rows], "next_cursor": None}
        )
        # The unknown post's item is held until its post is registered; the invalid one is not.
        assert sorted((i.code == "unknown_post", i.held) for i in page.items) == [
            (False, False),
            (True, True),
        ]
        assert [i.held_until is not None for i in page.items if i.code == "unknown_post"] == [True]

        _round_trip(PullRunPage, pulls)
        assert pulls == _as_before({"items": [dict(r) for r in pull_rows], "next_cursor": None})
        assert [(r["status"], r["error_code"]) for r in pulls["items"]] == [
            ("failed", "timeout"),
            ("ok", None),
        ]

        said = _round_trip(PostComments, post_comments)
        last_pull = summary["last_pull"]
        assert post_comments == _as_before(
            {
                "post_id": summary["post_id"],
                "platform": summary["platform"],
                "analysed": summary["analysed"],
                "positive": summary["positive"],
                "neutral": summary["neutral"],
                "negative": summary["negative"],
                "checked_at": summary["comments_checked_at"],
                "last_pull": json.loads(last_pull) if isinstance(last_pull, str) else last_pull,
                "items": [dict(r) for r in comment_rows],
            }
        )
        assert said.analysed == 2
        assert said.last_pull is not None
        assert said.last_pull.new_comments == 2

        # Replay: each kept item is tried again and still refused, with its reason.
        ids = [i.id for i in page.items]
        replayed = _round_trip(
            Replayed, await served("POST", "/rejected-items/replay", json={"ids": ids})
        )
        assert replayed.applied == []
        assert sorted(r.id for r in replayed.still_rejected) == sorted(ids)

        # The test clock: the offset taken, and now as FastAPI wrote it (isoformat).
        moved = await internal.put("http://ingest/internal/test/clock", json={"offset_s": 3600.0})
        assert moved.status_code == 200, moved.text
        clock_set = _round_trip(ClockSet, moved.json())
        assert clock_set.offset_s == 3600.0
        assert moved.json()["now"] == clock_set.now.isoformat()
        assert clock_set.now - utcnow() > timedelta(minutes=59)
