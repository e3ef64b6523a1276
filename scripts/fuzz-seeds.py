#!/usr/bin/env python3
"""Seeds for the fuzz targets (fuzz/fuzz_targets) from a replay trace
(trace-format.md, `.jsonl` or `.jsonl.gz`), e.g. one the simulator wrote.

    scripts/fuzz-seeds.py TRACE OUTDIR [--max N]

Writes OUTDIR/<target>/<n> for the targets that read requests:
  engine, identity  the request in the text form of fuzz/src/lib.rs
  body_parse        API byte, cut byte, encoding byte, then the body
  body_prefix       coding byte, cap byte, chunking byte, the body (every
                    third one gzip-compressed)
  trace             runs of a few consecutive trace lines
Up to N requests (default 300), spread over the trace and over APIs.
"""

from __future__ import annotations

import argparse
import base64
import gzip
import json
from pathlib import Path

# Same order as PATHS in fuzz/fuzz_targets/body_parse.rs.
BODY_PATHS = [
    ("chat/completions", 0),
    ("v1/responses", 1),
    ("v1/completions", 2),
    ("v1/messages", 3),
    (":streamGenerateContent", 5),
    (":generateContent", 4),
]


def api_index(path: str) -> int:
    p = path.split("?", 1)[0]
    if "/deployments/" in p:
        return 6 if p.endswith("chat/completions") else 7
    if p.endswith("openai/responses"):
        return 8
    for suffix, index in BODY_PATHS:
        if p.endswith(suffix):
            return index
    return 0


def body_bytes(line: dict) -> bytes:
    if "body_base64" in line:
        return base64.b64decode(line["body_base64"])
    return line.get("body", "").encode()


def request_text(line: dict) -> bytes:
    head = [f"{line.get('method', 'POST')} {line['path']}"]
    for name, value in sorted(line.get("headers", {}).items()):
        head.append(f"{name}: {value}")
    if "source_ip" in line:
        head.append(f":source: {line['source_ip']}")
    return ("\n".join(head) + "\n\n").encode() + body_bytes(line)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("trace")
    ap.add_argument("outdir")
    ap.add_argument("--max", type=int, default=300)
    args = ap.parse_args()
    opener = gzip.open if args.trace.endswith(".gz") else open
    with opener(args.trace, "rt", encoding="utf-8") as f:
        raw_lines = [l.rstrip("\n") for l in f if l.strip()]
    step = max(1, len(raw_lines) // args.max)
    picked = raw_lines[::step][: args.max]
    out = Path(args.outdir)
    for target in ("engine", "identity", "body_parse", "body_prefix", "trace"):
        (out / target).mkdir(parents=True, exist_ok=True)
    for n, raw in enumerate(picked):
        line = json.loads(raw)
        (out / "engine" / f"sim-{n}").write_bytes(request_text(line))
        (out / "identity" / f"sim-{n}").write_bytes(request_text(line).split(b"\n\n", 1)[0])
        cut = bytes([api_index(line["path"]), (n * 37) % 256, 0])
        (out / "body_parse" / f"sim-{n}").write_bytes(cut + body_bytes(line))
        body = body_bytes(line)
        if n % 3 == 0:
            head, body = bytes([1, n % 256, (n * 13) % 256]), gzip.compress(body)
        else:
            head = bytes([0, n % 256, (n * 13) % 256])
        (out / "body_prefix" / f"sim-{n}").write_bytes(head + body)
        if n % 10 == 0:
            i = n * step
            (out / "trace" / f"sim-{n}").write_text("\n".join(raw_lines[i : i + 3]) + "\n")
    print(f"fuzz-seeds: {len(picked)} requests from {args.trace} into {out}")


if __name__ == "__main__":
    main()
