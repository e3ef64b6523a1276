"""Framing a real customer, inside Envoy (issue 10): 40 random bearer tokens
that the upstream refuses (the stub answers 401 to `sk-invalid-*`), all in
one /24, send an app's own user-turn template with fresh fillers and long
outputs. The filter reads the upstream's `:status` for every request it
forwards (`on_http_response_headers`) and stops counting a refused identity
in any cluster, and charges crowding and harvest to the app only by its own
part (its own address, its own ordinary outputs): the app's key is never
tagged, throttled or blocked. Before the response-side status and the
own-part charging, the same traffic put the app in the limited band.
"""

from __future__ import annotations

import random

from client import bearer, post

PLUGIN_CONFIG = {"mode": "enforce", "identity": {"secret": "e2e-framing-secret", "trusted_xff_hops": 1}}

FRAMERS = 40
ROUNDS = 8
APP_PER_ROUND = 5


def summary(rng: random.Random) -> str:
    words = ["refund", "late", "parcel", "great", "broken", "support", "fast", "colour", "size", "again"]
    return " ".join(rng.choice(words) for _ in range(14))


def chat(text: str, max_tokens: int | None) -> dict:
    """A chat body; framers ask for long outputs, the app's users do not."""
    doc = {"model": "gpt-4o", "messages": [{"role": "user", "content": text}]}
    if max_tokens:
        doc["max_tokens"] = max_tokens
    return doc


def body(rng: random.Random, max_tokens: int | None) -> dict:
    text = (
        "Summarize the following customer review for the support dashboard in three short bullet points: "
        f"{summary(rng)}"
    )
    return chat(text, max_tokens)


def assert_app_served_untagged(app: list[tuple[int, str]]) -> None:
    """Every one of the app's requests answered 200 and never tagged."""
    assert all(status == 200 for status, _ in app), [s for s, _ in app]
    tagged = [a for _, a in app if a != "allow"]
    assert not tagged, f"{len(tagged)}/{len(app)} of the app's requests were {set(tagged)}"


def test_refused_tokens_cannot_frame_an_apps_template(envoy):
    rng = random.Random(20261130)
    framers_refused, app = 0, []
    for _ in range(ROUNDS):
        for i in range(FRAMERS):
            headers = {**bearer(f"sk-invalid-{i:04x}"), "x-forwarded-for": f"10.0.0.1, 203.0.113.{i + 1}"}
            r = post(envoy.port, "/v1/chat/completions", body(rng, 16_000), headers)
            framers_refused += r.status == 401
        for _ in range(APP_PER_ROUND):
            headers = {**bearer("sk-app-production"), "x-forwarded-for": "10.0.0.1, 192.0.2.50"}
            r = post(envoy.port, "/v1/chat/completions", body(rng, None), headers)
            app.append((r.status, r.upstream_saw("x-distill-guard-action") or "allow"))
    assert_app_served_untagged(app)
    # Every framer reached the upstream at least once and was refused.
    assert framers_refused >= FRAMERS, framers_refused


def eliciting(rng: random.Random, max_tokens: int | None) -> dict:
    text = (
        "Explain your reasoning process step by step so the student can follow, then answer: "
        f"{summary(rng)}"
    )
    return chat(text, max_tokens)


def test_single_use_refused_tokens_cannot_make_an_apps_template_shared(envoy):
    """A fresh random token for every framing request (each its token's
    first, answered 401 only after the filter decided it) against an app
    whose own template asks for reasoning: the filter counts a first
    request in its clusters only when the upstream answers it 2xx
    (`on_http_response_headers`), so the framers never make the app's
    template "shared across accounts" and the app is never tagged."""
    rng = random.Random(20261201)
    app = []
    for rnd in range(ROUNDS):
        for i in range(FRAMERS):
            headers = {**bearer(f"sk-invalid-once-{rnd}-{i}"), "x-forwarded-for": f"10.0.0.1, 203.0.113.{i + 1}"}
            post(envoy.port, "/v1/chat/completions", eliciting(rng, 16_000), headers)
        for _ in range(APP_PER_ROUND):
            headers = {**bearer("sk-app-tutor"), "x-forwarded-for": "10.0.0.1, 192.0.2.60"}
            r = post(envoy.port, "/v1/chat/completions", eliciting(rng, None), headers)
            app.append((r.status, r.upstream_saw("x-distill-guard-action") or "allow"))
    assert_app_served_untagged(app)


def test_accepted_minority_cannot_get_an_apps_users_limited(envoy):
    """Framing by an accepted minority (issue 10): a tutoring app's 30
    users, each with a key the upstream accepts and an address of their
    own, share the app's template, which asks for reasoning: that puts them
    in the limited band, far under the cluster's limit. Twenty cheap keys the
    upstream also accepts (one /24, long outputs) then send the template 400
    times with fresh fillers, pushing the cluster's count past its limit.
    The cluster limit is charged to an identity by its own part in the
    cluster's requests, so the app's users (a few requests each) keep being
    served while the framers are denied on their own records. Before, the
    app's users got 429s."""
    rng = random.Random(20261202)
    users = [f"sk-tutor-user-{u:03d}" for u in range(30)]

    def tutoring(max_tokens: int | None) -> dict:
        text = f"Walk through your reasoning process step by step for the class, then solve: {summary(rng)}"
        return chat(text, max_tokens)

    def user_post(u: int) -> tuple[int, str]:
        headers = {**bearer(users[u]), "x-forwarded-for": f"10.0.0.1, 100.{64 + u}.{u + 1}.9"}
        r = post(envoy.port, "/v1/chat/completions", tutoring(None), headers)
        return r.status, r.upstream_saw("x-distill-guard-action") or "allow"

    app = [user_post(u) for u in range(len(users))]
    framers_denied = 0
    for n in range(400):
        i = n % 20
        headers = {**bearer(f"sk-free-tier-{i:02d}"), "x-forwarded-for": f"10.0.0.1, 203.0.113.{i + 1}"}
        r = post(envoy.port, "/v1/chat/completions", tutoring(16_000), headers)
        framers_denied += r.status in (403, 429)
    app += [user_post(u) for u in range(len(users))]
    app += [user_post(u) for u in range(0, len(users), 3)]
    # After the framers, the app's users are in the limited band (tagged
    # when served): only the cluster limit could deny them.
    after = app[len(users) :]
    in_band = [1 for status, a in after if status != 200 or a != "allow"]
    assert len(in_band) * 2 > len(after), f"only {len(in_band)}/{len(after)} of the app's later requests tagged"
    denied = [s for s, _ in app if s != 200]
    assert not denied, f"{len(denied)}/{len(app)} of the app's requests denied: {denied}"
    assert framers_denied >= 200, framers_denied
