"""One bad item never costs its batch: NaN or Infinity, lone surrogates, NUL, nesting past the
parser's limit and counters of the wrong type each become that item's own rejection, with a
code, kept in a form PostgreSQL accepts; the valid items beside them are stored. On real
PostgreSQL (no process), each test inside a transaction rolled back at the end."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import pytest

from pulse_ingest import handlers
from pulse_ingest.domain import Candidate, Rejection, prepare, prepare_all
from pulse_ingest.reading import BodyError, parse_body
from services.ingest.tests.test_batches import (
    FIXTURE_ID,
    NOW,
    TIKTOK,
    db,  # noqa: F401 - the rolled-back connection fixture
    item,
    stored,
    track,
)

pytestmark = pytest.mark.integration

DEEP = 300  # past the parser's 200 levels


def deep(levels: int = DEEP) -> str:
    return '{"a":' * levels + "1" + "}" * levels


def hostile_batch(post: UUID) -> tuple[bytes, dict[int, str]]:
    """A batch as raw JSON text (NaN and lone surrogates cannot be written by a JSON encoder),
    and the rejection code each bad item must get. Items 0 and 12 are valid; 13 is a raw
    TikTok body whose counters are strings: the provider mapping stays tolerant."""
    ref = f'"post_id": "{post}"'

    def valid(minutes: int, views: int) -> str:
        return json.dumps(item({"post_id": str(post)}, minutes, views=views))

    tolerant = json.loads(json.dumps(TIKTOK))
    tolerant["aweme_detail"]["statistics"]["play_count"] = "4242"
    texts = [
        valid(50, 100),  # 0
        f'{{{ref}, "metrics": {{"views": NaN}}}}',  # 1
        f'{{{ref}, "metrics": {{"views": Infinity}}}}',  # 2
        f'{{{ref}, "metrics": {{"views": 1}}, "raw": {{"x": NaN}}}}',  # 3
        f'{{{ref}, "url": "https://www.tiktok.com/\\ud800", "metrics": {{"views": 1}}}}',  # 4
        f'{{{ref}, "metrics": {{"views": 1}}, "raw": {{"caption": "a\\ud800b"}}}}',  # 5
        f'{{{ref}, "metrics": {{"views": 1}}, "raw": {{"\\udc00": 1}}}}',  # 6
        f'{{{ref}, "metrics": {{"views": 1}}, "raw": {deep()}}}',  # 7
        '{"platform_post_id": "74\\u000000", "metrics": {"views": 1}}',  # 8
        f'{{{ref}, "metrics": {{"views": true}}}}',  # 9
        f'{{{ref}, "metrics": {{"views": "123"}}}}',  # 10
        f'{{{ref}, "metrics": {{"views": 12.0}}}}',  # 11
        valid(40, 200),  # 12
        json.dumps({"observed_at": NOW.isoformat(), "raw": tolerant}),  # 13
    ]
    codes = {
        1: "invalid_number",
        2: "invalid_number",
        3: "invalid_number",
        4: "invalid_text",
        5: "invalid_text",
        6: "invalid_text",
        7: "too_deep",
        8: "invalid_text",
        9: "invalid_item",
        10: "invalid_item",
        11: "invalid_item",
    }
    return ("[" + ",\n".join(texts) + "]").encode(), codes


async def test_each_bad_item_is_its_own_rejection_and_the_rest_is_stored(
    db: asyncpg.Connection,  # noqa: F811
) -> None:
    org_id = uuid4()
    post = await track(db, org_id, ppid=FIXTURE_ID)
    body, codes = hostile_batch(post)

    result = await handlers.store_items(
        db, org_id=org_id, items=parse_body(body), source="http", now=NOW, correlation_id="r"
    )

    assert [(r.index, r.code) for r in result.rejected] == sorted(codes.items())
    assert (result.accepted, result.duplicates) == (3, 0)
    assert [r["views"] for r in await stored(db, post)] == [100, 200, 4242]
    kept = await db.fetch(
        "SELECT item_index, code, message, raw::text AS raw FROM ingest.rejected_items "
        "WHERE org_id = $1 ORDER BY item_index",
        org_id,
    )
    assert {r["item_index"]: r["code"] for r in kept} == codes
    raw = {r["item_index"]: json.loads(r["raw"]) for r in kept}
    # Kept as the text that was sent, so it can be read and replayed as it was.
    assert raw[1] == {"unparsed": f'{{"post_id": "{post}", "metrics": {{"views": NaN}}}}'}
    assert "\\ud800" in raw[4]["unparsed"]
    assert raw[7]["unparsed"].count('{"a":') == DEEP
    assert raw[8]["platform_post_id"] == "74\ufffd00", "NUL shown as U+FFFD"
    assert raw[9]["metrics"] == {"views": True}
    assert all(r["message"] for r in kept)
    assert "metrics.views" in {r["item_index"]: r["message"] for r in kept}[10]


def test_nesting_in_the_body_itself_costs_only_its_item() -> None:
    valid = {"post_id": str(uuid4()), "metrics": {"views": 1}}
    nested = "[" * 5000 + "]" * 5000
    body = f'{{"items": [{json.dumps(valid)}, {nested}]}}'.encode()
    items = parse_body(body)
    assert items[0] == valid
    (rejection,) = prepare_all(items, NOW)[1]
    assert (rejection.index, rejection.code) == (1, "too_deep")
    (alone,) = prepare_all(parse_body(nested.encode()), NOW)[1]
    assert alone.code == "too_deep"


@pytest.mark.parametrize(
    "body",
    [b'{"items": [', b"\xff\xfe not json", b"[1, foo]", b'[{"a": 1},]', b"", b"[]"],
)
def test_a_body_that_cannot_be_read_at_all_is_a_400_with_a_reason(body: bytes) -> None:
    with pytest.raises(BodyError) as raised:
        parse_body(body)
    assert raised.value.status == 400
    assert str(raised.value)


def test_counters_are_json_integers_at_least_zero() -> None:
    ref = {"post_id": str(uuid4()), "observed_at": "2026-11-20T10:00:00Z"}
    for wrong in (True, False, "123", 12.0, 12.5, -1, [], {}):
        refused = prepare(0, {**ref, "metrics": {"views": 1, "likes": wrong}}, NOW)
        assert isinstance(refused, Rejection), wrong
        assert (refused.code, "metrics.likes" in refused.message) == ("invalid_item", True)
    assert isinstance(prepare(0, {**ref, "metrics": {"views": 0, "likes": None}}, NOW), Candidate)


def test_a_raw_provider_body_keeps_its_tolerant_mapping() -> None:
    """The fixtures README: provider counters may come as digit strings; they still map."""
    tolerant: dict[str, Any] = json.loads(json.dumps(TIKTOK))
    tolerant["aweme_detail"]["statistics"]["digg_count"] = "1234"
    (candidate,), rejections = prepare_all([{"raw": tolerant}], NOW)
    assert rejections == []
    assert candidate.metrics.likes == 1234
