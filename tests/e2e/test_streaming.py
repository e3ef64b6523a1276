"""Bodies that arrive in pieces: HTTP/1.1 chunked transfer with the rule
phrase split across chunks, and HTTP/2 with trailers (the end of stream
comes on the trailers, never on a body callback)."""

import json

from client import PIPES_ONLY, bearer, post_chunked
from h2client import post_with_trailers

TAG = "split-phrase-tag-e2e"
BLOCK = "split-phrase-block-e2e"

PLUGIN_CONFIG = {
    **PIPES_ONLY,
    "mode": "enforce",
    "identity": {"secret": "e2e-secret"},
    "rules": [{"phrases": [TAG], "action": "tag"}, {"phrases": [BLOCK], "action": "block"}],
}


def body_with(phrase: str) -> bytes:
    return json.dumps(
        {"model": "gpt-4o", "messages": [{"role": "system", "content": "s"}, {"role": "user", "content": f"a {phrase} b"}]}
    ).encode()


def pieces(body: bytes, phrase: str, size: int = 7) -> list[bytes]:
    """Small pieces, with a cut inside the phrase itself."""
    cut = body.index(phrase.encode()) + len(phrase) // 2
    head, tail = body[:cut], body[cut:]
    return [head[i : i + size] for i in range(0, len(head), size)] + [tail[i : i + size] for i in range(0, len(tail), size)]


def test_chunked_body_with_split_phrase_is_tagged(envoy):
    body = body_with(TAG)
    r = post_chunked(envoy.port, "/v1/chat/completions", pieces(body, TAG), bearer("sk-chunk-1"))
    assert r.status == 200, r.body[:300]
    assert r.json()["upstream_body_bytes"] == len(body)
    assert r.upstream_saw("x-distill-guard-action") == "tag"


def test_chunked_body_with_split_phrase_is_blocked(envoy):
    body = body_with(BLOCK)
    r = post_chunked(envoy.port, "/v1/chat/completions", pieces(body, BLOCK, size=64), bearer("sk-chunk-2"))
    assert r.status == 403, r.body[:300]
    assert "error" in r.json()


def test_h2_with_trailers_is_tagged_and_forwarded(envoy):
    body = body_with(TAG)
    before = envoy.counter("api.openai_chat")
    r = post_with_trailers(
        envoy.port,
        "/v1/chat/completions",
        {"content-type": "application/json", **bearer("sk-h2-1")},
        pieces(body, TAG, size=16),
        {"x-checksum": "abc"},
    )
    assert not r.reset
    assert r.status == 200, r.body[:300]
    assert r.json()["upstream_body_bytes"] == len(body)
    assert r.upstream_saw("x-distill-guard-action") == "tag"
    assert envoy.counter("api.openai_chat") == before + 1


def test_h2_with_trailers_is_blocked(envoy):
    body = json.dumps(
        {"model": "claude", "max_tokens": 9, "messages": [{"role": "user", "content": f"a {BLOCK} b"}]}
    ).encode()
    upstream_before = envoy.stats().get("cluster.stub_llm.upstream_rq_total", 0)
    r = post_with_trailers(
        envoy.port,
        "/v1/messages",
        {"content-type": "application/json", "x-api-key": "sk-ant-h2"},
        pieces(body, BLOCK, size=16),
        {"x-checksum": "abc"},
    )
    assert r.status == 403, r.body[:300]
    assert r.json()["type"] == "error"
    assert envoy.stats().get("cluster.stub_llm.upstream_rq_total", 0) == upstream_before


def test_h2_with_trailers_clean_body_is_forwarded_untagged(envoy):
    body = body_with("nothing special")
    r = post_with_trailers(
        envoy.port,
        "/v1/chat/completions",
        {"content-type": "application/json", **bearer("sk-h2-3")},
        [body[:10], body[10:]],
        {"x-checksum": "abc"},
    )
    assert r.status == 200
    assert r.json()["upstream_body_bytes"] == len(body)
    assert r.upstream_saw("x-distill-guard-action") is None
