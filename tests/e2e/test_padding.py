"""Padding past the inspection cap in the real Envoy (issue 10). A body
that starts with `{`, then whitespace past the 256 KiB cap, then the real
request, is read as if the padding were not there, whether it arrives in
one read or in many chunks; a body cut off before any prompt is the
`no_prompt_in_prefix` outcome, counted and denied in enforce mode; and a
body that is nothing but padding past the buffer bound is decided at that
bound rather than stalled (Envoy stops reading past its 1 MiB connection
buffer), reaching the upstream intact when the policy lets it through."""

import json

from client import PIPES_ONLY, bearer, post, post_chunked

PHRASE = "pineapple-padding-e2e"
SECRET = {"identity": {"secret": "e2e-padding-secret"}}
PLUGIN_CONFIG = {**PIPES_ONLY, **SECRET, "mode": "enforce", "rules": [{"phrases": [PHRASE], "action": "block"}]}
CHAT = json.dumps({"model": "gpt-4o", "messages": [{"role": "user", "content": f"tell me about {PHRASE}"}]})


def padded(pad: bytes, body: str = CHAT) -> bytes:
    return b"{" + pad + body[1:].encode()


def test_whitespace_padding_past_the_cap_is_still_read(envoy):
    body = padded(b" \n\t\r" * (75 * 1024))
    assert len(body) > 256 * 1024
    r = post(envoy.port, "/v1/chat/completions", body, bearer("sk-pad-1"))
    assert r.status == 403, r.body[:300]


def test_padding_in_many_chunks_is_still_read(envoy):
    body = padded(b" " * (600 * 1024))
    chunks = [body[i : i + 16 * 1024] for i in range(0, len(body), 16 * 1024)]
    r = post_chunked(envoy.port, "/v1/chat/completions", chunks, bearer("sk-pad-2"), delay=0.0)
    assert r.status == 403, r.body[:300]


def test_a_base64_blob_ahead_of_the_question_is_skipped(envoy):
    blob = "iVBORw0KGgo" * 40_000
    msg = {"role": "user", "content": [{"type": "image_url", "image_url": {"url": f"data:image/png;base64,{blob}"}},
                                       {"type": "text", "text": PHRASE}]}
    body = json.dumps({"model": "gpt-4o", "messages": [msg]}).encode()
    r = post(envoy.port, "/v1/chat/completions", body, bearer("sk-pad-3"))
    assert r.status == 403, r.body[:300]


def test_no_prompt_in_prefix_is_counted_and_denied(envoy):
    tool = {"type": "function", "function": {"name": "f", "description": "does a thing " * 20, "parameters": {}}}
    body = json.dumps({"model": "gpt-4o", "tools": [tool] * 2000, "messages": [{"role": "user", "content": "hi"}]})
    before = envoy.counter("parse_failure.no_prompt_in_prefix")
    r = post(envoy.port, "/v1/chat/completions", body.encode(), bearer("sk-pad-4"))
    assert r.status == 403, r.body[:300]
    assert envoy.counter("parse_failure.no_prompt_in_prefix") == before + 1


def test_pure_padding_past_the_buffer_bound_is_decided_not_stalled(envoy_factory):
    """3 MiB of whitespace, then the JSON: the filter stops holding at the
    1 MiB buffer bound (`body.max_buffer_bytes`), and with the policy at
    `tag` the whole body streams on to the upstream."""
    e = envoy_factory({**PLUGIN_CONFIG, "body": {"on_no_prompt_in_prefix": "tag"}})
    body = padded(b" " * (3 * 1024 * 1024), json.dumps(
        {"model": "gpt-4o", "messages": [{"role": "user", "content": "an honest question"}]}))
    r = post(e.port, "/v1/chat/completions", body, bearer("sk-pad-5"), timeout=30)
    assert r.status == 200, r.body[:300]
    assert r.json()["upstream_body_bytes"] == len(body)
    assert r.upstream_saw("x-distill-guard-reasons") == "no_prompt_in_prefix"
    assert e.counter("parse_failure.no_prompt_in_prefix") == 1


def test_padding_over_http2_with_trailers_is_still_read(envoy):
    """HTTP/2: DATA frames never end the stream, the trailers do; the
    padding still does not hide the prompt."""
    from h2client import post_with_trailers

    body = padded(b"\n" * (300 * 1024))
    pieces = [body[i : i + 16 * 1024] for i in range(0, len(body), 16 * 1024)]
    r = post_with_trailers(envoy.port, "/v1/chat/completions",
                           {"content-type": "application/json", **bearer("sk-pad-h2")}, pieces, {"x-checksum": "abc"})
    assert not r.reset
    assert r.status == 403, r.body[:300]
