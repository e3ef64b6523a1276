"""Allowlisted callers are never denied: a partner's evaluation key (by the
identity key the filter prints) or a client address block. A `block` rule
in enforce mode then only tags, with `allowlisted` first among the reasons;
everyone else is still blocked."""

import re

import pytest

from client import PIPES_ONLY, bearer, post

BLOCK = "allowlist-block-e2e"
PARTNER_KEY = "sk-partner-eval-0001"
RULES = [{"phrases": [BLOCK], "action": "block"}]

PLUGIN_CONFIG = {**PIPES_ONLY, "mode": "enforce", "identity": {"secret": "e2e-secret"}, "rules": RULES}


def chat(text):
    return {"model": "gpt-4o", "messages": [{"role": "user", "content": text}]}


def identity_key_of(envoy, key: str) -> str:
    """The identity key the filter derives for a credential, read from its
    decision log line (the same for every Envoy with the same secret)."""
    before = len(envoy.log())
    assert post(envoy.port, "/v1/chat/completions", chat("hello"), bearer(key)).status == 200
    found = re.findall(r"distill-guard: identity=(\S+) ", envoy.log()[before:])
    assert len(found) == 1, envoy.log()[before:]
    return found[0]


@pytest.fixture(scope="module")
def partner_envoy(envoy, envoy_factory):
    key = identity_key_of(envoy, PARTNER_KEY)
    assert key.startswith("k:") and PARTNER_KEY not in key
    return envoy_factory({**PLUGIN_CONFIG, "allowlist": {"identities": [key]}})


@pytest.fixture(scope="module")
def loopback_envoy(envoy_factory):
    return envoy_factory({**PLUGIN_CONFIG, "allowlist": {"client_cidrs": ["127.0.0.0/8"]}})


def test_without_allowlist_the_partner_is_blocked(envoy):
    assert post(envoy.port, "/v1/chat/completions", chat(BLOCK), bearer(PARTNER_KEY)).status == 403


def test_allowlisted_identity_is_tagged_not_blocked(partner_envoy):
    r = post(partner_envoy.port, "/v1/chat/completions", chat(BLOCK), bearer(PARTNER_KEY))
    assert r.status == 200, r.body[:300]
    assert r.upstream_saw("x-distill-guard-action") == "tag"
    assert r.upstream_saw("x-distill-guard-reasons").split(",")[:2] == ["allowlisted", "operator_rule"]


def test_other_identities_are_still_blocked(partner_envoy):
    assert post(partner_envoy.port, "/v1/chat/completions", chat(BLOCK), bearer("sk-someone-else")).status == 403


def test_allowlisted_client_cidr_is_never_denied(loopback_envoy):
    r = post(loopback_envoy.port, "/v1/messages", {"model": "c", "max_tokens": 5,
             "messages": [{"role": "user", "content": BLOCK}]}, {"x-api-key": "sk-ant-any"})
    assert r.status == 200, r.body[:300]
    assert r.upstream_saw("x-distill-guard-reasons").split(",")[0] == "allowlisted"
