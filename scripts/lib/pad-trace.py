#!/usr/bin/env python3
"""Pads the request bodies of a trace (trace-format.md) the way a distiller
would to push its prompt past the inspection cap: each JSON body becomes `{`
+ PAD bytes of whitespace + the rest of the body (the same JSON value to the
upstream). Reads a trace (plain or .gz, or `-` for stdin) and writes the
padded trace to stdout, line for line, so `evaluate` can score the padded
run's decisions against the original trace's labels.

    pad-trace.py TRACE [--bytes N] [--all] [--kind space|newline|mixed]

Only lines labelled `campaign` are padded unless --all is given (benign
clients have no reason to pad).
"""

import argparse
import gzip
import json
import sys


def open_trace(path):
    if path == "-":
        return sys.stdin.buffer
    return gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("trace")
    ap.add_argument("--bytes", type=int, default=300 * 1024)
    ap.add_argument("--all", action="store_true")
    ap.add_argument("--kind", choices=["space", "newline", "mixed"], default="mixed")
    a = ap.parse_args()
    pad = {"space": " ", "newline": "\n", "mixed": " \t\r\n"}[a.kind]
    pad = (pad * (a.bytes // len(pad) + 1))[: a.bytes]
    out = sys.stdout
    padded = lines = 0
    for raw in open_trace(a.trace):
        lines += 1
        line = json.loads(raw)
        body = line.get("body")
        campaign = (line.get("label") or {}).get("class") == "campaign"
        if isinstance(body, str) and body.startswith("{") and (a.all or campaign):
            line["body"] = "{" + pad + body[1:]
            padded += 1
        out.write(json.dumps(line, separators=(",", ":")))
        out.write("\n")
    print(f"pad-trace: padded {padded} of {lines} bodies with {a.bytes} bytes ({a.kind})", file=sys.stderr)


if __name__ == "__main__":
    main()
