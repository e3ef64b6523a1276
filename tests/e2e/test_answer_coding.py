"""A client cannot hide its answers' tokens behind a content coding the
filter cannot read: every forwarded LLM API request's `accept-encoding` is
narrowed to the codings the response meter decodes (gzip, deflate,
identity), so an upstream that would answer `br` answers something the
filter counts. The stub upstream negotiates the coding from the
`accept-encoding` it receives, as real upstreams do (`x-stub-negotiate`)."""

import gzip
import hashlib

import pytest

from client import bearer, post, request

PLUGIN_CONFIG = {"mode": "enforce", "identity": {"secret": "e2e-secret"}}

CHAT = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}


def tokens(envoy) -> int:
    return envoy.counter("output_tokens.api.openai_chat.action.allow.total")


def ask(envoy, key: str, accept: str, stream: bool):
    body = {**CHAT, "stream": stream, "stream_options": {"include_usage": True}}
    return post(envoy.port, "/v1/chat/completions", body,
                {**bearer(key), "x-stub-negotiate": "1", "accept-encoding": accept})


@pytest.mark.parametrize("stream", [False, True], ids=["json", "sse"])
def test_brotli_only_client_gets_an_answer_whose_tokens_count(envoy, stream):
    before = tokens(envoy)
    r = ask(envoy, f"sk-coding-br-{stream}", "br", stream)
    assert r.status == 200, r.body[:300]
    assert r.header("x-stub-accept-encoding") == "identity"
    assert r.header("content-encoding") in (None, "")
    assert hashlib.sha256(r.body).hexdigest() == r.header("x-stub-body-sha256")
    assert tokens(envoy) == before + 7


def test_client_preferences_among_readable_codings_are_kept(envoy):
    before = tokens(envoy)
    r = ask(envoy, "sk-coding-mixed", "br;q=1.0, gzip;q=0.8, zstd", False)
    assert r.status == 200, r.body[:300]
    assert r.header("x-stub-accept-encoding") == "gzip;q=0.8"
    assert r.header("content-encoding") == "gzip"
    assert gzip.decompress(r.body).startswith(b"{")
    assert tokens(envoy) == before + 7


def test_readable_accept_encoding_goes_upstream_unchanged(envoy):
    r = ask(envoy, "sk-coding-gzip", "gzip, deflate", False)
    assert r.status == 200
    assert r.header("x-stub-accept-encoding") == "gzip, deflate"


def test_requests_that_are_not_llm_calls_are_not_touched(envoy):
    r = request(envoy.port, "GET", "/healthz", None, {"x-stub-negotiate": "1", "accept-encoding": "br"})
    assert r.status == 200
    assert r.header("x-stub-accept-encoding") == "br"
    assert r.header("content-encoding") == "br"


def test_a_refused_identity_is_not_forwarded_alone(envoy):
    # `br, identity;q=0` narrowed naively is `identity;q=0`: nothing the
    # upstream may send. The filter asks for identity, which it can read.
    before = tokens(envoy)
    r = ask(envoy, "sk-coding-refused", "br, identity;q=0", False)
    assert r.status == 200, r.body[:300]
    assert r.header("x-stub-accept-encoding") == "identity"
    assert r.header("content-encoding") in (None, "")
    assert tokens(envoy) == before + 7
