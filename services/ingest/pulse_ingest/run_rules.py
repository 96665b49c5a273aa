"""Run rules (pure): what a workflow may report about its posts, how a run's status follows
from it, and which tracked post each reported outcome names."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Annotated, Final, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from pulse_contracts.post_urls import PostUrlError, parse_post_url
from pulse_contracts.values import Platform

RunStatus = Literal["pending", "running", "success", "failed", "partial"]
RunSource = Literal["n8n", "scheduler"]
RUN_STATUSES: Final[tuple[str, ...]] = ("pending", "running", "success", "failed", "partial")
OPEN_STATUSES: Final = frozenset({"pending", "running"})
# Rejections that are the provider's failure, not the item's: counted apart in a run.
PROVIDER_CODES: Final = frozenset({"provider_error", "out_of_credits"})
MAX_OUTCOMES: Final = 1000

ShortText = Annotated[str, Field(max_length=200)]


class OpenRun(BaseModel):
    """Body of POST /api/ingest/runs (every field optional)."""

    model_config = ConfigDict(extra="forbid")
    source: Literal["n8n"] = "n8n"
    workflow: ShortText | None = None
    execution_id: ShortText | None = None


class Outcome(BaseModel):
    """One post as the workflow saw it: fetched (`ok`) or not (`failed`, with the provider's
    code, message and HTTP status). Names its post by `post_id` or `url`."""

    model_config = ConfigDict(extra="forbid")
    post_id: UUID | None = None
    platform: Platform | None = None
    url: Annotated[str, Field(max_length=2048)] | None = None
    status: Literal["ok", "failed"]
    code: Annotated[str, Field(max_length=100)] | None = None
    message: Annotated[str, Field(max_length=2000)] | None = None
    http_status: Annotated[int, Field(ge=100, le=599)] | None = None
    tries: Annotated[int, Field(ge=0, le=1000)] | None = None


class Completion(BaseModel):
    """Body of POST /api/ingest/runs/{run_id}/complete."""

    model_config = ConfigDict(extra="forbid")
    execution_id: ShortText | None = None
    workflow: ShortText | None = None
    outcomes: list[Outcome] = Field(default_factory=list, max_length=MAX_OUTCOMES)


@dataclass(frozen=True)
class PostRef:
    """A tracked post an outcome can name (runs_outcome_posts.sql, in its column order)."""

    id: UUID
    booking_id: UUID
    campaign_id: UUID
    platform: str
    platform_post_id: str | None
    url: str
    removed: bool


@dataclass(frozen=True)
class Named:
    """An outcome and the post it names, or the reason it names none of the organization's."""

    index: int
    outcome: Outcome
    post: PostRef | None
    code: str | None = None
    message: str | None = None


def settle(
    *, posts_ok: int, posts_failed: int, accepted: int, duplicates: int, failed_items: int
) -> tuple[RunStatus, str | None]:
    """A completed run's status and, when nothing says why it failed, the reason.

    The workflow's own outcomes decide when it reported any: all fetched is `success`, none
    `failed`, a mix `partial`. Without outcomes, the items that reached ingest decide the same
    way (stored or already stored, against refused); with neither, nothing ran: `failed`."""
    good, bad = (
        (posts_ok, posts_failed)
        if posts_ok or posts_failed
        else (accepted + duplicates, failed_items)
    )
    if good and bad:
        return "partial", None
    if good:
        return "success", None
    if bad:
        return "failed", None
    return "failed", "no_posts"


def lookup_keys(outcomes: Iterable[Outcome]) -> tuple[list[UUID], list[str], list[str]]:
    """Post ids, URLs and platform post ids (parsed from the URLs) to load the posts by."""
    ids: set[UUID] = set()
    urls: set[str] = set()
    ppids: set[str] = set()
    for o in outcomes:
        if o.post_id is not None:
            ids.add(o.post_id)
        if o.url:
            urls.add(o.url)
            parsed = _parse(o.url)
            if parsed and parsed[1]:
                ppids.add(parsed[1])
    return sorted(ids), sorted(urls), sorted(ppids)


def name_posts(outcomes: Sequence[Outcome], posts: Sequence[PostRef]) -> list[Named]:
    """Each outcome with its post. `posts` are the organization's only, so an outcome naming
    another organization's post (or none) is refused here, on its own."""
    by_id = {p.id: p for p in posts}
    by_url = {p.url: p for p in posts}
    by_ppid: dict[tuple[str, str], PostRef] = {}
    for p in posts:
        if p.platform_post_id:
            by_ppid[(p.platform, p.platform_post_id)] = p
    named: list[Named] = []
    for index, o in enumerate(outcomes):
        post: PostRef | None = None
        if o.post_id is not None:
            post = by_id.get(o.post_id)
        elif o.url:
            post = by_url.get(o.url)
            parsed = _parse(o.url)
            if post is None and parsed and parsed[1]:
                post = by_ppid.get((parsed[0], parsed[1]))
        if post is None:
            what = f"post_id {o.post_id}" if o.post_id else f"url {o.url}" if o.url else "no post"
            named.append(
                Named(
                    index,
                    o,
                    None,
                    "unknown_post",
                    f"no tracked post in this organization matches {what}",
                )
            )
        elif o.platform is not None and o.platform != post.platform:
            named.append(
                Named(
                    index,
                    o,
                    None,
                    "platform_mismatch",
                    f"outcome says {o.platform} but post {post.id} is on {post.platform}",
                )
            )
        else:
            named.append(Named(index, o, post))
    return named


def _parse(url: str) -> tuple[str, str | None] | None:
    try:
        parsed = parse_post_url(url)
    except PostUrlError:
        return None
    return parsed.platform, parsed.platform_post_id
