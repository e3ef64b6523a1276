"""Reasoning withheld from tagged callers (`"response": {"reasoning": "strip"}`),
against the real Envoy with an upstream that answers like a reasoning model
in every provider's JSON and SSE shapes (tests/e2e/reasoning_stub.py).

- Tagged (operator rule `tag-me`): no reasoning reaches the caller, in JSON
  or in a stream; the answer itself does, with a correct `content-length`.
- Untagged: the answer is the upstream's, byte for byte (also gzip-encoded).
- The official SDKs parse the stripped answers and streams (Anthropic's
  block indexes, the Responses API's output indexes are renumbered) and see
  no reasoning, where an untagged call through the same Envoy sees it.
- A JSON answer over `response.reasoning_max_bytes` becomes a 502 in the
  API's error format, never the unread answer.
"""

from __future__ import annotations

import json

import anthropic
import openai
import pytest
from google import genai
from google.genai import types as genai_types

from client import PIPES_ONLY, post
from procs import Envoy
from reasoning_stub import ANSWER, SECRET, ReasoningStub, direct

# Past Envoy's 1 MiB buffer limit: the bound is the filter's own (each
# chunk leaves Envoy's buffer as it arrives).
MAX_BYTES = 3 * 512 * 1024
TAG = "tag-me"


def plugin_config(reasoning: str) -> dict:
    return {
        **PIPES_ONLY,
        "mode": "enforce",
        "identity": {"secret": "e2e-secret"},
        "rules": [{"phrases": [TAG], "action": "tag"}],
        "response": {"reasoning": reasoning, "reasoning_max_bytes": MAX_BYTES},
    }


@pytest.fixture(scope="module")
def upstream():
    s = ReasoningStub()
    yield s
    s.stop()


def start(upstream, workdir, reasoning):
    return Envoy(plugin_config(reasoning), upstream.port, workdir).start()


@pytest.fixture(scope="module")
def strip(upstream, workdir):
    e = start(upstream, workdir, "strip")
    yield e
    e.stop()


@pytest.fixture(scope="module")
def keep(upstream, workdir):
    e = start(upstream, workdir, "keep")
    yield e
    e.stop()


# (label, path, body without the prompt, Envoy's API label)
CASES = [
    ("chat", "/v1/chat/completions", {"model": "deepseek-reasoner"}, "openai_chat"),
    ("responses", "/v1/responses", {"model": "o4-mini"}, "openai_responses"),
    ("anthropic", "/v1/messages", {"model": "claude-opus-4-1", "max_tokens": 64}, "anthropic_messages"),
    ("gemini", "/v1beta/models/gemini-2.5-flash:generateContent", {}, "gemini_generate"),
]
STREAM_CASES = [
    ("chat", "/v1/chat/completions", {"model": "deepseek-reasoner", "stream": True}),
    ("responses", "/v1/responses", {"model": "o4-mini", "stream": True}),
    ("anthropic", "/v1/messages", {"model": "claude-opus-4-1", "max_tokens": 64, "stream": True}),
    ("gemini", "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse", {}),
]


def body(label: str, base: dict, text: str) -> dict:
    if label == "gemini":
        return {**base, "contents": [{"role": "user", "parts": [{"text": text}]}]}
    if label == "responses":
        return {**base, "input": text}
    return {**base, "messages": [{"role": "user", "content": text}]}


def events(raw: bytes) -> list[dict]:
    out = []
    for block in raw.decode().replace("\r\n", "\n").split("\n\n"):
        data = "\n".join(line[5:].lstrip(" ") for line in block.split("\n") if line.startswith("data:"))
        if data and data != "[DONE]":
            out.append(json.loads(data))
    return out


# --- untagged: byte for byte ------------------------------------------------


@pytest.mark.parametrize("label,path,base", [c[:3] for c in CASES] + STREAM_CASES)
def test_untagged_answers_are_the_upstreams_byte_for_byte(strip, upstream, label, path, base):
    # The gzip answer is written with a fixed mtime, so equal bytes are
    # expected from the same request.
    req = body(label, base, "what is six times seven")
    for headers in ({}, {"accept-encoding": "gzip"}):
        via = post(strip.port, path, req, {"authorization": "Bearer sk-plain", **headers})
        raw = direct(upstream.port, path, req, headers)
        assert via.status == 200
        assert via.body == raw.body, label
        assert via.header("content-length") == raw.header("content-length")
        assert via.header("content-encoding") == raw.header("content-encoding")


