"""Shadow mode never denies: what enforce mode would block or throttle is
forwarded, tagged with the intended action, and counted."""

from client import PIPES_ONLY, away_from_minute_boundary, bearer, post

BLOCK = "shadow-block-e2e"
THROTTLE = "shadow-throttle-e2e"
LIMIT = 2

PLUGIN_CONFIG = {
    **PIPES_ONLY,
    "mode": "shadow",
    "rules": [
        {"phrases": [BLOCK], "action": "block"},
        {"phrases": [THROTTLE], "action": "throttle"},
    ],
    "limits": {"identity_requests_per_minute": LIMIT},
}


def chat(text):
    return {"model": "gpt-4o", "messages": [{"role": "user", "content": text}]}


def test_block_rule_in_shadow_is_forwarded_and_tagged_block(envoy):
    would, tagged = envoy.counter("shadow_would.block"), envoy.counter("decision.tag")
    r = post(envoy.port, "/v1/chat/completions", chat(f"please {BLOCK}"), bearer("sk-shadow-b"))
    assert r.status == 200, r.body[:300]
    assert r.upstream_saw("x-distill-guard-action") == "block"
    assert r.upstream_saw("x-distill-guard-mode") == "shadow"
    assert "operator_rule" in r.upstream_saw("x-distill-guard-reasons").split(",")
    assert envoy.counter("shadow_would.block") == would + 1
    assert envoy.counter("decision.tag") == tagged + 1


def test_throttle_rule_in_shadow_is_forwarded_and_tagged_throttle(envoy):
    would = envoy.counter("shadow_would.throttle")
    r = post(envoy.port, "/anthropic/v1/messages", {"model": "c", "max_tokens": 5,
             "messages": [{"role": "user", "content": THROTTLE}]}, {"x-api-key": "sk-ant-shadow"})
    assert r.status == 200, r.body[:300]
    assert r.upstream_saw("x-distill-guard-action") == "throttle"
    assert envoy.counter("shadow_would.throttle") == would + 1


def test_rate_limit_in_shadow_only_tags(envoy):
    key = "sk-shadow-rate"
    would = envoy.counter("shadow_would.throttle")
    away_from_minute_boundary()
    responses = [
        post(envoy.port, "/v1/chat/completions", chat(f"question number {i}"), bearer(key)) for i in range(LIMIT + 3)
    ]
    assert [r.status for r in responses] == [200] * (LIMIT + 3)
    # The first LIMIT are clean; the rest would be throttled.
    actions = [r.upstream_saw("x-distill-guard-action") for r in responses]
    assert actions == [None] * LIMIT + ["throttle"] * 3
    limited = responses[LIMIT:]
    for r in limited:
        assert "identity_rate_limit" in r.upstream_saw("x-distill-guard-reasons").split(",")
    assert envoy.counter("shadow_would.throttle") == would + len(limited)
