"""Counter increments batched in the VM (`metrics.flush_interval_ms`, issue
8): a request moves ~11 counters, each a `proxy_increment_metric` host call
when sent at once. Batched (the default, 1000 ms), each VM holds the deltas
and its tick sends one increment per counter that moved.

- Every counter still arrives in `/stats`, a tick or two late: polled with a
  bounded wait that fails if it never comes, and then exactly what an Envoy
  with immediate increments (`flush_interval_ms: 0`) counts for the same
  requests, under the same names (flat and labelled).
- Batched, the requests cost far fewer increment calls than the counters
  they move (counted by the glue, src/filter/calls.rs).

(The other end-to-end tests run with `flush_interval_ms: 0` unless their
configuration says otherwise: they read counters right after a request,
and are about something else; see procs.py.)"""

import time

from client import bearer, openai_chat, post
from test_host_calls import totals

REQUESTS = 24
# Counters whose value depends only on the requests sent (not on timing,
# which the detectors' reasons may): they must match between the two Envoys.
EXACT = (
    "requests",
    "requests.total",
    "api.openai_chat",
    "spoofed_header_stripped",
    "decision.allow",
    "responses.kind.usage.total",
)


def send(envoy, what: str) -> None:
    """Answered chat requests from as many keys, each with a spoofed
    `x-distill-guard-*` header (stripped and counted)."""
    for i in range(REQUESTS):
        r = post(
            envoy.port,
            "/v1/chat/completions",
            openai_chat(f"How do I {what} number {i} in Go?"),
            {
                **bearer(f"sk-{what.replace(' ', '-')}-{i:04d}"),
                "x-forwarded-for": f"203.0.113.{i + 1}",
                "x-distill-guard-action": "allow",
            },
        )
        assert r.status == 200


def guard_counters(envoy) -> dict[str, int]:
    prefix = "wasmcustom.distill_guard."
    return {k[len(prefix):]: v for k, v in envoy.stats().items() if k.startswith(prefix)}


def wait_for(envoy, name: str, value: int, timeout: float = 10.0) -> dict[str, int]:
    """The counters once `name` reaches `value`; fails if it does not within
    `timeout` (a flush is due every second)."""
    deadline = time.monotonic() + timeout
    while True:
        counters = guard_counters(envoy)
        if counters.get(name, 0) >= value:
            return counters
        assert time.monotonic() < deadline, f"{name} never reached {value}: {counters}"
        time.sleep(0.1)


CONFIG = {"mode": "shadow", "identity": {"trusted_xff_hops": 1}}


def test_batched_counters_arrive_and_match_immediate_ones(envoy_factory):
    immediate = envoy_factory({**CONFIG, "metrics": {"flush_interval_ms": 0}})
    batched = envoy_factory({**CONFIG, "metrics": {}})  # the default interval
    for envoy in (immediate, batched):
        send(envoy, "rotate a key")
    want = wait_for(immediate, "requests", REQUESTS, timeout=2.0)
    got = wait_for(batched, "requests", REQUESTS)
    # Token counts come from the answer, after the request: the last one's
    # may land a flush later.
    want = wait_for(immediate, "responses.kind.usage.total", REQUESTS, timeout=2.0)
    got = wait_for(batched, "responses.kind.usage.total", REQUESTS)
    for name in EXACT:
        assert got.get(name) == want.get(name) == REQUESTS, (name, got, want)
    assert got["output_tokens.api.openai_chat.action.allow.total"] == want[
        "output_tokens.api.openai_chat.action.allow.total"
    ] > 0
    # The same names: batching renames nothing and defines nothing new.
    assert set(got) == set(want), set(got) ^ set(want)


def test_batched_counters_cost_few_increment_calls(envoy_factory):
    per: dict[int, float] = {}
    for interval in (0, 1000):
        envoy = envoy_factory({**CONFIG, "metrics": {"flush_interval_ms": interval}}, concurrency=1)
        send(envoy, f"list buckets {interval}")
        wait_for(envoy, "responses.kind.usage.total", REQUESTS)
        t = totals(envoy, REQUESTS)
        per[interval] = t["increment_metric"] / t["requests"]
    # At once, each request moves several counters (requests under two
    # names, api, decision, reasons, spoofed header, tokens, answer kind).
    assert per[0] >= 5, per
    # Batched: one call per counter that moved per flush, whatever the
    # number of requests in between.
    assert per[1000] <= per[0] / 3, per
