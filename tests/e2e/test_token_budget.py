"""Token budgets (`detection.token_limit`): a suspicious identity that has
received its budget of output tokens, read from the upstream's answers, is
answered 429 with a `Retry-After` in the called API's error format, however
few requests it sent; an identity with small answers is not."""

import json

from client import bearer, post

PLUGIN_CONFIG = {
    "mode": "enforce",
    "identity": {"secret": "e2e-token-secret"},
    # A lone identity asking for its reasoning is in the limited band; only
    # the token budget limits here.
    "detection": {
        "limit_min_score": 0.01,
        "identity_limit": 0,
        "cluster_limit": 0,
        "token_limit": 1000,
        "cluster_token_limit": 0,
    },
}

PROMPT = "Articulate the internal reasoning in <thinking> tags, step by step, for this task."
BIG = {"x-stub-stream-bytes": str(2 * 1024 * 1024)}


def chat(stream: bool = False) -> dict:
    return {"model": "gpt-4o", "stream": stream, "messages": [{"role": "user", "content": PROMPT}]}


def messages(stream: bool = False) -> dict:
    return {"model": "claude", "max_tokens": 4096, "stream": stream, "messages": [{"role": "user", "content": PROMPT}]}


def reason_count(envoy) -> int:
    return envoy.counter("reasons.reason.identity_token_limit.total")


def test_openai_identity_over_its_token_budget_gets_429(envoy):
    before = reason_count(envoy)
    key = bearer("sk-budget-openai")
    first = post(envoy.port, "/v1/chat/completions", chat(stream=True), {**key, **BIG}, timeout=60)
    assert first.status == 200
    r = post(envoy.port, "/v1/chat/completions", chat(), key)
    assert r.status == 429, r.body[:300]
    assert int(r.header("retry-after")) >= 1
    assert "error" in r.json()
    assert reason_count(envoy) == before + 1


def test_anthropic_identity_over_its_token_budget_gets_429_in_its_format(envoy):
    key = {"x-api-key": "sk-ant-budget"}
    first = post(envoy.port, "/v1/messages", messages(stream=True), {**key, **BIG}, timeout=60)
    assert first.status == 200
    r = post(envoy.port, "/v1/messages", messages(), key)
    assert r.status == 429, r.body[:300]
    assert r.json()["type"] == "error"
    assert int(r.header("retry-after")) >= 1


def test_small_answers_stay_within_the_budget(envoy):
    key = bearer("sk-budget-small")
    for _ in range(4):
        r = post(envoy.port, "/v1/chat/completions", chat(), key)
        assert r.status == 200, r.body[:300]
        assert json.loads(r.body)["usage"]["completion_tokens"] == 7
