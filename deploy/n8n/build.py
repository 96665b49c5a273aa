"""Write the two importable n8n workflows of this folder from one description.

Why a generator: the webhook and the RabbitMQ workflow share everything up to the delivery
(triggers, the run, the per-post loop with its own retries), and two hand-edited exports drift.
Run `python deploy/n8n/build.py` after editing; a test fails while the files are stale.

The shape, for both files:

    Every hour ─┐
    Run now ────┴─ Open a Pulse run ─ Posts to fetch ─ One post at a time ─(done)─ delivery
                                                          │   ▲                      │
                                                       (loop) │   Run completion ─ Complete
                                                          ▼   │ (finished)
                      Count the try ─ ScrapeCreators ─ Judge the answer ─ Try again?
                           ▲                                                │ (retry)
                           └──────────────── Wait before trying again ◄─────┘

One post at a time (batch size 1) makes every retry a retry of one post: n8n's node-level
"Retry on fail" would call the whole node again, every post of the run, for one failing post.
The HTTP node never errors (full response, "never error", continue on fail), so the Judge sees
each answer — status, body, or the network error — and decides: data, a failure worth another
try (429, 5xx, timeouts, `success: false`), or a failure to report at once (402, 404, 400, 401).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
WEBHOOK_FILE = HERE / "scrapecreators-to-webhook.json"
RABBITMQ_FILE = HERE / "scrapecreators-to-rabbitmq.json"

INGEST_URL = "($env.PULSE_INGEST_URL || 'http://127.0.0.1:8001')"
SCRAPECREATORS_URL = "($env.SCRAPECREATORS_BASE_URL || 'https://api.scrapecreators.com')"
RUN_ID = "$('Open a Pulse run').first().json.run_id"

POSTS_TO_FETCH = """\
// The public posts this workflow refreshes: one line per post. Register the same URLs in
// Pulse first (a post is matched by its platform id or URL within your organization).
// platform: tiktok | instagram | youtube | facebook
const posts = [
  { platform: 'tiktok', url: 'https://www.tiktok.com/@creator/video/7433917265401856302' },
  { platform: 'instagram', url: 'https://www.instagram.com/reel/DCexample01/' },
  { platform: 'youtube', url: 'https://www.youtube.com/watch?v=Kq7vX2mLp0Q' },
  { platform: 'facebook', url: 'https://www.facebook.com/reel/1187654321098765' },
];
const endpoints = {
  tiktok: '/v2/tiktok/video',
  instagram: '/v1/instagram/post',
  youtube: '/v1/youtube/video',
  facebook: '/v1/facebook/post',
};
return posts.map((post) => ({ json: { ...post, endpoint: endpoints[post.platform], tries: 0 } }));
"""

COUNT_THE_TRY = """\
// One more call for this post (the Judge stops at PULSE_MAX_TRIES, 3 unless set).
return { json: { ...$json, tries: ($json.tries || 0) + 1 } };
"""

JUDGE_THE_ANSWER = """\
// The provider's answer for ONE post (the loop hands over one at a time): data, a failure worth
// another try, or a failure to report now. Mirrors how Pulse classifies its own provider calls.
const post = $('Count the try').first().json;
const answer = $input.first().json;
const maxTries = Number($env.PULSE_MAX_TRIES || 3);
const status = typeof answer.statusCode === 'number' ? answer.statusCode : null;
const body = answer.body;
const said = typeof body === 'string' ? body : JSON.stringify(body || answer.error || '');
const text = said.slice(0, 300);
let code = null;
let retry = false;
if (status === null) {
  code = 'connection_error'; // timeout, refused, DNS: the call itself failed
  retry = true;
} else if (status === 402 || (status !== 200 && /out of credits|purchase more/i.test(text))) {
  code = 'out_of_credits'; // retrying cannot help; Pulse pauses and flags it
} else if (status === 401 || status === 403) {
  code = 'unauthorized';
} else if (status === 429) {
  code = 'rate_limited';
  retry = true;
} else if (status >= 500) {
  code = 'server_error';
  retry = true;
} else if (status === 404) {
  code = 'not_found'; // deleted or private: charged, never retried
} else if (status === 400) {
  code = 'bad_request';
} else if (status !== 200) {
  code = 'http_error';
} else if (!body || typeof body !== 'object' || body.success === false) {
  code = 'provider_error'; // a 200 that says it failed ("try again")
  retry = true;
}
if (code !== null && retry && post.tries < maxTries) {
  return [{ json: { ...post, retry: true } }];
}
return [{
  json: {
    ...post,
    retry: false,
    ok: code === null,
    http_status: status,
    code,
    message: code === null ? null : code + (status ? ' (HTTP ' + status + ')' : '') + ': ' + text,
    body: code === null ? body : null,
  },
}];
"""

# Shared by both deliveries: a judged post becomes an ingest item. A failed post travels too,
# as the provider's failure body, so Pulse records it (rejected as provider_error or
# out_of_credits) instead of never hearing of it.
AS_ITEM = """\
const observedAt = new Date().toISOString();
const asItem = (o) => ({
  platform: o.platform,
  url: o.url,
  observed_at: observedAt,
  raw: o.ok
    ? o.body
    : { success: false, statusCode: o.http_status, error: o.code, message: o.message },
});
const asOutcome = (o) => ({
  platform: o.platform,
  url: o.url,
  status: o.ok ? 'ok' : 'failed',
  code: o.code,
  message: o.message,
  http_status: o.http_status,
  tries: o.tries,
});
// The body of the run's completion, built here: the HTTP node sends it as it is.
const completion = (outcomes) =>
  JSON.stringify({ execution_id: String($execution.id), workflow: $workflow.name, outcomes });
