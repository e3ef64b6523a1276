#!/usr/bin/env bash
# Host calls per request (issue 8): how many calls of each kind the module
# makes across the Wasm boundary in a real Envoy, per request, at each body
# size. The glue counts every call by kind (src/filter/calls.rs) and logs
# the running totals at debug level from its tick; this script runs one
# proxy (distill-guard in enforce mode, the bench-proxy configuration and
# traffic) with `--component-log-level wasm:debug`, sends each size's load
# in turn and divides the counts' growth by the requests.
#
#   scripts/bench-hostcalls.sh [--seconds N] [--sizes "1500 65536"] [--module WASM] [--config JSON]
#
# At debug level every allowed request also logs its decision line, so the
# `log` column counts one call per request that Envoy's usual levels (info
# and above) do not make. Figures only; nothing passes or fails. Stops only
# the PIDs it started (bench-out/hostcalls/*.pid).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=3 sizes="1500 65536 1048576" module=""
CONFIG='{"mode": "enforce", "identity": {"secret": "bench-secret", "trusted_xff_hops": 1}}'
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --sizes) sizes="$2"; shift 2 ;;
    --module) module="$2"; shift 2 ;;
    --config) CONFIG="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

source scripts/lib/proxy-common.sh
proxy_prepare bench-out/hostcalls "$module"
read -r up_port up_admin dg_port dg_admin < <(free_ports 4)
declare -A port=([dg]=$dg_port) admin=([dg]=$dg_admin)
write_upstream "$work/upstream.yaml" "$up_port" "$up_admin"
render_proxies "$up_port" dg
start_envoy upstream "$work/upstream.yaml" 1
start_envoy dg "$work/dg.yaml" 2 --component-log-level wasm:debug
wait_ready upstream "$up_admin"
wait_ready dg "$dg_admin"

# The totals of every VM's latest line, once the tick (500 ms) has logged.
snapshot() {
  sleep 1.2
  python3 - "$work/dg.log" <<'EOF'
import re, sys
last = {}
for line in open(sys.argv[1], errors="replace"):
    m = re.search(r"host calls vm=(\w+) (.*)", line)
    if m:
        last[m.group(1)] = dict(kv.split("=") for kv in m.group(2).split())
total = {}
for kv in last.values():
    for k, v in kv.items():
        total[k] = total.get(k, 0) + int(v)
print(" ".join(f"{k}={v}" for k, v in total.items()))
EOF
}

: >"$work/rows"
before=$(snapshot)
for bytes in $sizes; do
  timeout $((seconds + 30)) wrk -t1 -c4 -d"${seconds}s" -s "$LUA" "http://127.0.0.1:$dg_port" -- "$bytes" >/dev/null
  after=$(snapshot)
  echo "$bytes|$before|$after" >>"$work/rows"
  before=$after
done

echo "host calls per request at $(git rev-parse --short HEAD 2>/dev/null || echo unknown), module $(wc -c <"$wasm") bytes"
echo "filter config $CONFIG; wrk -t1 -c4 for ${seconds}s per size (bench-proxy's traffic); $(uptime | sed 's/.*load average/load average/')"
python3 - "$work/rows" <<'EOF'
import sys
rows = []
for line in open(sys.argv[1]):
    size, a, b = line.rstrip("\n").split("|")
    a = dict(kv.split("=") for kv in a.split()) if a.strip() else {}
    b = dict(kv.split("=") for kv in b.split())
    rows.append((int(size), {k: int(v) - int(a.get(k, 0)) for k, v in b.items()}))
kinds = [k for k in rows[0][1] if k not in ("requests", "timed_callbacks", "ticks")]
print(f"{'per request':<17}" + "".join(f"{s:>10}" for s, _ in rows))
print(f"{'requests':<17}" + "".join(f"{d['requests']:>10}" for _, d in rows))
print(f"{'(timed callbacks)':<17}" + "".join(f"{d.get('timed_callbacks', 0) / max(d['requests'], 1):>10.2f}" for _, d in rows))
for k in kinds:
    per = [d[k] / max(d["requests"], 1) for _, d in rows]
    if any(p >= 0.005 for p in per):
        print(f"{k:<17}" + "".join(f"{p:>10.2f}" for p in per))
calls = [sum(d[k] for k in kinds if k not in ("shared_bytes", "request_body_bytes", "log")) / max(d["requests"], 1)
         for _, d in rows]
print(f"{'all but log':<17}" + "".join(f"{p:>10.2f}" for p in calls))
EOF
