#!/usr/bin/env python3
"""Response-side benchmark: Envoy's RSS while the filter reads long SSE
answers (issue 7). Starts the stub upstream and one Envoy with the release
module (enforce mode, detection on), sends ROUNDS streams of SIZE bytes
each through it, checks every byte arrived intact, and prints Envoy's RSS
before, after each round and at the end, with the tokens the filter
counted. Memory that stays flat across rounds is what the bounded reader
promises (one SSE event held per stream, never the answer).

    .venv/bin/python scripts/bench-response.py [--size-mb 10] [--rounds 5]
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "e2e"))
from procs import Envoy, Stub, new_workdir  # noqa: E402


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def stream(port: int, size: int) -> tuple[int, float, float, bool]:
    """(bytes, seconds to first byte, seconds in all, intact)."""
    body = json.dumps({"model": "gpt-4o", "stream": True, "messages": [{"role": "user", "content": "hi"}]})
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    t0 = time.monotonic()
    conn.request("POST", "/v1/chat/completions", body, {"content-type": "application/json",
                 "authorization": "Bearer sk-bench-response", "x-stub-stream-bytes": str(size)})
    resp = conn.getresponse()
    first = resp.read(1)
    t_first = time.monotonic() - t0
    digest = hashlib.sha256(first)
    n = len(first)
    while chunk := resp.read(65536):
        digest.update(chunk)
        n += len(chunk)
    total = time.monotonic() - t0
    intact = digest.hexdigest() == resp.getheader("x-stub-body-sha256")
    conn.close()
    return n, t_first, total, intact


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    p.add_argument("--size-mb", type=float, default=10.0)
    p.add_argument("--rounds", type=int, default=5)
    a = p.parse_args()
    workdir = new_workdir("bench-response")
    stub = Stub.start(workdir)
    envoy = Envoy({"mode": "enforce", "identity": {"secret": "bench-response-secret"}}, stub.port, workdir)
    try:
        envoy.start()
        pid = envoy.proc.pid
        print(f"Envoy RSS before: {rss_kib(pid)} KiB")
        size = int(a.size_mb * 1024 * 1024)
        for i in range(a.rounds):
            n, first, total, intact = stream(envoy.port, size)
            print(f"round {i + 1}: {n} bytes, intact={intact}, first byte {first * 1000:.1f} ms, "
                  f"{n / total / 1e6:.1f} MB/s, Envoy RSS {rss_kib(pid)} KiB")
        stats = envoy.stats()
        tokens = stats.get("wasmcustom.distill_guard.output_tokens.api.openai_chat.action.allow.total", 0)
        overlong = stats.get("wasmcustom.distill_guard.responses.kind.sse_overlong.total", 0)
        print(f"output tokens counted: {tokens}; SSE events past the bound: {overlong}")
    finally:
        envoy.stop()
        stub.stop()


if __name__ == "__main__":
    main()
