"""A denial teaches the attacker nothing (issue 10): in the real Envoy, a
403 or 429 answered by the filter carries no reason code, score or
threshold in its status line, headers or body, by default. The reasons
still reach the operator (filter state in the access log, metrics). An
operator may opt in with `response.expose_reasons` for debugging."""

import json
import time

from client import PIPES_ONLY, bearer, post

SECRET = {"identity": {"secret": "e2e-oracle-secret"}}
RULES = [
    {"phrases": ["pineapple-oracle"], "action": "block", "reason": "known_campaign"},
    {"phrases": ["mango-oracle"], "action": "throttle", "reason": "slow_down_rule"},
]
PLUGIN_CONFIG = {**PIPES_ONLY, **SECRET, "mode": "enforce", "rules": RULES}
SECRET_WORDS = ["known_campaign", "slow_down_rule", "operator_rule", "score", "threshold", "reason"]


def chat(prompt: str) -> dict:
    return {"model": "gpt-4o", "messages": [{"role": "user", "content": prompt}]}


def assert_says_nothing(r, status):
    assert r.status == status, r.body[:300]
    for name, value in r.headers.items():
        assert not name.startswith("x-distill-guard"), (name, value)
        for word in SECRET_WORDS:
            assert word not in value, (name, value)
    text = r.body.decode()
    for word in SECRET_WORDS:
        assert word not in text, text


def test_block_says_nothing_about_why(envoy):
    r = post(envoy.port, "/v1/chat/completions", chat("pineapple-oracle"), bearer("sk-oracle-1"))
    assert_says_nothing(r, 403)
    # The operator still sees why in the access log (filter state). Envoy
    # flushes the file on a timer, and other lines (health probes) come and
    # go: wait, with a bound, for this request's line.
    deadline = time.monotonic() + 30
    while True:
        lines = envoy.access_log().splitlines()
        if any(" 403 " in line and "reasons=known_campaign" in line for line in lines) or time.monotonic() > deadline:
            break
        time.sleep(0.25)
    assert any(" 403 " in line and "reasons=known_campaign" in line for line in lines), lines[-5:]


def test_throttle_says_only_when_to_retry(envoy):
    r = post(envoy.port, "/v1/chat/completions", chat("mango-oracle"), bearer("sk-oracle-2"))
    assert_says_nothing(r, 429)
    assert int(r.header("retry-after")) >= 1


def test_every_api_shape_says_nothing(envoy):
    r = post(envoy.port, "/v1/messages", {"model": "claude", "max_tokens": 8,
             "messages": [{"role": "user", "content": "pineapple-oracle"}]}, {"x-api-key": "sk-ant-oracle"})
    assert_says_nothing(r, 403)
    r = post(envoy.port, "/v1beta/models/gemini-2.5-flash:generateContent",
             {"contents": [{"role": "user", "parts": [{"text": "pineapple-oracle"}]}]}, {"x-goog-api-key": "g-oracle"})
    assert_says_nothing(r, 403)


def test_operator_opt_in_exposes_reasons(envoy_factory):
    e = envoy_factory({**PLUGIN_CONFIG, "response": {"expose_reasons": True}})
    r = post(e.port, "/v1/chat/completions", chat("pineapple-oracle"), bearer("sk-oracle-3"))
    assert r.status == 403
    assert r.header("x-distill-guard-reasons") == "known_campaign"
    assert r.header("x-distill-guard-action") == "block"
    assert r.header("x-distill-guard-score") is not None
    json.loads(r.body)
