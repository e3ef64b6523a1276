"""A configuration reload in the real Envoy keeps shared data and keeps
deciding. The shipped template's listener is served from a file through LDS
(what a control plane does); the test rewrites the file and Envoy swaps the
listener, and with it the filter's configuration, while running:

- a new plugin configuration takes effect (a rule it adds fires), and the
  counts in shared data survive the swap (an identity at its per-minute
  limit before the reload is still throttled after it; traffic seen before
  creates no new shared-data key, `shared_data.keys_created`);
- a configuration the filter refuses (on_configure returns false) is
  rejected by Envoy (`listener_manager.lds.update_rejected`), and the
  listener already running keeps deciding with the last good configuration.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from client import bearer, openai_chat, post
from envoy_config import render_envoy_config
from procs import immediate_counters

CHAT = "/v1/chat/completions"
# One request a minute: the token bucket refills only after 60 s, longer than
# the reloads below take.
LIMIT = 1
GOOD_A = {"mode": "enforce", "identity": {"secret": "reload-test"}, "limits": {"identity_requests_per_minute": LIMIT}}
GOOD_B = {
    **GOOD_A,
    "rules": [{"phrases": ["reload marker"], "action": "block", "reason": "after_reload"}],
}
BAD = {**GOOD_B, "thresholds": {"tag": 0.9, "throttle": 0.5, "block": 0.95}}

LISTENER_TYPE = "type.googleapis.com/envoy.config.listener.v3.Listener"


def split_listener(text: str) -> tuple[str, str]:
    """(bootstrap without its listeners, the listener as an LDS resource)."""
    start = text.index("  listeners:\n")
    end = text.index("  clusters:\n")
    block = text[start + len("  listeners:\n") : end]
    lines = [line[2:] if line.startswith("  ") else line for line in block.splitlines()]
    assert lines[0] == "- name: main", lines[0]
    lines[0] = f'- "@type": {LISTENER_TYPE}\n  name: main'
    return text[:start] + text[end:], "\n".join(lines) + "\n"


class Lds:
    """The listener file Envoy watches, rewritten atomically (rename)."""

    def __init__(self, directory: Path):
        self.dir = directory
        self.path = directory / "lds.yaml"
        self.version = 0

    def write(self, listener: str) -> None:
        self.version += 1
        tmp = self.dir / f".lds-{self.version}.tmp"
        tmp.write_text(f'version_info: "{self.version}"\nresources:\n{listener}')
        tmp.rename(self.path)

    def transform(self, text: str, cfg_path: Path) -> str:
        bootstrap, listener = split_listener(text)
        self.write(listener)
        return bootstrap + (
            "node: {id: distill-guard-e2e, cluster: distill-guard-e2e}\n"
            "dynamic_resources:\n"
            "  lds_config:\n"
            "    resource_api_version: V3\n"
            "    path_config_source:\n"
            f"      path: {self.path}\n"
            "      watched_directory:\n"
            f"        path: {self.dir}\n"
        )


@pytest.fixture(scope="module")
def lds_envoy(envoy_factory, workdir):
    directory = workdir / "lds"
    directory.mkdir()
    lds = Lds(directory)
    e = envoy_factory(GOOD_A, transform=lds.transform)
    return e, lds


def push(e, lds: Lds, plugin_config: dict, counter: str) -> None:
    """Serves `plugin_config` through LDS and waits (bounded) until Envoy
    counts `listener_manager.lds.<counter>`."""
    _, listener = split_listener(
        render_envoy_config(
            plugin_config=immediate_counters(plugin_config),
            wasm_path=e.wasm_path,
            listen_port=e.port,
            admin_port=e.admin_port,
            upstream_port=e.upstream_port,
            access_log_path=e.access_log_path,
        )
    )
    name = f"listener_manager.lds.{counter}"
    before = e.stats().get(name, 0)
    lds.write(listener)
    deadline = time.monotonic() + 20
    while e.stats().get(name, 0) <= before:
        assert time.monotonic() < deadline, f"{name} did not move:\n{e.log()[-4000:]}"
        time.sleep(0.2)


def status(e, key: str, prompt: str = "what is the capital of France?") -> int:
    return post(e.port, CHAT, openai_chat(prompt), bearer(key)).status


def test_reload_keeps_shared_counts_and_applies_the_new_configuration(lds_envoy):
    e, lds = lds_envoy
    assert [status(e, "sk-reload-limited") for _ in range(LIMIT)] == [200] * LIMIT
    assert status(e, "sk-reload-limited") == 429
    assert status(e, "sk-reload-other", "a reload marker question") == 200, "no rule yet"

    push(e, lds, GOOD_B, "update_success")
    # The new configuration decides: its rule fires.
    deadline = time.monotonic() + 10
    while status(e, "sk-reload-other", "a reload marker question") != 403:
        assert time.monotonic() < deadline, "the rule of the new configuration never fired"
        time.sleep(0.2)
    # The count in shared data survived: still at its limit.
    assert status(e, "sk-reload-limited") == 429
    # The same traffic again finds its records: no shared-data key is created.
    created = e.counter("shared_data.keys_created")
    assert created > 0
    assert status(e, "sk-reload-other", "a reload marker question") == 403
    assert status(e, "sk-reload-limited") == 429
    assert e.counter("shared_data.keys_created") == created
    assert status(e, "sk-reload-fresh") == 200

    push(e, lds, BAD, "update_rejected")
    assert "invalid configuration at `thresholds`" in e.log()
    # The running listener keeps the last good configuration.
    assert status(e, "sk-reload-other", "a reload marker question") == 403
    assert status(e, "sk-reload-limited") == 429
    assert status(e, "sk-reload-fresh-again") == 200