# --- tagged: reasoning withheld ------------------------------------------------


@pytest.mark.parametrize("label,path,base,api", CASES)
def test_tagged_json_answers_lose_their_reasoning(strip, label, path, base, api):
    before = strip.counter(f"reasoning.withheld.{api}")
    for headers in ({}, {"accept-encoding": "gzip"}):
        r = post(strip.port, path, body(label, base, f"{TAG} six times seven"), {"x-api-key": "k1", **headers})
        assert r.status == 200, r.body
        assert r.header("content-encoding") is None, "the filter asks the upstream for an unencoded answer"
        assert int(r.header("content-length")) == len(r.body)
        assert SECRET.encode() not in r.body and b"thinking" not in r.body
        assert ANSWER in json.dumps(r.json())
    assert strip.counter(f"reasoning.withheld.{api}") == before + 2
    # Tokens are counted from the answer as the upstream sent it.
    assert strip.counter(f"output_tokens.api.{api}.action.tag.total") > 0


def test_tagged_json_answers_have_no_reasoning_left_in_their_structure(strip):
    ask = lambda label, path, base: post(  # noqa: E731
        strip.port, path, body(label, base, f"{TAG} hi"), {"x-api-key": "k2"}
    ).json()
    chat = ask(*CASES[0][:3])
    assert chat["choices"][0]["message"] == {"role": "assistant", "content": ANSWER}
    assert chat["usage"]["completion_tokens_details"]["reasoning_tokens"] == 24
    resp = ask(*CASES[1][:3])
    assert [o["type"] for o in resp["output"]] == ["message"]
    msg = ask(*CASES[2][:3])
    assert msg["content"] == [{"type": "text", "text": ANSWER}]
    gem = ask(*CASES[3][:3])
    assert gem["candidates"][0]["content"]["parts"] == [{"text": ANSWER}]


@pytest.mark.parametrize("label,path,base", STREAM_CASES)
def test_tagged_streams_lose_their_reasoning_and_stay_consistent(strip, label, path, base):
    r = post(strip.port, path, body(label, base, f"{TAG} six times seven"), {"x-api-key": "k3"})
    assert r.status == 200
    assert r.header("content-length") is None
    assert SECRET.encode() not in r.body
    evs = events(r.body)
    assert evs, r.body
    if label == "anthropic":
        starts = [e for e in evs if e["type"] == "content_block_start"]
        assert [(s["index"], s["content_block"]["type"]) for s in starts] == [(0, "text")]
        assert {e["index"] for e in evs if "index" in e} == {0}
    if label == "responses":
        assert [e["sequence_number"] for e in evs] == list(range(len(evs)))
        assert {e["output_index"] for e in evs if "output_index" in e} == {0}
        assert not any(e["type"].startswith("response.reasoning") for e in evs)
        assert [o["type"] for o in evs[-1]["response"]["output"]] == ["message"]
    if label == "chat":
        # A null `reasoning_content` beside content tells nothing: left as sent.
        assert all(c["choices"][0]["delta"].get("reasoning_content") is None for c in evs)
        assert evs[-1]["choices"][0]["finish_reason"] == "stop"
    if label == "gemini":
        parts = [p for e in evs for p in e["candidates"][0]["content"]["parts"]]
        assert not any(p.get("thought") for p in parts)
        assert "".join(p["text"] for p in parts) == ANSWER


@pytest.mark.parametrize("stream", [False, True], ids=["json", "sse"])
def test_inline_think_blocks_are_withheld_from_tagged_callers_only(strip, upstream, stream):
    """An open-weight reasoning model behind an OpenAI-compatible server puts
    its reasoning in `content` as an opening `<think>` block (split over
    stream deltas): a tagged caller gets the answer without it, an untagged
    one the upstream's bytes."""
    base = {"model": "deepseek-r1-inline", "stream": stream}
    plain_req = body("chat", base, "six times seven")
    plain = post(strip.port, "/v1/chat/completions", plain_req, {"x-api-key": "k10"})
    assert plain.body == direct(upstream.port, "/v1/chat/completions", plain_req).body
    assert b"<think>" in plain.body or b"<th" in plain.body
    tagged = post(strip.port, "/v1/chat/completions", body("chat", base, f"{TAG} six times seven"),
                  {"x-api-key": "k10"})
    assert tagged.status == 200
    assert SECRET[:20].encode() not in tagged.body and SECRET[20:].encode() not in tagged.body
    if stream:
        evs = events(tagged.body)
        assert "".join(c["choices"][0]["delta"].get("content") or "" for c in evs if c["choices"]) == ANSWER
        assert evs[-1]["choices"][0]["finish_reason"] == "stop"
    else:
        assert tagged.json()["choices"][0]["message"] == {"role": "assistant", "content": ANSWER}
        assert int(tagged.header("content-length")) == len(tagged.body)