"""

BUILD_AND_SIGN = (
    """\
// One ingest request for every post of this run. Signed over the EXACT string sent when
// PULSE_SIGNING_SECRET is set (then n8n needs NODE_FUNCTION_ALLOW_BUILTIN=crypto); unsigned
// otherwise. The next node sends `rawBody` as a raw string: n8n would re-serialize a JSON body.
"""
    + AS_ITEM
    + """\
const judged = $input.all().map((entry) => entry.json);
if (judged.length === 0) {
  return [];
}
const rawBody = JSON.stringify({ items: judged.map(asItem) });
let signature = '';
const secret = $env.PULSE_SIGNING_SECRET;
if (secret) {
  const crypto = require('crypto');
  const t = Math.floor(Date.now() / 1000);
  const v1 = crypto.createHmac('sha256', secret).update(t + '.' + rawBody, 'utf8').digest('hex');
  signature = 't=' + t + ',v1=' + v1;
}
const outcomes = judged.map(asOutcome);
return [{ json: { rawBody, signature, outcomes, completion: completion(outcomes) } }];
"""
)

ONE_MESSAGE_PER_POST = (
    """\
// One RabbitMQ message per post: `message` is the body the next node publishes; `outcome`
// stays in n8n for the run's completion.
"""
    + AS_ITEM
    + """\
const outcomes = $input.all().map((entry) => asOutcome(entry.json));
// The run's completion rides on the first message's item (it stays in n8n).
return $input.all().map((entry, i) => ({
  json: {
    message: asItem(entry.json),
    outcome: outcomes[i],
    ...(i === 0 ? { completion: completion(outcomes) } : {}),
  },
}));
"""
)


def _id(workflow: int, n: int) -> str:
    return f"6f1c2d1e-000{workflow}-4a6b-9d3e-{n:012d}"


def _code(name: str, js: str, *, each: bool = False) -> dict[str, Any]:
    mode = "runOnceForEachItem" if each else "runOnceForAllItems"
    return {
        "parameters": {"mode": mode, "jsCode": js},
        "name": name,
        "type": "n8n-nodes-base.code",
        "typeVersion": 2,
    }


def _pulse_call(name: str, url: str, body: str | None = None) -> dict[str, Any]:
    """A POST to ingest with the ingest token (Header Auth credential). A body is JSON built by
    a Code node and sent raw, as it is: in real n8n (1.123, `n8n execute`) an object literal
    built inside the HTTP node's body expression arrived empty."""
    sent = (
        {"sendBody": True, "contentType": "raw", "rawContentType": "application/json", "body": body}
        if body
        else {"sendBody": False}
    )
    return {
        "parameters": {
            "method": "POST",
            "url": url,
            "authentication": "genericCredentialType",
            "genericAuthType": "httpHeaderAuth",
            **sent,
            "options": {"timeout": 30000},
        },
        "name": name,
        "type": "n8n-nodes-base.httpRequest",
        "typeVersion": 4.2,
        "credentials": {"httpHeaderAuth": PULSE_CREDENTIAL},
        "retryOnFail": True,
        "maxTries": 3,
        "waitBetweenTries": 5000,
    }


PULSE_CREDENTIAL = {"id": "pulse-ingest-token", "name": "Pulse ingest token (Bearer)"}


