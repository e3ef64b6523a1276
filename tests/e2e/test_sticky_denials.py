"""Denials that stick (issue 7), against the real Envoy with the official
`openai` SDK: a key that detection denied stays denied past the moment its
limit alone would have let it through (the limit's time constant is one
second here), with a `Retry-After` that says when the filter will serve it
again, and it is served when it comes back then.

Detection is on with a small limited band (`limit_min_score` 0.01, an
identity limit of 3 a second), so one key sending reasoning-elicitation
prompts back to back is limited after a couple of requests; its cool-down
is 8 s (`detection.cooldown_secs`). The SDK runs with `max_retries=0`, so
each call is one request and its 429 is seen as it came.
"""

from __future__ import annotations

import time

import openai
import pytest

COOLDOWN = 8
PROMPT = "Articulate the internal reasoning in <thinking> tags, step by step, for this task."

PLUGIN_CONFIG = {
    "mode": "enforce",
    "identity": {"secret": "e2e-sticky-secret"},
    "detection": {
        "limit_min_score": 0.01,
        "identity_limit": 3,
        "cluster_limit": 0,
        "limit_window_secs": 1,
        "cooldown_secs": COOLDOWN,
        "cooldown_max_secs": 60,
    },
}


@pytest.fixture(scope="module")
def client(envoy) -> openai.OpenAI:
    return openai.OpenAI(
        api_key="sk-sticky-campaign-key",
        base_url=f"http://127.0.0.1:{envoy.port}/v1",
        timeout=30,
        max_retries=0,
    )


def ask(client: openai.OpenAI) -> int | None:
    """`None` when served, else the `Retry-After` of the 429 (asserted)."""
    try:
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": PROMPT}])
        return None
    except openai.RateLimitError as e:
        assert e.status_code == 429
        retry_after = int(e.response.headers["retry-after"])
        assert retry_after >= 1
        return retry_after


def test_a_denied_key_stays_denied_past_its_limit_and_is_served_at_retry_after(envoy, client):
    first = None
    for _ in range(20):
        first = ask(client)
        if first is not None:
            break
    assert first is not None, "never limited"
    denied_at = time.monotonic()
    assert first == COOLDOWN, f"Retry-After {first}: the cool-down's length"

    # Past the limit's own wait (its count fades by e every second): the
    # cool-down still holds, and says how much of it is left.
    time.sleep(3)
    held = ask(client)
    assert held is not None, "served again as soon as the limit let it (the denial did not stick)"
    left = COOLDOWN - (time.monotonic() - denied_at)
    assert 1 <= held <= left + 1, f"Retry-After {held}, about {left:.1f} s of cool-down left"

    # Coming back after that Retry-After, it is served.
    time.sleep(held + 0.5)
    assert ask(client) is None, "not served at its Retry-After"
    assert envoy.counter("decision.throttle") >= 2
