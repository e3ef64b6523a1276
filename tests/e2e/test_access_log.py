"""The shipped access logs read right: what was done (`action`) and what
enforce mode does or would do (`intended`) are separate fields, with the
mode; the text log and the JSON log (one object a line) carry the same.

A shadow-mode would-be block is forwarded: `action=tag intended=block
mode=shadow` and status 200, never `action=block` beside a 200."""

from __future__ import annotations

import json
import time

import pytest

from client import PIPES_ONLY, bearer, post, request

BLOCK = "block-me-al"
WAIT_S = 25.0  # Envoy flushes access-log files on a timer (~10 s)


def config(mode):
    return {**PIPES_ONLY, "mode": mode, "identity": {"secret": "e2e-secret"}, "rules": [{"phrases": [BLOCK], "action": "block", "reason": "al_rule"}]}


def chat(text):
    return {"model": "gpt-4o", "messages": [{"role": "user", "content": text}]}


@pytest.fixture(scope="module")
def logged(envoy_factory):
    """Both Envoys, each sent: an allowed call, a would-be/real block, and a
    pass-through; then their text and JSON log lines once all are flushed."""
    envoys = {m: envoy_factory(config(m)) for m in ("shadow", "enforce")}
    statuses = {}
    for mode, e in envoys.items():
        statuses[mode] = [
            post(e.port, "/v1/chat/completions", chat("hello"), bearer("sk-al-1")).status,
            post(e.port, "/v1/chat/completions", chat(f"x {BLOCK}"), bearer("sk-al-2")).status,
            request(e.port, "GET", "/healthz").status,
        ]
    out = {}
    deadline = time.monotonic() + WAIT_S
    for mode, e in envoys.items():
        while True:
            text = e.access_log().splitlines()
            js = [json.loads(l) for l in e.json_access_log().splitlines() if l.strip()]
            # +1 each: the readiness probe's /healthz.
            if (len(text) >= 4 and len(js) >= 4) or time.monotonic() > deadline:
                break
            time.sleep(0.25)
        out[mode] = (text, js)
    return statuses, out


def fields(line: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in line.split() if "=" in part)


def test_shadow_forwarded_block_reads_as_tag_intended_block(logged):
    statuses, out = logged
    assert statuses["shadow"] == [200, 200, 200]
    text, js = out["shadow"]
    blocked = [fields(l) for l in text if "al_rule" in l]
    assert len(blocked) == 1, text
    assert blocked[0]["action"] == "tag" and blocked[0]["intended"] == "block" and blocked[0]["mode"] == "shadow"
    assert " 200 " in [l for l in text if "al_rule" in l][0]
    assert not [l for l in text if "action=block" in l and " 200 " in l], text

    (j,) = [j for j in js if j["distill_guard"]["reasons"] == "al_rule"]
    assert j["status"] == 200 and j["method"] == "POST" and j["path"] == "/v1/chat/completions"
    dg = j["distill_guard"]
    assert (dg["action"], dg["intended"], dg["mode"]) == ("tag", "block", "shadow")
    assert dg["identity"].startswith("k:") and "sk-al" not in json.dumps(j)
    assert float(dg["score"]) >= 0


def test_enforce_block_reads_as_block(logged):
    statuses, out = logged
    assert statuses["enforce"] == [200, 403, 200]
    text, js = out["enforce"]
    (blocked,) = [fields(l) for l in text if "al_rule" in l]
    assert (blocked["action"], blocked["intended"], blocked["mode"]) == ("block", "block", "enforce")
    (j,) = [j for j in js if j["distill_guard"]["reasons"] == "al_rule"]
    assert j["status"] == 403
    assert (j["distill_guard"]["action"], j["distill_guard"]["intended"]) == ("block", "block")


def test_allowed_and_passthrough_lines(logged):
    _, out = logged
    for mode, (text, js) in out.items():
        allowed = [j for j in js if j["path"] == "/v1/chat/completions" and j["distill_guard"]["reasons"] != "al_rule"]
        assert len(allowed) == 1, js
        assert (allowed[0]["distill_guard"]["action"], allowed[0]["distill_guard"]["intended"]) == ("allow", "allow")
        assert allowed[0]["distill_guard"]["mode"] == mode
        # Not an LLM API call: the filter sets nothing; JSON says null.
        health = [j for j in js if j["path"] == "/healthz"]
        assert health and all(v is None for v in health[-1]["distill_guard"].values()), health
