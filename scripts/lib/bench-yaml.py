#!/usr/bin/env python3
"""Fixes up rendered proxy configurations for the proxy benchmarks
(scripts/bench-proxy.sh, scripts/bench-proxy-stream.sh): for `alone`, drop
the Wasm filter's list item (from its `- name:` line to the router's), so
everything else, access log included, is identical. For all:
%REQ_WITHOUT_QUERY% needs a formatter extension that Envoy 1.40 refuses
without a `formatters:` entry; the log goes to /dev/null here, so the plain
path costs the same.

    bench-yaml.py DIR/alone DIR/floor DIR/dg ...   (each DIR/NAME.yaml)
"""
import sys

for path in sys.argv[1:]:
    path += ".yaml"
    text = open(path).read().replace("%REQ_WITHOUT_QUERY(:PATH)%", "%REQ(:PATH)%")
    lines = text.split("\n")
    if path.endswith("alone.yaml"):
        start = next(i for i, l in enumerate(lines) if "name: envoy.filters.http.wasm" in l)
        end = next(i for i, l in enumerate(lines) if "name: envoy.filters.http.router" in l)
        if not start < end:
            sys.exit("bench-proxy: unexpected template layout")
        lines = lines[:start] + lines[end:]
    open(path, "w").write("\n".join(lines))