def test_openai_sdk_streams_without_inline_thinking(strip):
    client = openai.OpenAI(api_key="sk-sdk", base_url=base_url(strip) + "/v1", timeout=30, max_retries=0)
    msgs = [{"role": "user", "content": f"{TAG} hi"}]
    chunks = list(client.chat.completions.create(model="deepseek-r1-inline", messages=msgs, stream=True))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == ANSWER


def test_a_long_reasoning_stream_passes_without_it(strip):
    # About 10 MB of reasoning chunks between the first chunk and the answer.
    label, path, base = STREAM_CASES[0]
    events_sent = 60_000
    r = post(strip.port, path, body(label, base, f"{TAG} think long"),
             {"x-api-key": "k6", "x-stub-reasoning-events": str(events_sent)}, timeout=120)
    assert r.status == 200
    assert SECRET[:20].encode() not in r.body
    assert len(r.body) < 4096, "every reasoning chunk was dropped"
    evs = events(r.body)
    assert "".join(c["choices"][0]["delta"].get("content") or "" for c in evs) == ANSWER


def test_the_shared_stubs_reasoning_is_withheld_too(envoy_factory):
    """The response helper's stub (envoy/stub_llm.py, `x-stub-reasoning: 1`)
    writes its own reasoning shapes: a second, independent check."""
    e = envoy_factory(plugin_config("strip"))
    marker = b"step by step"
    for label, path, base in [c[:3] for c in CASES] + STREAM_CASES:
        req = body(label, base, f"{TAG} hi")
        tagged = post(e.port, path, req, {"x-api-key": "k7", "x-stub-reasoning": "1"})
        plain = post(e.port, path, body(label, base, "hi"), {"x-api-key": "k8", "x-stub-reasoning": "1"})
        assert tagged.status == plain.status == 200, (label, path)
        assert marker in plain.body, (label, path)
        assert marker not in tagged.body, (label, path, tagged.body[:400])
        assert b"This is the stub upstream's answer." in tagged.body, (label, path)


def test_shadow_mode_never_changes_an_answer(upstream, workdir):
    """Shadow mode forwards what enforce mode would deny as a tag, but never
    changes what a client receives: with `strip` configured, the would-be
    denial's answer still carries its reasoning, byte for byte as the
    upstream sent it (docs/configuration.md)."""
    config = {**plugin_config("strip"), "mode": "shadow",
              "rules": [{"phrases": ["block-me"], "action": "block"}]}
    e = Envoy(config, upstream.port, workdir).start()
    try:
        label, path, base, _ = CASES[2]
        req = body(label, base, "block-me now")
        denied = post(e.port, path, req, {"x-api-key": "k9"})
        assert denied.status == 200
        assert SECRET[:20].encode() in denied.body
        assert denied.body == direct(upstream.port, path, req).body
        assert e.counter("reasoning.withheld.anthropic_messages") == 0
    finally:
        e.stop()


def test_keep_leaves_tagged_answers_alone(keep, upstream):
    label, path, base = STREAM_CASES[2]
    for case in (CASES[2][:3], (label, path, base)):
        req = body(case[0], case[2], f"{TAG} six times seven")
        via = post(keep.port, case[1], req, {"x-api-key": "k4"})
        assert via.body == direct(upstream.port, case[1], req).body


