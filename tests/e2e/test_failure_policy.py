"""What a failed Wasm VM does to traffic, with the shipped configuration's
`failure_policy: FAIL_OPEN` (envoy/envoy.template.yaml), in the real Envoy.

The shipped module has no way to make it trap on purpose (and must not), so
the trap comes from a stand-in module (tests/e2e/trap_module.py) loaded
through the same template: its request-headers callback executes
`unreachable`, which is what a panic becomes in a `panic = "abort"` build,
when a request has many headers. What Envoy 1.40 does, measured here:

- FAIL_OPEN (shipped): the request that trapped is answered 503; every later
  request on that worker goes through without the filter. Envoy logs the
  trap at error level; no Envoy counter names the bypass, so the filter's
  own counters are the alarm: every request through a live filter counts
  once in `requests` or `passthrough`, so their sum falling behind
  `http.ingress.downstream_rq_total` means requests skipped a failed VM
  (the last test shows the sum matches while the filter is healthy).
- Envoy's default, FAIL_CLOSED: 503 for every request from then on.
- FAIL_RELOAD: 503 while Envoy backs off, then a fresh VM runs the filter
  again (`wasm.<name>.vm_reload_success`).

A configuration the filter refuses is the other failure: at start Envoy
exits (test_bad_config.py); on a reload the old listener keeps deciding
(test_reload.py).
"""

from __future__ import annotations

import time

import pytest

from client import bearer, openai_chat, post, request
from trap_module import TRAP_HEADERS, write

CHAT = "/v1/chat/completions"


def with_policy(policy: str):
    def transform(text: str, _path) -> str:
        assert "failure_policy: FAIL_OPEN" in text, "the shipped template fails open"
        return text.replace("failure_policy: FAIL_OPEN", f"failure_policy: {policy}")

    return transform


@pytest.fixture(scope="module")
def trap_wasm(workdir):
    return write(workdir / "trap.wasm")


def send(port: int, trap: bool = False) -> int:
    headers = bearer("sk-failure-test")
    if trap:
        headers.update({f"x-pad-{i}": "1" for i in range(TRAP_HEADERS + 5)})
    return post(port, CHAT, openai_chat("hello"), headers).status


def trapped_log(e) -> bool:
    return "proxy_on_request_headers failed: Uncaught RuntimeError: unreachable" in e.log()


def test_shipped_policy_fails_open_after_a_trap(envoy_factory, trap_wasm):
    # One worker, so the request after the trap meets the failed VM.
    e = envoy_factory("{}", wasm_path=trap_wasm, concurrency=1)
    assert send(e.port) == 200, "the stand-in passes requests until it traps"
    assert send(e.port, trap=True) == 503
    assert trapped_log(e), "the trap is logged"
    assert [send(e.port) for _ in range(5)] == [200] * 5, "later requests go through"
    stats = e.stats()
    assert stats["http.ingress.downstream_rq_5xx"] == 1


def test_envoy_default_fails_closed(envoy_factory, trap_wasm):
    e = envoy_factory("{}", wasm_path=trap_wasm, concurrency=1, transform=with_policy("FAIL_CLOSED"))
    assert send(e.port) == 200
    assert send(e.port, trap=True) == 503
    assert [send(e.port) for _ in range(3)] == [503] * 3


def test_fail_reload_recovers_with_a_fresh_vm(envoy_factory, trap_wasm):
    e = envoy_factory("{}", wasm_path=trap_wasm, concurrency=1, transform=with_policy("FAIL_RELOAD"))
    assert send(e.port) == 200
    assert send(e.port, trap=True) == 503
    # Envoy backs off before reloading; bounded wait for the fresh VM.
    deadline = time.monotonic() + 20
    statuses = []
    while time.monotonic() < deadline:
        statuses.append(send(e.port))
        if statuses[-1] == 200:
            break
        time.sleep(0.5)
    assert statuses[-1] == 200, statuses
    assert set(statuses[:-1]) <= {503}, statuses
    assert e.stats().get("wasm.distill_guard.vm_reload_success", 0) >= 1


PLUGIN_CONFIG = {"mode": "enforce", "identity": {"secret": "failure-test"}}


def test_filter_counters_account_for_every_request_while_healthy(envoy):
    """The alarm for a failed-open VM: the filter's `requests` +
    `passthrough` equal Envoy's downstream request count while every VM is
    alive; a VM that failed open stops counting."""
    before = envoy.stats()
    for i in range(6):
        post(envoy.port, CHAT, openai_chat(f"question {i}"), bearer(f"sk-health-{i % 2}"))
        request(envoy.port, "GET", f"/static/{i}")
    after = envoy.stats()

    def delta(name: str) -> int:
        return after.get(name, 0) - before.get(name, 0)

    counted = delta("wasmcustom.distill_guard.requests") + delta("wasmcustom.distill_guard.passthrough")
    assert delta("http.ingress.downstream_rq_total") == 12
    assert counted == 12