def _common() -> list[dict[str, Any]]:
    return [
        {
            "parameters": {"rule": {"interval": [{"field": "hours", "hoursInterval": 1}]}},
            "name": "Every hour",
            "type": "n8n-nodes-base.scheduleTrigger",
            "typeVersion": 1.2,
            "position": [0, 0],
        },
        {
            "parameters": {},
            "name": "Run now",
            "type": "n8n-nodes-base.manualTrigger",
            "typeVersion": 1,
            "position": [0, 200],
        },
        {
            **_pulse_call("Open a Pulse run", "={{ " + INGEST_URL + " + '/api/ingest/runs' }}"),
            "position": [220, 100],
        },
        {**_code("Posts to fetch", POSTS_TO_FETCH), "position": [440, 100]},
        {
            "parameters": {"batchSize": 1, "options": {}},
            "name": "One post at a time",
            "type": "n8n-nodes-base.splitInBatches",
            "typeVersion": 3,
            "position": [660, 100],
        },
        {**_code("Count the try", COUNT_THE_TRY, each=True), "position": [880, 300]},
        {
            "parameters": {
                "method": "GET",
                "url": "={{ " + SCRAPECREATORS_URL + " + $json.endpoint }}",
                "authentication": "genericCredentialType",
                "genericAuthType": "httpHeaderAuth",
                "sendQuery": True,
                "queryParameters": {"parameters": [{"name": "url", "value": "={{ $json.url }}"}]},
                "options": {
                    "response": {"response": {"fullResponse": True, "neverError": True}},
                    "timeout": 30000,
                },
            },
            "name": "ScrapeCreators",
            "type": "n8n-nodes-base.httpRequest",
            "typeVersion": 4.2,
            "position": [1100, 300],
            "credentials": {
                "httpHeaderAuth": {"id": "scrapecreators-api-key", "name": "ScrapeCreators API key"}
            },
            # Per item: a network error becomes this post's item (with `error`), judged next.
            "onError": "continueRegularOutput",
        },
        {**_code("Judge the answer", JUDGE_THE_ANSWER), "position": [1320, 300]},
        {
            "parameters": {
                "conditions": {"boolean": [{"value1": "={{ $json.retry }}", "value2": True}]}
            },
            "name": "Try again?",
            "type": "n8n-nodes-base.if",
            "typeVersion": 1,
            "position": [1540, 300],
        },
        {
            "parameters": {
                "resume": "timeInterval",
                "amount": "={{ Number($env.PULSE_RETRY_WAIT_S || 5) }}",
                "unit": "seconds",
            },
            "name": "Wait before trying again",
            "type": "n8n-nodes-base.wait",
            "typeVersion": 1.1,
            "position": [1320, 500],
            "webhookId": "6f1c2d1e-0000-4a6b-9d3e-00000000beef",
        },
    ]


def _completion(source: str, position: list[int]) -> dict[str, Any]:
    """Hands the run's completion (built by `source`) to the next node as its own item: read
    there as `$json`, like the ingest request. (Read from another node inside the HTTP node's
    body, real n8n sent no body.)"""
    js = (
        "// The run's completion, built with the delivery, for the next node to send as it is.\n"
        f"return [{{ json: {{ completion: $('{source}').first().json.completion }} }}];\n"
    )
    return {**_code("Run completion", js), "position": position}


def _complete(body: str, position: list[int]) -> dict[str, Any]:
    node = _pulse_call(
        "Complete the Pulse run",
        "={{ " + INGEST_URL + " + '/api/ingest/runs/' + " + RUN_ID + " + '/complete' }}",
        body,
    )
    node["position"] = position
    node["executeOnce"] = True  # one completion per run, whatever number of items reach it
    return node


def _main(*targets: str | tuple[str, int]) -> dict[str, Any]:
    outputs = []
    for target in targets:
        name, index = target if isinstance(target, tuple) else (target, 0)
        outputs.append([{"node": name, "type": "main", "index": index}])
    return {"main": outputs}


def _loop_connections() -> dict[str, Any]:
    return {
        "Every hour": _main("Open a Pulse run"),
        "Run now": _main("Open a Pulse run"),
        "Open a Pulse run": _main("Posts to fetch"),
        "Posts to fetch": _main("One post at a time"),
        "Count the try": _main("ScrapeCreators"),
        "ScrapeCreators": _main("Judge the answer"),
        "Judge the answer": _main("Try again?"),
        # If: output 0 is true (try again), output 1 false (finished: back to the loop).
        "Try again?": _main("Wait before trying again", "One post at a time"),
        "Wait before trying again": _main("Count the try"),
    }