def test_an_answer_over_the_bound_is_withheld_whole(strip):
    before = strip.counter("reasoning.oversize.anthropic_messages")
    label, path, base, _ = CASES[2]
    r = post(strip.port, path, body(label, base, f"{TAG} long"),
             {"x-api-key": "k5", "x-stub-answer-bytes": str(MAX_BYTES + 1000)})
    assert r.status == 502
    assert r.json()["type"] == "error" and r.json()["error"]["message"]
    assert SECRET[:20].encode() not in r.body
    assert int(r.header("content-length")) == len(r.body)
    assert strip.counter("reasoning.oversize.anthropic_messages") == before + 1
    # Under the bound the same answer goes through, stripped.
    # Under the bound, even past Envoy's own buffer limit, the same answer
    # goes through, stripped.
    r = post(strip.port, path, body(label, base, f"{TAG} long"),
             {"x-api-key": "k5", "x-stub-answer-bytes": str(1200 * 1024)})
    assert r.status == 200 and SECRET[:20].encode() not in r.body
    assert r.json()["content"] == [{"type": "text", "text": ANSWER}]


# --- the official SDKs ------------------------------------------------------


def base_url(envoy) -> str:
    return f"http://127.0.0.1:{envoy.port}"


def test_openai_chat_sdk(strip):
    client = openai.OpenAI(api_key="sk-sdk", base_url=base_url(strip) + "/v1", timeout=30, max_retries=0)
    msgs = lambda t: [{"role": "user", "content": t}]  # noqa: E731
    seen = client.chat.completions.create(model="deepseek-reasoner", messages=msgs("hi")).choices[0].message
    assert (seen.model_extra or {}).get("reasoning_content", "").startswith("SECRET"), "the stub sends reasoning"
    got = client.chat.completions.create(model="deepseek-reasoner", messages=msgs(f"{TAG} hi")).choices[0].message
    assert got.content == ANSWER and "reasoning_content" not in (got.model_extra or {})
    chunks = list(client.chat.completions.create(model="deepseek-reasoner", messages=msgs(f"{TAG} hi"), stream=True))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == ANSWER
    assert not any((c.choices[0].delta.model_extra or {}).get("reasoning_content") for c in chunks if c.choices)


def test_openai_responses_sdk(strip):
    client = openai.OpenAI(api_key="sk-sdk", base_url=base_url(strip) + "/v1", timeout=30, max_retries=0)
    assert [o.type for o in client.responses.create(model="o4-mini", input="hi").output] == ["reasoning", "message"]
    got = client.responses.create(model="o4-mini", input=f"{TAG} hi")
    assert got.output_text == ANSWER and [o.type for o in got.output] == ["message"]
    # The stream helper accumulates items by output_index: it needs them
    # renumbered once the reasoning item is gone.
    with client.responses.stream(model="o4-mini", input=f"{TAG} hi") as s:
        kinds = [e.type for e in s]
        final = s.get_final_response()
    assert final.output_text == ANSWER and [o.type for o in final.output] == ["message"]
    assert not any(k.startswith("response.reasoning") for k in kinds)


def test_anthropic_sdk(strip):
    client = anthropic.Anthropic(api_key="sk-ant", base_url=base_url(strip), timeout=30, max_retries=0)
    kw = {"model": "claude-opus-4-1", "max_tokens": 64}
    seen = client.messages.create(messages=[{"role": "user", "content": "hi"}], **kw)
    assert [b.type for b in seen.content] == ["thinking", "redacted_thinking", "text"]
    got = client.messages.create(messages=[{"role": "user", "content": f"{TAG} hi"}], **kw)
    assert [b.type for b in got.content] == ["text"] and got.content[0].text == ANSWER
    # The stream helper appends blocks and addresses deltas by index.
    with client.messages.stream(messages=[{"role": "user", "content": f"{TAG} hi"}], **kw) as s:
        text = "".join(s.text_stream)
        final = s.get_final_message()
    assert text == ANSWER and [b.type for b in final.content] == ["text"]


def test_google_genai_sdk(strip):
    opts = genai_types.HttpOptions(base_url=base_url(strip), timeout=30_000)
    client = genai.Client(api_key="gemini-sdk-key", http_options=opts)
    seen = client.models.generate_content(model="gemini-2.5-flash", contents="hi")
    assert any(p.thought for p in seen.candidates[0].content.parts)
    got = client.models.generate_content(model="gemini-2.5-flash", contents=f"{TAG} hi")
    assert got.text == ANSWER and not any(p.thought for p in got.candidates[0].content.parts)
    chunks = list(client.models.generate_content_stream(model="gemini-2.5-flash", contents=f"{TAG} hi"))
    assert "".join(c.text or "" for c in chunks) == ANSWER
    assert not any(p.thought for c in chunks for p in (c.candidates[0].content.parts or []))
