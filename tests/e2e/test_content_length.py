"""A body is decided once the bytes its `content-length` announced are in;
a byte after that was never inspected and must never reach the upstream.

Which layer refuses what (Envoy 1.40):
- HTTP/2, a DATA frame past the `content-length` the client sent: Envoy's
  codec resets the stream with PROTOCOL_ERROR before the filter sees the
  byte (`test_h2_body_past_content_length_is_reset`; holds with or without
  the filter's guard).
- HTTP/1: the codec reads the bytes after `content-length` as the next
  request, never as this body (not tested here).
- A `content-length` rewritten by a filter before this one (here a Lua
  filter, standing for any header rewrite), so the codec's count and the
  filter's differ: only the filter's guard (`content_length::refuse_overrun`)
  refuses. `test_body_past_the_announced_length_is_refused` fails with the
  guard disabled (the stub then answers 200 with the whole body).
"""

import json

import pytest

from client import PIPES_ONLY, bearer, post_in_two_bursts
from h2client import post_with_trailers

PLUGIN_CONFIG = {**PIPES_ONLY, "mode": "shadow"}

CHAT = "/v1/chat/completions"
# A whole JSON document, then 20 bytes more: the filter can decide on the
# document alone, and the surplus is what it never inspected.
DOC = json.dumps({"model": "gpt-4o", "messages": [{"role": "user", "content": "hello " * 40}]}).encode()
BODY = DOC + b" " * 20
FIRST = len(DOC)

# The refusal the filter sends (src/content_length.rs).
REFUSAL = b"bad request: body longer than content-length\n"

# Sets `content-length` to the request's `x-test-announce` before the Wasm
# filter reads the headers (the codec already framed the body by the
# client's own `content-length`).
LUA = """          - name: envoy.filters.http.lua
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua
              default_source_code:
                inline_string: |
                  function envoy_on_request(h)
                    local a = h:headers():get("x-test-announce")
                    if a then h:headers():replace("content-length", a) end
                  end
"""
WASM_FILTER = "          - name: envoy.filters.http.wasm\n"

# The stub answers only after the rest of the body had time to arrive, so
# the answer cannot be on its way before the filter sees the surplus.
SLOW = {"x-stub-delay-ms": "1500"}


def with_lua(text: str, _path) -> str:
    assert text.count(WASM_FILTER) == 1, "the template has one Wasm filter"
    return text.replace(WASM_FILTER, LUA + WASM_FILTER)


@pytest.fixture(scope="module")
def rewriting_envoy(envoy_factory):
    return envoy_factory(PLUGIN_CONFIG, transform=with_lua)


def test_body_past_the_announced_length_is_refused(rewriting_envoy):
    # The filter reads content-length FIRST, decides when those bytes are
    # in, then 20 more arrive: refused, with a text that says nothing of
    # how the body was judged.
    r = post_in_two_bursts(
        rewriting_envoy.port, CHAT, BODY, FIRST, {**bearer("sk-cl"), **SLOW, "x-test-announce": str(FIRST)}
    )
    assert r.status == 400, (r.status, r.body[:300])
    assert r.body == REFUSAL


def test_body_of_the_announced_length_passes(rewriting_envoy):
    # The same path with nothing past the announced length: forwarded whole.
    r = post_in_two_bursts(
        rewriting_envoy.port, CHAT, BODY, FIRST, {**bearer("sk-cl"), "x-test-announce": str(len(BODY))}
    )
    assert r.status == 200, (r.status, r.body[:300])
    assert r.json()["upstream_body_bytes"] == len(BODY)


def test_h2_body_past_content_length_is_reset(envoy):
    # Envoy's HTTP/2 codec counts DATA against content-length itself.
    r = post_with_trailers(
        envoy.port,
        CHAT,
        {"content-type": "application/json", "content-length": str(FIRST), **bearer("sk-cl"), **SLOW},
        [BODY[:FIRST], BODY[FIRST:]],
        {"x-trailer": "1"},
        pause=0.3,
    )
    assert r.reset, (r.status, r.body[:300])
    assert r.reset_code == 1  # PROTOCOL_ERROR
    assert r.status in (0, 400), r.status


def test_envoy_still_serves(envoy, rewriting_envoy):
    for e in (envoy, rewriting_envoy):
        r = post_in_two_bursts(e.port, CHAT, BODY, FIRST, bearer("sk-cl"))
        assert r.status == 200
        assert r.json()["upstream_body_bytes"] == len(BODY)

