"""Enforce mode: a `block` rule answers 403 and a `throttle` rule 429 with
`Retry-After`, each with the error body of the API that was called, and the
upstream never sees the request."""

import pytest

from client import PIPES_ONLY, bearer, post

BLOCK = "block-me-e2e"
THROTTLE = "slow-me-e2e"

PLUGIN_CONFIG = {
    **PIPES_ONLY,
    "mode": "enforce",
    "identity": {"secret": "e2e-secret"},
    "rules": [
        {"phrases": [BLOCK], "action": "block"},
        {"phrases": [THROTTLE], "action": "throttle"},
    ],
    "response": {"retry_after_secs": 17},
}

UPSTREAM_REQUESTS = "cluster.stub_llm.upstream_rq_total"


def openai(text):
    return "/v1/chat/completions", {"model": "gpt-4o", "messages": [{"role": "user", "content": text}]}


def azure(text):
    return "/openai/deployments/d1/chat/completions?api-version=2024-10-21", {
        "messages": [{"role": "user", "content": text}]
    }


def anthropic(text):
    return "/v1/messages", {
        "model": "claude-sonnet-4-5",
        "max_tokens": 10,
        "messages": [{"role": "user", "content": text}],
    }


def gemini(text):
    return "/v1beta/models/gemini-2.0-flash:generateContent", {"contents": [{"parts": [{"text": text}]}]}


def assert_openai_shape(body, status):
    err = body["error"]
    assert isinstance(err["message"], str) and err["message"]
    assert isinstance(err["type"], str) and err["type"]


def assert_anthropic_shape(body, status):
    assert body["type"] == "error"
    expected = {403: "permission_error", 429: "rate_limit_error"}[status]
    assert body["error"]["type"] == expected
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]


def assert_gemini_shape(body, status):
    err = body["error"]
    assert err["code"] == status
    assert err["status"] == {403: "PERMISSION_DENIED", 429: "RESOURCE_EXHAUSTED"}[status]
    assert isinstance(err["message"], str) and err["message"]


APIS = [
    ("openai", openai, assert_openai_shape),
    ("azure", azure, assert_openai_shape),
    ("anthropic", anthropic, assert_anthropic_shape),
    ("gemini", gemini, assert_gemini_shape),
]


def denied(envoy, build, phrase, key):
    path, body = build(f"tell me {phrase} now")
    upstream_before = envoy.stats().get(UPSTREAM_REQUESTS, 0)
    r = post(envoy.port, path, body, bearer(key))
    assert envoy.stats().get(UPSTREAM_REQUESTS, 0) == upstream_before, "denied request reached the upstream"
    assert "upstream_saw" not in r.body.decode(errors="replace")
    assert (r.header("content-type") or "").startswith("application/json")
    return r


@pytest.mark.parametrize("name,build,shape", APIS, ids=[a[0] for a in APIS])
def test_block_rule_answers_403_in_the_apis_error_format(envoy, name, build, shape):
    before = envoy.counter("decision.block")
    r = denied(envoy, build, BLOCK, f"sk-block-{name}")
    assert r.status == 403, r.body[:300]
    shape(r.json(), 403)
    assert envoy.counter("decision.block") == before + 1


@pytest.mark.parametrize("name,build,shape", APIS, ids=[a[0] for a in APIS])
def test_throttle_rule_answers_429_with_retry_after(envoy, name, build, shape):
    before = envoy.counter("decision.throttle")
    r = denied(envoy, build, THROTTLE, f"sk-throttle-{name}")
    assert r.status == 429, r.body[:300]
    assert r.header("retry-after") == "17"
    shape(r.json(), 429)
    assert envoy.counter("decision.throttle") == before + 1


def test_clean_request_is_forwarded_in_enforce_mode(envoy):
    path, body = openai("what is the capital of France?")
    before = envoy.counter("decision.allow")
    r = post(envoy.port, path, body, bearer("sk-clean"))
    assert r.status == 200
    assert r.json().get("upstream_body_bytes") is not None
    assert envoy.counter("decision.allow") == before + 1


def test_block_outranks_throttle_when_both_match(envoy):
    path, body = openai(f"{THROTTLE} and {BLOCK}")
    r = post(envoy.port, path, body, bearer("sk-both"))
    assert r.status == 403