def _workflow(
    number: int, name: str, nodes: list[dict[str, Any]], connections: dict[str, Any]
) -> dict[str, Any]:
    for n, node in enumerate(nodes, start=1):
        node["id"] = _id(number, n)
    return {
        "name": name,
        "nodes": [
            {k: node[k] for k in ("parameters", "id", "name", "type", "typeVersion", "position")}
            | {
                k: v
                for k, v in node.items()
                if k not in ("parameters", "id", "name", "type", "typeVersion", "position")
            }
            for node in nodes
        ],
        "connections": connections,
        "active": False,
        "settings": {"executionOrder": "v1", "saveManualExecutions": True},
        "pinData": {},
        "meta": {"templateCredsSetupCompleted": False},
        "tags": [],
    }


def webhook() -> dict[str, Any]:
    post = {
        "parameters": {
            "method": "POST",
            "url": "={{ " + INGEST_URL + " + '/api/ingest/posts' }}",
            "authentication": "genericCredentialType",
            "genericAuthType": "httpHeaderAuth",
            "sendHeaders": True,
            "headerParameters": {
                "parameters": [
                    {"name": "X-Pulse-Signature", "value": "={{ $json.signature }}"},
                    {"name": "X-Pulse-Run", "value": "={{ " + RUN_ID + " }}"},
                ]
            },
            "sendBody": True,
            "contentType": "raw",
            "rawContentType": "application/json",
            "body": "={{ $json.rawBody }}",
            "options": {"timeout": 30000},
        },
        "name": "POST to Pulse ingest",
        "type": "n8n-nodes-base.httpRequest",
        "typeVersion": 4.2,
        "position": [1100, 100],
        "credentials": {"httpHeaderAuth": PULSE_CREDENTIAL},
        # One request carrying the whole run, and idempotent (samples are keyed by time).
        "retryOnFail": True,
        "maxTries": 3,
        "waitBetweenTries": 5000,
    }
    nodes = [
        *_common(),
        {**_code("Build and sign the ingest request", BUILD_AND_SIGN), "position": [880, 100]},
        post,
        _completion("Build and sign the ingest request", [1320, 100]),
        _complete("={{ $json.completion }}", [1540, 100]),
    ]
    connections = {
        **_loop_connections(),
        # splitInBatches v3: output 0 is "done" (every post, judged), output 1 the loop.
        "One post at a time": _main("Build and sign the ingest request", "Count the try"),
        "Build and sign the ingest request": _main("POST to Pulse ingest"),
        "POST to Pulse ingest": _main("Run completion"),
        "Run completion": _main("Complete the Pulse run"),
    }
    return _workflow(1, "Pulse: ScrapeCreators to the ingest webhook (signed)", nodes, connections)


def rabbitmq() -> dict[str, Any]:
    publish = {
        "parameters": {
            "operation": "sendMessage",
            "mode": "exchange",
            "exchange": "pulse.ingest",
            "exchangeType": "topic",
            "routingKey": "ingest.posts",
            "sendInputData": False,
            "message": "={{ JSON.stringify($json.message) }}",
            "options": {
                "durable": True,
                "headers": {
                    "header": [
                        {"key": "x-pulse-key", "value": "={{ $env.PULSE_INGEST_TOKEN }}"},
                        {"key": "x-pulse-run", "value": "={{ " + RUN_ID + " }}"},
                    ]
                },
            },
        },
        "name": "Publish to pulse.ingest",
        "type": "n8n-nodes-base.rabbitmq",
        "typeVersion": 1.1,
        "position": [1100, 100],
        "credentials": {"rabbitmq": {"id": "pulse-rabbitmq-n8n", "name": "Pulse RabbitMQ (n8n)"}},
        "retryOnFail": True,
        "maxTries": 3,
        "waitBetweenTries": 5000,
    }
    nodes = [
        *_common(),
        {**_code("One message per post", ONE_MESSAGE_PER_POST), "position": [880, 100]},
        publish,
        _completion("One message per post", [1320, 100]),
        _complete("={{ $json.completion }}", [1540, 100]),
    ]
    connections = {
        **_loop_connections(),
        "One post at a time": _main("One message per post", "Count the try"),
        "One message per post": _main("Publish to pulse.ingest"),
        "Publish to pulse.ingest": _main("Run completion"),
        "Run completion": _main("Complete the Pulse run"),
    }
    return _workflow(2, "Pulse: ScrapeCreators to RabbitMQ (pulse.ingest)", nodes, connections)


def rendered() -> dict[Path, str]:
    return {
        WEBHOOK_FILE: json.dumps(webhook(), indent=2, ensure_ascii=False) + "\n",
        RABBITMQ_FILE: json.dumps(rabbitmq(), indent=2, ensure_ascii=False) + "\n",
    }


def main() -> None:
    for path, text in rendered().items():
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path.relative_to(HERE.parent.parent)}", file=sys.stderr)


if __name__ == "__main__":
    main()
