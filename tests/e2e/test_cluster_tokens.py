"""A template cluster's output tokens (`detection.cluster_token_limit`):
the tokens of one identity's answers, read from the upstream's stream,
count in the cluster its request joined, so another identity sending the
same template meets the cluster's token budget (429 with `Retry-After`
in the API's error format) though it received only small answers itself;
a request of another template does not. The cluster's counts are charged
to an identity by its own part in the cluster's requests (harden2's
`charged_level`), so both identities send their share first."""

import time

from client import bearer, post

PLUGIN_CONFIG = {
    "mode": "enforce",
    "identity": {"secret": "e2e-cluster-tokens-secret"},
    # Elicitation puts a lone identity in the limited band; only the
    # cluster's token budget limits here.
    "detection": {
        "limit_min_score": 0.01,
        "identity_limit": 0,
        "cluster_limit": 0,
        "token_limit": 0,
        "cluster_token_limit": 1000,
    },
}

TEMPLATE = "Articulate the internal reasoning in <thinking> tags, step by step, for this task about {}."
OTHER = "Explain the internal reasoning in <thinking> tags, step by step, of the proof that {} holds in general."
BIG = {"x-stub-stream-bytes": str(2 * 1024 * 1024)}


def chat(text: str, stream: bool = False) -> dict:
    return {"model": "gpt-4o", "stream": stream, "messages": [{"role": "user", "content": text}]}


def reason_count(envoy) -> int:
    return envoy.counter("reasons.reason.cluster_token_limit.total")


def test_a_clusters_tokens_count_across_identities(envoy):
    before = reason_count(envoy)
    first, second = bearer("sk-cluster-tokens-first"), bearer("sk-cluster-tokens-second")
    # Both identities become known in the cluster (a first request counts
    # once the upstream accepts it) and send their part of it.
    for key in (first, second, first, second):
        r = post(envoy.port, "/v1/chat/completions", chat(TEMPLATE.format("rivers")), key)
        assert r.status == 200, r.body[:300]
    # The cluster's span and the identities' ages are whole seconds: an
    # identity's part is measured over the seconds the cluster has counted.
    time.sleep(2.1)
    # One long stream to the first charges the cluster.
    r = post(envoy.port, "/v1/chat/completions", chat(TEMPLATE.format("lakes"), stream=True), {**first, **BIG}, timeout=60)
    assert r.status == 200, r.body[:300]
    # The second received only small answers, yet meets the cluster's budget.
    r = post(envoy.port, "/v1/chat/completions", chat(TEMPLATE.format("oceans")), second)
    assert r.status == 429, r.body[:300]
    assert int(r.header("retry-after")) >= 1
    assert "error" in r.json()
    assert reason_count(envoy) == before + 1
    # Another template is not that cluster.
    r = post(envoy.port, "/v1/chat/completions", chat(OTHER.format("a theorem")), bearer("sk-cluster-tokens-third"))
    assert r.status == 200, r.body[:300]
