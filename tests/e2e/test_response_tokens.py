"""The response side: the filter reads upstream answers as they pass and
counts their output (and reasoning) tokens, by API and action, for streamed
and non-streamed answers of every API; it never holds or changes them (a
10 MB stream and a truncated or malformed stream come through byte for
byte)."""

import hashlib
import json

import pytest

from client import bearer, post, request

PLUGIN_CONFIG = {"mode": "enforce", "identity": {"secret": "e2e-secret"}}

GEMINI = "/v1beta/models/gemini-2.0-flash"
AZURE = "/openai/deployments/my-gpt4o/chat/completions?api-version=2024-10-21"

# (API label, path, body, headers) — one per API, non-streamed.
CALLS = [
    ("openai_chat", "/v1/chat/completions", {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}),
    ("openai_responses", "/v1/responses", {"model": "gpt-4o", "input": "hi"}),
    ("openai_completions", "/v1/completions", {"model": "gpt-3.5-turbo-instruct", "prompt": "hi"}),
    ("anthropic_messages", "/v1/messages", {"model": "claude", "max_tokens": 9,
                                            "messages": [{"role": "user", "content": "hi"}]}),
    ("gemini_generate", f"{GEMINI}:generateContent", {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}),
    ("azure_chat", AZURE, {"messages": [{"role": "user", "content": "hi"}]}),
    # Gemini's stream without `alt=sse` is a JSON array of chunks.
    ("gemini_stream", f"{GEMINI}:streamGenerateContent", {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}),
]

STREAMS = [
    ("openai_chat", "/v1/chat/completions", {"model": "gpt-4o", "stream": True,
                                             "stream_options": {"include_usage": True},
                                             "messages": [{"role": "user", "content": "hi"}]}),
    ("openai_responses", "/v1/responses", {"model": "gpt-4o", "input": "hi", "stream": True}),
    ("anthropic_messages", "/v1/messages", {"model": "claude", "max_tokens": 9, "stream": True,
                                            "messages": [{"role": "user", "content": "hi"}]}),
    ("gemini_stream", f"{GEMINI}:streamGenerateContent?alt=sse",
     {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}),
    ("azure_chat", AZURE, {"stream": True, "stream_options": {"include_usage": True},
                           "messages": [{"role": "user", "content": "hi"}]}),
    ("openai_completions", "/v1/completions", {"model": "gpt-3.5-turbo-instruct", "prompt": "hi", "stream": True}),
]

# Reasoning tokens each stream reports: its usage's count; Anthropic's usage
# has none, so the thinking text is estimated (52 bytes: 13 tokens, at most
# the output's 7); the stub's legacy completions stream has no reasoning.
REASONING = {"anthropic_messages": 7, "openai_completions": 0}


def tokens(envoy, api: str, kind: str = "output") -> int:
    return envoy.counter(f"{kind}_tokens.api.{api}.action.allow.total")


def answered(envoy, kind: str) -> int:
    return envoy.counter(f"responses.kind.{kind}.total")


def intact(r) -> bool:
    return hashlib.sha256(r.body).hexdigest() == r.header("x-stub-body-sha256")


@pytest.mark.parametrize("api,path,body", CALLS, ids=[c[0] for c in CALLS])
def test_json_answer_usage_is_counted(envoy, api, path, body):
    before = tokens(envoy, api), answered(envoy, "usage")
    r = post(envoy.port, path, body, {**bearer(f"sk-tok-json-{api}"), "x-api-key": f"sk-tok-{api}"})
    assert r.status == 200, r.body[:300]
    assert intact(r)
    assert tokens(envoy, api) == before[0] + 7
    assert answered(envoy, "usage") == before[1] + 1


