"""Clients cannot forge the filter's verdict: every `x-distill-guard-*`
request header a client sends is removed before the filter adds its own,
on LLM paths and on paths the filter otherwise passes untouched."""

import pytest

from client import PIPES_ONLY, bearer, post, request

PHRASE = "spoof-check-e2e"

PLUGIN_CONFIG = {**PIPES_ONLY, "mode": "shadow", "rules": [{"phrases": [PHRASE], "action": "tag"}]}

SPOOFED = {
    "x-distill-guard-action": "allow",
    "x-distill-guard-score": "0.0",
    "x-distill-guard-reasons": "trusted_partner",
    "x-distill-guard-mode": "off",
    "X-Distill-Guard-Custom": "anything",
}


def saw_any_guard_header(r):
    return {k: v for k, v in r.headers.items() if k.startswith("x-upstream-saw-x-distill-guard")}


def chat(text):
    return {"model": "gpt-4o", "messages": [{"role": "user", "content": text}]}


def test_spoofed_headers_removed_on_an_allowed_llm_request(envoy):
    before = envoy.counter("spoofed_header_stripped")
    r = post(envoy.port, "/v1/chat/completions", chat("hello there"), {**bearer("sk-spoof-1"), **SPOOFED})
    assert r.status == 200
    assert saw_any_guard_header(r) == {}
    assert envoy.counter("spoofed_header_stripped") > before


def test_spoofed_headers_replaced_by_the_filters_own_on_a_tagged_request(envoy):
    r = post(envoy.port, "/v1/chat/completions", chat(f"x {PHRASE} y"), {**bearer("sk-spoof-2"), **SPOOFED})
    assert r.status == 200
    saw = saw_any_guard_header(r)
    assert saw.get("x-upstream-saw-x-distill-guard-action") == "tag"
    assert saw.get("x-upstream-saw-x-distill-guard-mode") == "shadow"
    assert "trusted_partner" not in saw.get("x-upstream-saw-x-distill-guard-reasons", "")
    assert "x-upstream-saw-x-distill-guard-custom" not in saw
    # One value each, not the client's appended to the filter's.
    assert "," not in saw.get("x-upstream-saw-x-distill-guard-score", "")


@pytest.mark.parametrize("method,path", [("GET", "/v1/models"), ("POST", "/v1/embeddings"), ("GET", "/healthz")])
def test_spoofed_headers_removed_on_pass_through_paths(envoy, method, path):
    body = {"input": "x"} if method == "POST" else None
    r = request(envoy.port, method, path, body, {**bearer("sk-spoof-3"), **SPOOFED})
    assert r.status == 200
    assert saw_any_guard_header(r) == {}
