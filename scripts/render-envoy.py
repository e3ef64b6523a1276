#!/usr/bin/env python3
"""Renders envoy/envoy.template.yaml (see the placeholder contract at its top)
for a plugin configuration, ports and module path; prints the YAML.

    scripts/render-envoy.py --config '{"mode": "enforce", "identity": {"secret": "change-me"}}' > .run/envoy.yaml
    scripts/render-envoy.py --config-file my-config.json --listen-port 11000 ...
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TEMPLATE = REPO / "envoy" / "envoy.template.yaml"
WASM = REPO / "target" / "wasm32-wasip1" / "release" / "distill_guard.wasm"


def render(config_json: str, *, listen_port: int, admin_port: int, upstream_port: int,
           wasm_path: Path, access_log_path: str, json_access_log_path: str = "/dev/null") -> str:
    values = {
        "@LISTEN_PORT@": str(listen_port),
        "@ADMIN_PORT@": str(admin_port),
        "@UPSTREAM_PORT@": str(upstream_port),
        "@WASM_PATH@": str(wasm_path),
        # One JSON string literal: valid as a YAML double-quoted scalar.
        "@PLUGIN_CONFIG_JSON@": json.dumps(config_json),
        "@ACCESS_LOG_PATH@": access_log_path,
        "@JSON_ACCESS_LOG_PATH@": json_access_log_path,
    }
    text = TEMPLATE.read_text()
    for key, value in values.items():
        text = text.replace(key, value)
    return text


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    src = p.add_mutually_exclusive_group()
    src.add_argument("--config", default='{"mode": "shadow"}', help="plugin configuration (JSON text)")
    src.add_argument("--config-file", type=Path, help="file holding the plugin configuration (JSON)")
    p.add_argument("--listen-port", type=int, default=10000)
    p.add_argument("--admin-port", type=int, default=9901)
    p.add_argument("--upstream-port", type=int, default=10080)
    p.add_argument("--wasm", type=Path, default=WASM)
    p.add_argument("--access-log", default="/dev/stdout")
    p.add_argument("--json-access-log", default="/dev/null",
                   help="file for the JSON access log (one object a line with the filter's fields)")
    a = p.parse_args()
    config = a.config_file.read_text() if a.config_file else a.config
    try:
        json.loads(config)
    except ValueError as e:
        # Envoy would refuse it too, but later and less clearly.
        sys.exit(f"render-envoy: the plugin configuration is not JSON: {e}")
    sys.stdout.write(render(config, listen_port=a.listen_port, admin_port=a.admin_port,
                            upstream_port=a.upstream_port, wasm_path=a.wasm.resolve(),
                            access_log_path=a.access_log, json_access_log_path=a.json_access_log))


if __name__ == "__main__":
    main()
