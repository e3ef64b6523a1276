"""Backtest on recorded traffic: Envoy with the tap filter of
envoy/snippets/tap.yaml in front of the module records real requests;
`distill-guard import` turns the tap files into a replay trace; `replay`
with the same configuration decides every request as Envoy did (read from
what each client got back: 403, 429, or the tag header the upstream saw)."""

from __future__ import annotations

import json
import subprocess
import time

import pytest
import yaml

import envoy_config
from client import PIPES_ONLY, bearer, post, request
from procs import REPO

SNIPPET = REPO / "envoy" / "snippets" / "tap.yaml"
CLI = REPO / "target" / "debug" / "distill-guard"

CONFIG = {
    **PIPES_ONLY,
    "mode": "enforce",
    "identity": {"secret": "backtest-secret"},
    "body": {"on_parse_error": "tag"},
    "rules": [
        {"phrases": ["block-me-tap"], "action": "block"},
        {"phrases": ["slow-me-tap"], "action": "throttle"},
        {"phrases": ["tag-me-tap"], "action": "tag"},
    ],
}

CALLS = [
    ("/v1/chat/completions", {"model": "gpt-4o", "messages": [{"role": "user", "content": "hello"}]}),
    ("/v1/chat/completions", {"model": "gpt-4o", "messages": [{"role": "user", "content": "x block-me-tap"}]}),
    ("/v1/messages", {"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "x tag-me-tap"}]}),
    ("/v1/messages", {"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "x slow-me-tap"}]}),
    ("/v1beta/models/gemini-2.0-flash:generateContent", {"contents": [{"parts": [{"text": "tag-me-tap"}]}]}),
    ("/v1/responses", {"model": "gpt-4o", "input": "plain question"}),
]


def tap_template(prefix: str) -> str:
    (tap,) = yaml.safe_load(SNIPPET.read_text())
    sink = tap["typed_config"]["common_config"]["static_config"]["output_config"]["sinks"][0]
    sink["file_per_tap"]["path_prefix"] = prefix
    text = envoy_config.TEMPLATE.read_text()
    at = text.index("          - name: envoy.filters.http.wasm\n")
    return text[:at] + "          - " + json.dumps(tap) + "\n" + text[at:]


@pytest.fixture(scope="module")
def recorded(envoy_factory, workdir):
    taps = workdir / "taps"
    taps.mkdir()
    template = workdir / "tap.template.yaml"
    template.write_text(tap_template(str(taps / "trace")))
    saved = envoy_config.TEMPLATE
    envoy_config.TEMPLATE = template
    try:
        e = envoy_factory(CONFIG)
    finally:
        envoy_config.TEMPLATE = saved
    sent = 0
    for round_ in range(2):
        for i, (path, body) in enumerate(CALLS):
            post(e.port, path, body, bearer(f"sk-tap-{i % 3}"))
            sent += 1
        request(e.port, "POST", "/v1/chat/completions", b"{not json", {**bearer("sk-tap-x"), "content-type": "application/json"})
        sent += 1
    deadline = time.monotonic() + 20
    while len(list(taps.iterdir())) < sent and time.monotonic() < deadline:
        time.sleep(0.1)
    files = sorted(taps.iterdir())
    assert len(files) == sent, f"{len(files)} tap files for {sent} requests"
    return e, taps, sent


def envoy_action(response: dict) -> str:
    if response["status"] == 403:
        return "block"
    if response["status"] == 429:
        return "throttle"
    return response["headers"].get("x-upstream-saw-x-distill-guard-action", "allow")


@pytest.fixture(scope="module")
def cli():
    out = subprocess.run(["cargo", "build", "--quiet", "--bin", "distill-guard"], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    return CLI


def test_import_then_replay_decides_as_envoy_did(recorded, cli, workdir):
    e, taps, sent = recorded
    trace = workdir / "tap-trace.jsonl"
    out = subprocess.run([str(cli), "import", "--out", str(trace), str(taps)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert f"{sent} requests" in out.stderr, out.stderr
    lines = [json.loads(l) for l in trace.read_text().splitlines()]
    assert len(lines) == sent
    assert [l["ts"] for l in lines] == sorted(l["ts"] for l in lines)
    assert all(l["source_ip"] == "127.0.0.1" and l["response"]["status"] in (200, 403, 429) for l in lines)
    # Pseudo-headers have their own fields; the filter's own tags (the tap
    # sees headers as they leave the chain) are not carried over.
    assert all(not k.startswith((":", "x-distill-guard-")) for l in lines for k in l["headers"])
    assert any(l["headers"].get("authorization", "").startswith("Bearer sk-tap") for l in lines)

    config = workdir / "tap-config.json"
    config.write_text(json.dumps(CONFIG))
    decisions = workdir / "tap-decisions.jsonl"
    out = subprocess.run(
        [str(cli), "replay", "--config", str(config), "--trace", str(trace), "--out", str(decisions)],
        capture_output=True, text=True, timeout=60,
    )
    assert out.returncode == 0, out.stderr
    replayed = [json.loads(l)["action"] for l in decisions.read_text().splitlines()]
    in_envoy = [envoy_action(l["response"]) for l in lines]
    assert replayed == in_envoy
    assert set(in_envoy) == {"allow", "tag", "throttle", "block"}


def test_import_errors_name_the_file(cli, workdir):
    bad = workdir / "bad.har"
    bad.write_text('{"log": {"entries": [{"startedDateTime": "later", "request": {"url": "https://a/b"}}]}}')
    out = subprocess.run([str(cli), "import", str(bad)], capture_output=True, text=True, timeout=60)
    assert out.returncode != 0
    assert str(bad) in out.stderr and "entry 0" in out.stderr, out.stderr
    out = subprocess.run([str(cli), "import", "--help"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "import" in out.stdout and "HAR" in out.stdout
    # Every subcommand answers --help instead of complaining about its arguments.
    for cmd in ("replay", "simulate", "evaluate", "identity", "check-config", "report"):
        out = subprocess.run([str(cli), cmd, "--help"], capture_output=True, text=True, timeout=60)
        assert out.returncode == 0 and "usage" in out.stdout, (cmd, out.stderr)
