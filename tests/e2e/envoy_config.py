"""Render the shipped Envoy template (envoy/envoy.template.yaml) for one
end-to-end test configuration, so the tests run the same listener, filter
chain, access log and cluster a user runs.

The placeholder contract is documented at the top of the template; it is
implemented here again rather than imported from scripts/render-envoy.py so
that a test can also pass a plugin configuration that is not valid JSON.
Envoy's buffer limits stay at their defaults (1 MiB per connection) on
purpose: the huge-body test proves the filter does not make Envoy buffer a
4 MiB body and answer 413.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = Path(os.environ.get("DG_ENVOY_TEMPLATE", REPO / "envoy" / "envoy.template.yaml"))


def render_envoy_config(
    *,
    plugin_config: dict | str,
    wasm_path: Path,
    listen_port: int,
    admin_port: int,
    upstream_port: int,
    access_log_path: Path,
    extra_clusters: str = "",
    json_access_log_path: Path | None = None,
) -> str:
    """The YAML text of an Envoy bootstrap. `extra_clusters`: YAML list items
    (indented like the template's clusters) appended to `clusters`, which
    the template ends with (e.g. the fleet sync service's cluster)."""
    config_text = plugin_config if isinstance(plugin_config, str) else json.dumps(plugin_config)
    values = {
        "@LISTEN_PORT@": str(listen_port),
        "@ADMIN_PORT@": str(admin_port),
        "@UPSTREAM_PORT@": str(upstream_port),
        "@WASM_PATH@": str(wasm_path),
        # One JSON string literal, which is also a YAML double-quoted scalar.
        "@PLUGIN_CONFIG_JSON@": json.dumps(config_text),
        "@ACCESS_LOG_PATH@": str(access_log_path),
        "@JSON_ACCESS_LOG_PATH@": str(json_access_log_path or "/dev/null"),
    }
    text = TEMPLATE.read_text()
    for key, value in values.items():
        text = text.replace(key, value)
    # A placeholder the template grew that this renderer does not know.
    leftover = re.findall(r"@[A-Z_]+@", text)
    if leftover:
        raise ValueError(f"template placeholders not replaced: {leftover}")
    if extra_clusters:
        text = text.rstrip("\n") + "\n" + extra_clusters.rstrip("\n") + "\n"
    return text
