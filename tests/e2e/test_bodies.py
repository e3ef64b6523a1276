"""Bodies the filter cannot parse never take it down: each is answered,
counted under `parse_failure.<cause>`, handled as configured (tagged by
default, blocked with `on_parse_error: block` in enforce), and Envoy keeps
serving afterwards."""

import gzip
import json

import pytest

from client import PIPES_ONLY, bearer, post

PLUGIN_CONFIG = {**PIPES_ONLY, "mode": "shadow"}  # body.on_parse_error defaults to `tag`

ENFORCE_BLOCK = {**PIPES_ONLY, "mode": "enforce", "identity": {"secret": "e2e-secret"}, "body": {"on_parse_error": "block"}}

VALID = json.dumps({"model": "gpt-4o", "messages": [{"role": "user", "content": "hello"}]}).encode()

# (id, body, extra headers, expected parse_failure cause or None for "any")
BAD_BODIES = [
    ("malformed", b'{"model": "gpt-4o", "messages": [}', {}, "malformed"),
    ("truncated", VALID[: len(VALID) // 2], {}, None),
    ("not_utf8", b'{"model": "gpt-4o", "messages": [{"role": "user", "content": "\xff\xfe\xc3\x28"}]}', {}, "not_utf8"),
    # A gzip body labelled as such is read (test_compressed.py); unlabelled,
    # or in a coding the filter cannot decode, it is not inspectable.
    ("gzip_unlabelled", gzip.compress(VALID), {}, "compressed"),
    ("brotli", b"\x0b\x80brotli-ish", {"content-encoding": "br"}, "compressed"),
    ("deep_arrays", b"[" * 100_000, {}, "too_deep"),
    ("deep_objects", b'{"a":' * 50_000, {}, "too_deep"),
    ("empty", b"", {}, "empty"),
    ("wrong_shape", b'[1, 2, 3]', {}, None),
]
IDS = [b[0] for b in BAD_BODIES]


def parse_failures(envoy) -> dict[str, int]:
    prefix = "wasmcustom.distill_guard.parse_failure."
    return {k[len(prefix):]: v for k, v in envoy.stats().items() if k.startswith(prefix)}


def grew(before: dict, after: dict) -> dict:
    return {k: after[k] - before.get(k, 0) for k in after if after[k] != before.get(k, 0)}


@pytest.fixture(scope="module")
def enforce_envoy(envoy_factory):
    return envoy_factory(ENFORCE_BLOCK)


@pytest.mark.parametrize("name,body,headers,cause", BAD_BODIES, ids=IDS)
def test_unparseable_body_is_tagged_and_forwarded_intact(envoy, name, body, headers, cause):
    before = parse_failures(envoy)
    r = post(envoy.port, "/v1/chat/completions", body, {"content-type": "application/json", **bearer("sk-b"), **headers})
    assert r.status == 200, r.body[:300]
    assert r.upstream_saw("x-distill-guard-action") == "tag"
    assert "parse_error" in r.upstream_saw("x-distill-guard-reasons").split(",")
    assert r.json()["upstream_body_bytes"] == len(body)
    moved = grew(before, parse_failures(envoy))
    assert sum(moved.values()) == 1, moved
    if cause is not None:
        assert moved == {cause: 1}


@pytest.mark.parametrize("name,body,headers,cause", BAD_BODIES, ids=IDS)
def test_unparseable_body_is_blocked_when_configured(enforce_envoy, name, body, headers, cause):
    before = parse_failures(enforce_envoy)
    r = post(enforce_envoy.port, "/v1/chat/completions", body, {"content-type": "application/json", **headers})
    assert r.status == 403, r.body[:300]
    assert "error" in r.json()
    assert sum(grew(before, parse_failures(enforce_envoy)).values()) == 1


def test_envoy_keeps_serving_after_bad_bodies(envoy, enforce_envoy):
    for e in (envoy, enforce_envoy):
        assert e.proc.poll() is None, "Envoy exited"
        assert e.admin_ready()
        r = post(e.port, "/v1/chat/completions", VALID, bearer("sk-after"))
        assert r.status == 200
        assert r.json()["upstream_body_bytes"] == len(VALID)
    # A panic or trap in the filter kills its VM; Envoy then logs the
    # failed call ("Function: proxy_on_… failed: Uncaught RuntimeError").
    for e in (envoy, enforce_envoy):
        log = e.log()
        for marker in ("panicked", "Uncaught", "Wasm VM failed", "RuntimeError", "unreachable"):
            assert marker not in log, marker
