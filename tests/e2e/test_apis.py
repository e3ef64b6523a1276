"""Each LLM API is recognised, parsed and tagged upstream; other paths pass
untouched. Shadow mode with a `tag` rule: the phrase can only be found if
the filter parsed the body in that API's format."""

import json

import pytest

from client import PIPES_ONLY, bearer, post, request

PHRASE = "zebra-protocol-e2e"

PLUGIN_CONFIG = {
    **PIPES_ONLY,
    "mode": "shadow",
    "rules": [{"phrases": [PHRASE], "action": "tag"}],
}

PROMPT = f"Please summarise this. {PHRASE} ok"

# (label, path, body): one request in each API's own format, the phrase in
# the field that API keeps user text in.
CASES = [
    (
        "openai_chat",
        "/v1/chat/completions",
        {"model": "gpt-4o", "messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": PROMPT}]},
    ),
    (
        "openai_responses",
        "/v1/responses",
        {"model": "gpt-4.1", "input": [{"role": "user", "content": [{"type": "input_text", "text": PROMPT}]}]},
    ),
    ("openai_completions", "/v1/completions", {"model": "gpt-3.5-turbo-instruct", "prompt": PROMPT, "max_tokens": 16}),
    (
        "azure_chat",
        "/openai/deployments/my-gpt4o/chat/completions?api-version=2024-10-21",
        {"messages": [{"role": "user", "content": [{"type": "text", "text": PROMPT}]}]},
    ),
    (
        "anthropic_messages",
        "/v1/messages",
        {
            "model": "claude-sonnet-4-5",
            "max_tokens": 64,
            "system": "be brief",
            "messages": [{"role": "user", "content": [{"type": "text", "text": PROMPT}]}],
        },
    ),
    (
        "gemini_generate",
        "/v1beta/models/gemini-2.0-flash:generateContent",
        {"contents": [{"role": "user", "parts": [{"text": PROMPT}]}], "generationConfig": {"maxOutputTokens": 32}},
    ),
    (
        "gemini_stream",
        "/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse",
        {"contents": [{"role": "user", "parts": [{"text": PROMPT}]}]},
    ),
]


@pytest.mark.parametrize("label,path,body", CASES, ids=[c[0] for c in CASES])
def test_api_is_parsed_and_tagged_upstream(envoy, label, path, body):
    before = envoy.counter(f"api.{label}")
    r = post(envoy.port, path, body, bearer(f"sk-e2e-{label}"))
    assert r.status == 200, r.body[:300]
    assert r.upstream_saw("x-distill-guard-action") == "tag"
    assert r.upstream_saw("x-distill-guard-mode") == "shadow"
    score = r.upstream_saw("x-distill-guard-score")
    assert score is not None and 0.0 <= float(score) <= 1.0
    assert "operator_rule" in (r.upstream_saw("x-distill-guard-reasons") or "").split(",")
    assert envoy.counter(f"api.{label}") == before + 1


@pytest.mark.parametrize("label,path,body", CASES[:1] + CASES[4:6], ids=["openai_chat", "anthropic", "gemini"])
def test_without_the_phrase_nothing_is_added(envoy, label, path, body):
    clean = json.loads(json.dumps(body).replace(PHRASE, "giraffe"))
    before = envoy.counter(f"api.{label}")
    r = post(envoy.port, path, clean, bearer("sk-e2e-clean"))
    assert r.status == 200
    assert not [h for h in r.headers if h.startswith("x-upstream-saw-x-distill-guard")], r.headers
    assert envoy.counter(f"api.{label}") == before + 1


@pytest.mark.parametrize(
    "method,path",
    [
        ("GET", "/v1/models"),
        ("POST", "/v1/embeddings"),
        ("POST", "/v1/messages/count_tokens"),
        ("GET", "/v1/chat/completions"),
    ],
)
def test_non_llm_paths_pass_untouched(envoy, method, path):
    before = envoy.counter("passthrough")
    requests_before = envoy.counter("requests")
    body = {"input": PROMPT, "model": "text-embedding-3-small"} if method == "POST" else None
    r = request(envoy.port, method, path, body, bearer("sk-e2e-pass"))
    assert r.status == 200, r.body[:300]
    assert not [h for h in r.headers if h.startswith("x-upstream-saw-x-distill-guard")], r.headers
    if method == "POST":
        assert r.json().get("upstream_body_bytes") == len(json.dumps(body).encode()), "body altered"
    assert envoy.counter("passthrough") == before + 1
    assert envoy.counter("requests") == requests_before


def test_filter_state_reaches_the_access_log(envoy):
    r = post(envoy.port, "/v1/chat/completions", {"messages": [{"role": "user", "content": PROMPT}]}, bearer("sk-al"))
    assert r.status == 200
    before = len(envoy.access_log().splitlines())
    r2 = post(envoy.port, "/v1/models", {"x": 1})
    assert r2.status == 200
    # Lines come in request order once flushed: wait for the second one.
    lines = [line for line in envoy.access_log_lines(at_least=before + 2) if "action=tag" in line]
    assert lines, envoy.access_log()[-2000:]
    assert "reasons=operator_rule" in lines[-1]
    identity = lines[-1].rsplit("identity=", 1)[-1].strip()
    assert identity not in ("", "-") and "sk-al" not in identity
