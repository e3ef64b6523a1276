"""Compressed request bodies in the real Envoy (issue 10): a `gzip` or
`deflate` body is read by the filter as the upstream would read it, while
the upstream still gets the original compressed bytes; a zip bomb stays
bounded (decided as a body with no prompt in view, not a stalled or
runaway request); a coding the filter cannot read is a parse failure."""

import gzip
import json
import zlib

from client import PIPES_ONLY, bearer, post

PHRASE = "pineapple-gzip-e2e"
PLUGIN_CONFIG = {**PIPES_ONLY, "mode": "enforce", "identity": {"secret": "e2e-gzip-secret"},
                 "rules": [{"phrases": [PHRASE], "action": "block"}, {"phrases": ["tag-me-gzip"], "action": "tag"}]}


def chat(text: str) -> bytes:
    return json.dumps({"model": "gpt-4o", "messages": [{"role": "user", "content": text}]}).encode()


def test_gzip_body_with_a_rule_phrase_is_blocked(envoy):
    r = post(envoy.port, "/v1/chat/completions", gzip.compress(chat(PHRASE)),
             {**bearer("sk-gz-1"), "content-encoding": "gzip", "content-type": "application/json"})
    assert r.status == 403, r.body[:300]


def test_deflate_body_with_a_rule_phrase_is_blocked(envoy):
    r = post(envoy.port, "/v1/chat/completions", zlib.compress(chat(PHRASE)),
             {**bearer("sk-gz-2"), "content-encoding": "deflate", "content-type": "application/json"})
    assert r.status == 403, r.body[:300]


def test_upstream_gets_the_original_compressed_bytes(envoy):
    body = gzip.compress(chat("please tag-me-gzip " + "words " * 50_000))
    r = post(envoy.port, "/v1/chat/completions", body,
             {**bearer("sk-gz-3"), "content-encoding": "gzip", "content-type": "application/json"})
    assert r.status == 200, r.body[:300]
    assert r.json()["upstream_body_bytes"] == len(body)
    assert r.upstream_saw("x-distill-guard-action") == "tag"


def test_a_zip_bomb_is_bounded(envoy):
    bomb = gzip.compress(b"{" + b" " * (256 << 20) + chat(PHRASE)[1:], compresslevel=9)
    assert len(bomb) < 512 * 1024
    before = envoy.counter("parse_failure.no_prompt_in_prefix")
    r = post(envoy.port, "/v1/chat/completions", bomb,
             {**bearer("sk-gz-4"), "content-encoding": "gzip", "content-type": "application/json"})
    assert r.status == 403, r.body[:300]
    assert envoy.counter("parse_failure.no_prompt_in_prefix") == before + 1


def test_an_unreadable_coding_is_a_parse_failure(envoy):
    before = envoy.counter("parse_failure.compressed")
    r = post(envoy.port, "/v1/chat/completions", b"\x0b\x80brotli-ish",
             {**bearer("sk-gz-5"), "content-encoding": "br", "content-type": "application/json"})
    assert r.status == 200, r.body[:300]
    assert r.upstream_saw("x-distill-guard-reasons") == "parse_error"
    assert envoy.counter("parse_failure.compressed") == before + 1
