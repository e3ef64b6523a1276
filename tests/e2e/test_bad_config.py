"""A bad plugin configuration is refused. What Envoy 1.40 does when the
filter's `on_configure` returns false for a listener in the static
bootstrap (found by experiment): it logs "Failed to configure base Wasm
plugin", then "Unable to create Wasm plugin distill_guard", and exits with
status 1 before `/ready` ever answers or the listener accepts a connection.
`envoy --mode validate` refuses the same configuration with status 1. The
filter's own log line names the field's path."""

import socket
import subprocess

import pytest

from envoy_config import render_envoy_config
from procs import ENVOY, WASM, free_port

# (id, plugin configuration, field path the log must name, words of the message)
BAD_CONFIGS = [
    (
        "unknown_field",
        {"mode": "enforce", "body": {"max_inspect_byts": 4096}},
        "body.max_inspect_byts",
        ["unknown field", "max_inspect_bytes"],
    ),
    (
        "threshold_order",
        {"thresholds": {"tag": 0.9, "throttle": 0.5, "block": 0.95}},
        "thresholds",
        ["tag <= throttle <= block"],
    ),
    (
        "bad_cidr",
        {"allowlist": {"client_cidrs": ["10.0.0.0/8", "192.168.1.0/33"]}},
        "allowlist.client_cidrs[1]",
        ["192.168.1.0/33"],
    ),
    # Enforce mode with the public built-in secret: refused, not warned.
    (
        "enforce_default_secret",
        {"mode": "enforce"},
        "identity.secret",
        ["enforce mode needs a secret of your own"],
    ),
    # A JWT claim nobody verifies is anyone's to forge.
    (
        "unverified_jwt_claim",
        {"identity": {"secret": "s", "sources": [{"jwt_claim": "sub"}]}},
        "identity.sources[0].verified_by_envoy",
        ["must be true", "jwt_authn"],
    ),
    # Not JSON: no field to name, so the position in the document instead
    # A syntax error concerns the document itself: path `.`.
    ("not_json", "{mode: enforce", ".", ["line 1 column 2"]),
]
IDS = [c[0] for c in BAD_CONFIGS]


def listener_accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.mark.parametrize("name,config,path,words", BAD_CONFIGS, ids=IDS)
def test_bad_configuration_is_refused_and_named(envoy_factory, name, config, path, words):
    e = envoy_factory(config, wait_ready=False)
    assert not e.wait_admin(timeout=20), "Envoy became ready with a bad configuration"
    try:
        rc = e.proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        pytest.fail("Envoy neither served nor exited with a bad configuration")
    assert rc != 0
    assert not listener_accepts(e.port)
    log = e.log()
    lines = [line for line in log.splitlines() if f"invalid configuration at `{path}`" in line]
    assert lines, "the log does not name the field"
    for word in words:
        assert word in lines[0]
    assert "Failed to configure base Wasm plugin" in log
    assert "Unable to create Wasm plugin distill_guard" in log


@pytest.mark.parametrize("name,config,path,words", BAD_CONFIGS[:2], ids=IDS[:2])
def test_validate_mode_refuses_bad_configuration(envoy_factory, name, config, path, words):
    wd = envoy_factory.workdir
    cfg = wd / f"validate-{name}.yaml"
    cfg.write_text(
        render_envoy_config(
            plugin_config=config,
            wasm_path=WASM,
            listen_port=free_port(),
            admin_port=free_port(),
            upstream_port=free_port(),
            access_log_path=wd / "validate-access.log",
        )
    )
    r = subprocess.run(
        [str(ENVOY), "--mode", "validate", "-c", str(cfg), "-l", "info", "--use-dynamic-base-id"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 1, r.stdout[-2000:] + r.stderr[-2000:]
    assert f"invalid configuration at `{path}`" in r.stdout + r.stderr


def test_good_configuration_still_starts(envoy_factory):
    e = envoy_factory({"mode": "enforce", "identity": {"secret": "e2e-secret"}, "allowlist": {"client_cidrs": ["192.168.1.0/24"]}})
    assert e.admin_ready()