@pytest.mark.parametrize("api,path,body", STREAMS, ids=[c[0] for c in STREAMS])
def test_streamed_answer_usage_is_counted(envoy, api, path, body):
    before = tokens(envoy, api), tokens(envoy, api, "reasoning")
    reasoning = {**body, "model": "stub-reasoner"} if "model" in body else body
    r = post(envoy.port, path, reasoning, {**bearer(f"sk-tok-sse-{api}"), "x-api-key": f"sk-tok-s-{api}",
                                           "x-stub-reasoning": "1"})
    assert r.status == 200, r.body[:300]
    assert r.header("content-type").startswith("text/event-stream")
    assert intact(r)
    assert tokens(envoy, api) == before[0] + 7
    assert tokens(envoy, api, "reasoning") == before[1] + REASONING.get(api, 5)


def test_stream_without_usage_is_estimated(envoy):
    before = tokens(envoy, "openai_chat"), answered(envoy, "estimate")
    body = {"model": "gpt-4o", "stream": True, "messages": [{"role": "user", "content": "hi"}]}
    r = post(envoy.port, "/v1/chat/completions", body, bearer("sk-tok-estimate"))
    assert r.status == 200 and intact(r)
    # The stub's answer is 35 bytes of text: 9 tokens at 4 bytes a token.
    assert tokens(envoy, "openai_chat") == before[0] + 9
    assert answered(envoy, "estimate") == before[1] + 1


@pytest.mark.parametrize("stream", [False, True], ids=["json", "sse"])
def test_gzip_answers_are_counted_and_pass_as_they_came(envoy, stream):
    before = tokens(envoy, "openai_chat")
    body = {"model": "gpt-4o", "stream": stream, "stream_options": {"include_usage": True},
            "messages": [{"role": "user", "content": "hi"}]}
    r = post(envoy.port, "/v1/chat/completions", body, {**bearer("sk-tok-gzip"), "x-stub-gzip": "1",
                                                         "accept-encoding": "gzip"})
    assert r.status == 200
    assert r.header("content-encoding") == "gzip"
    assert r.body[:2] == b"\x1f\x8b" and intact(r)
    assert tokens(envoy, "openai_chat") == before + 7


def test_ten_megabyte_stream_passes_intact_and_is_counted(envoy):
    before = tokens(envoy, "openai_chat")
    body = {"model": "gpt-4o", "stream": True, "messages": [{"role": "user", "content": "hi"}]}
    r = post(envoy.port, "/v1/chat/completions", body,
             {**bearer("sk-tok-big"), "x-stub-stream-bytes": str(10 * 1024 * 1024)}, timeout=120)
    assert r.status == 200
    assert len(r.body) >= 10 * 1024 * 1024 - 4096
    assert intact(r)
    events = r.body.count(b"\n\n") - 2
    assert tokens(envoy, "openai_chat") == before + events


@pytest.mark.parametrize("cut", [37, 150, 301])
def test_truncated_stream_is_forwarded_as_it_came(envoy, cut):
    body = {"model": "claude", "max_tokens": 9, "stream": True, "messages": [{"role": "user", "content": "hi"}]}
    r = post(envoy.port, "/v1/messages", body, {"x-api-key": "sk-tok-cut", "x-stub-truncate": str(cut)})
    assert r.status == 200
    assert len(r.body) == cut
    assert intact(r)


def test_malformed_stream_is_forwarded_as_it_came(envoy):
    before = answered(envoy, "estimate")
    body = {"model": "gpt-4o", "stream": True, "messages": [{"role": "user", "content": "hi"}]}
    r = post(envoy.port, "/v1/chat/completions", body, {**bearer("sk-tok-bad"), "x-stub-malformed": "1"})
    assert r.status == 200
    assert b"\xff\xfe garbage" in r.body
    assert intact(r)
    assert answered(envoy, "estimate") == before + 1


def test_local_denials_and_other_paths_count_no_tokens(envoy):
    before = envoy.stats()
    r = request(envoy.port, "GET", "/healthz")
    assert r.status == 200
    after = envoy.stats()
    moved = {k for k in after if "tokens" in k and after[k] != before.get(k, 0)}
    assert not moved, moved
