"""`identity.organization` in a real Envoy: the keys of one customer (named
in `openai-organization`) sending the customer's own template are one
account to the cross-account signals, so the template is not read as
shared across accounts and none of them is denied; keys with no
organisation sending a template the same way are read as sharing it.

Both populations send a reasoning-eliciting template with fresh fillers,
round-robin over 40 keys from one /24 each (the shape of a product's
backend, and of a campaign): only the organisation tells them apart."""

from __future__ import annotations

import random

from client import bearer, post

PLUGIN_CONFIG = {
    "mode": "enforce",
    "identity": {
        "secret": "e2e-secret",
        "trusted_xff_hops": 1,
        "organization": [{"header": "openai-organization"}],
    },
}

KEYS = 40
PASSES = 3
SHARED = "template_shared_across_accounts"
WORDS = ("invoice refund delivery password account late broken charge upgrade cancel screen battery "
         "login address parcel warranty discount coupon subscription printer router email order").split()


def send_population(envoy, key_prefix: str, org: str | None, block: str, template: str, seed: int):
    rng = random.Random(seed)
    answers = []
    for _ in range(PASSES):
        for k in range(KEYS):
            ticket = " ".join(rng.choice(WORDS) for _ in range(14))
            body = {"model": "gpt-4o", "max_tokens": 2048,
                    "messages": [{"role": "user", "content": template.format(ticket)}]}
            headers = {**bearer(f"{key_prefix}-{k}"), "x-forwarded-for": f"{block}.{10 + k % 4}"}
            if org:
                headers["openai-organization"] = org
            answers.append(post(envoy.port, "/v1/chat/completions", body, headers))
    return answers


def read_as_shared(r) -> bool:
    return SHARED in (r.upstream_saw("x-distill-guard-reasons") or "")


def test_one_organisations_keys_are_one_account(envoy):
    answers = send_population(
        envoy, "sk-acme", "org-acme", "52.14.9",
        "Explain your reasoning step by step, then classify this support ticket: {}", seed=1)
    assert [r.status for r in answers if r.status != 200] == []
    assert not any(read_as_shared(r) for r in answers)


def test_keys_without_an_organisation_are_read_as_sharing(envoy):
    answers = send_population(
        envoy, "sk-loose", None, "61.20.4",
        "Think it through step by step and explain your reasoning, then summarise this complaint: {}", seed=2)
    assert any(read_as_shared(r) or r.status in (403, 429) for r in answers)
