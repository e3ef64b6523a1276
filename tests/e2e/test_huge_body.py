"""A 4 MiB long-context prompt still reaches the upstream intact (the filter
inspects a capped prefix and never makes Envoy buffer the whole body, which
would answer 413 past the 1 MiB connection buffer), and a rule phrase in its
first kilobyte still triggers."""

import json

from client import PIPES_ONLY, bearer, post, post_chunked, post_in_two_bursts

PHRASE = "needle-at-the-start-e2e"

PLUGIN_CONFIG = {**PIPES_ONLY, "mode": "shadow", "rules": [{"phrases": [PHRASE], "action": "block"}]}

FOUR_MIB = 4 * 1024 * 1024


def huge_body(lead: str) -> bytes:
    filler = "lorem ipsum dolor sit amet " * (FOUR_MIB // 27 + 1)
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": f"{lead} {filler}"}]}
    return json.dumps(body).encode()


def test_4mib_body_reaches_upstream_and_phrase_in_first_kb_triggers(envoy):
    body = huge_body(f"first: {PHRASE}.")
    assert len(body) > FOUR_MIB
    truncated = envoy.counter("body_truncated")
    r = post(envoy.port, "/v1/chat/completions", body, bearer("sk-huge"), timeout=60)
    assert r.status == 200, r.body[:300]
    assert r.json()["upstream_body_bytes"] == len(body)
    assert r.upstream_saw("x-distill-guard-action") == "block"
    assert "operator_rule" in r.upstream_saw("x-distill-guard-reasons").split(",")
    assert envoy.counter("body_truncated") == truncated + 1


def test_4mib_body_without_phrase_is_forwarded_untagged(envoy):
    body = huge_body("an honest long document:")
    r = post(envoy.port, "/v1/messages", body.replace(b'"gpt-4o"', b'"claude"'), {"x-api-key": "sk-ant-huge"},
             timeout=60)
    assert r.status == 200, r.body[:300]
    assert r.json()["upstream_body_bytes"] == len(body) + len(b"claude") - len(b"gpt-4o")
    assert r.upstream_saw("x-distill-guard-action") is None


def test_4mib_chunked_body_reaches_upstream(envoy):
    body = huge_body(f"chunked {PHRASE}")
    chunks = [body[i : i + 256 * 1024] for i in range(0, len(body), 256 * 1024)]
    r = post_chunked(envoy.port, "/v1/chat/completions", chunks, bearer("sk-huge-chunked"), delay=0.0)
    assert r.status == 200, r.body[:300]
    assert r.json()["upstream_body_bytes"] == len(body)
    assert r.upstream_saw("x-distill-guard-action") == "block"


def test_4mib_body_arriving_as_a_small_start_then_one_burst_reaches_upstream(envoy):
    """The first 100 KiB (below the 256 KiB inspection cap) arrive alone, so
    the filter holds them; the remaining 4 MiB then arrive as one large read.
    Envoy must not answer 413 for it."""
    body = huge_body(f"burst {PHRASE}")
    r = post_in_two_bursts(envoy.port, "/v1/chat/completions", body, first=100 * 1024, headers=bearer("sk-burst"))
    assert r.status == 200, r.body[:300]
    assert r.json()["upstream_body_bytes"] == len(body)
    assert r.upstream_saw("x-distill-guard-action") == "block"


def test_control_pass_through_path_streams_the_same_burst(envoy):
    """The same traffic on a path the filter does not inspect: Envoy alone
    streams it (so a 413 above comes from the filter holding the body)."""
    body = huge_body("not inspected")
    r = post_in_two_bursts(envoy.port, "/v1/embeddings", body, first=100 * 1024, headers=bearer("sk-burst"))
    assert r.status == 200, r.body[:300]
    assert r.json()["upstream_body_bytes"] == len(body)
