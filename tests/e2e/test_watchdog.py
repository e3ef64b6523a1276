"""One slow client does not degrade a healthy Envoy for good (issue 10),
inside the real Envoy.

The filter holds an LLM request at its headers until its body is decided,
so that tag headers can be added. Its watchdog (src/stall.rs) resumes a
held request that gets no body callback within a second (an Envoy without
`allow_on_headers_stop_iteration` never calls it) and stops holding: tag
headers are lost from then on. A slow client that sends its headers and
waits looks the same, so one such client used to degrade a healthy VM for
good. Now a degraded VM holds one request every 30 s as a probe, and the
probe getting its body ends the degraded mode.

Deterministic without a test-only hook: one worker (`--concurrency 1`, one
VM), and the first request it ever sees is a slow client whose body comes
2.5 s after its headers, before any request has proven that bodies arrive.
"""

from __future__ import annotations

import http.client
import json
import time

from client import PIPES_ONLY, bearer, post

PHRASE = "kestrel-watchdog-e2e"
PLUGIN_CONFIG = {**PIPES_ONLY, "mode": "shadow", "rules": [{"phrases": [PHRASE], "action": "tag"}]}
CHAT = "/v1/chat/completions"
# src/stall.rs: STALL_SECS and PROBE_SECS.
STALL_SECS = 1.0
PROBE_SECS = 30.0


def body(n: int) -> bytes:
    doc = {"model": "gpt-4o", "messages": [{"role": "user", "content": f"Summarise note {n}. {PHRASE}"}]}
    return json.dumps(doc).encode()


def slow_post(port: int, data: bytes, pause: float) -> int:
    """Headers first, the body `pause` seconds later; the status."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.putrequest("POST", CHAT, skip_accept_encoding=True)
        for k, v in {**bearer("sk-slow-client"), "content-type": "application/json"}.items():
            conn.putheader(k, v)
        conn.putheader("content-length", str(len(data)))
        conn.endheaders()
        time.sleep(pause)
        conn.send(data)
        return conn.getresponse().status
    finally:
        conn.close()


def tagged(envoy, n: int) -> bool:
    """Whether the upstream saw the filter's tag on request `n`."""
    r = post(envoy.port, CHAT, body(n), bearer(f"sk-watchdog-{n}"))
    assert r.status == 200, r.status
    return r.upstream_saw("x-distill-guard-action") == "tag"


def test_a_slow_client_degrades_a_healthy_vm_only_until_the_next_probe(envoy_factory):
    envoy = envoy_factory(PLUGIN_CONFIG, concurrency=1)
    assert slow_post(envoy.port, body(0), pause=STALL_SECS + 1.5) == 200
    degraded_at = time.monotonic()
    assert "got no body callback" in envoy.log()
    # Degraded: requests are decided on their body without holding their
    # headers, so the tag no longer reaches the upstream.
    assert not tagged(envoy, 1)
    # The first request after the probe period is held again as a probe;
    # it gets its body, which proves this Envoy delivers bodies.
    time.sleep(max(0.0, degraded_at + PROBE_SECS + 1.0 - time.monotonic()))
    assert tagged(envoy, 2)
    assert "holding headers again" in envoy.log()
    # And it stays healthy: every later request is held and tagged.
    assert all(tagged(envoy, n) for n in range(3, 8))
