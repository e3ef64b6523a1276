#!/usr/bin/env bash
# Streaming first byte (issue 8; part of make bench-proxy): how long a
# caller waits for the first event of a streamed answer through Envoy alone,
# the floor filter (benches/floor/) and distill-guard, at one connection.
# Prints figures only; nothing here passes or fails on a timing.
#
#   scripts/bench-proxy-stream.sh [--requests N] [--rounds N] [--module WASM]
#   BENCH_QUICK=1 scripts/bench-proxy-stream.sh    one round of 200 requests
#
# Starts, on free loopback ports, in bench-out/proxy-stream/:
#   - scripts/lib/sse-upstream.py, a model server that streams an OpenAI
#     chat completion (SSE, chunked): the first event at once, four more
#     2 ms apart, then usage and [DONE];
#   - three proxies (--concurrency 2) rendered as in scripts/bench-proxy.sh:
#     `alone`, `floor`, `dg` (enforce mode, default detection).
# Per round, per proxy (the order rotates): scripts/lib/first-byte.py sends
# N streaming requests of ~2 KB (stream: true; keys and client addresses
# varied) one after another on one keep-alive connection after 20
# unrecorded ones, and takes the time from the request sent to the first
# byte of the answer's body. The table gives medians over the rounds of
# each run's p50 and p99, and what the floor and distill-guard add to them.
# Stops only the PIDs it started (bench-out/proxy-stream/*.pid).
set -euo pipefail
cd "$(dirname "$0")/.."

requests=1000 rounds=3 module=""
if [ -n "${BENCH_QUICK:-}" ]; then requests=200 rounds=1; fi
CONFIG='{"mode": "enforce", "identity": {"secret": "bench-secret", "trusted_xff_hops": 1}}'
while [ $# -gt 0 ]; do
  case "$1" in
    --requests) requests="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --module) module="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

source scripts/lib/proxy-common.sh
proxy_prepare bench-out/proxy-stream "$module"
proxies=(alone floor dg)
build_floor
read -r up_port alone_port alone_admin floor_port floor_admin dg_port dg_admin < <(free_ports 7)
declare -A port=([alone]=$alone_port [floor]=$floor_port [dg]=$dg_port)
declare -A admin=([alone]=$alone_admin [floor]=$floor_admin [dg]=$dg_admin)
render_proxies "$up_port" "${proxies[@]}"

setsid python3 scripts/lib/sse-upstream.py "$up_port" >"$work/upstream.log" 2>&1 &
echo $! >"$work/upstream.pid"
for p in "${proxies[@]}"; do start_envoy "$p" "$work/$p.yaml" 2; done
for p in "${proxies[@]}"; do wait_ready "$p" "${admin[$p]}"; done

: >"$work/rows"
: >"$work/load"
order=("${proxies[@]}")
for round in $(seq 1 "$rounds"); do
  echo "round $round: $(uptime | sed 's/.*load average/load average/')" | tee -a "$work/load" >&2
  for p in "${order[@]}"; do
    out=$(timeout 300 python3 scripts/lib/first-byte.py "${port[$p]}" "$requests" 20 "$round")
    echo "$round $p $out" >>"$work/rows"
    echo "  round $round $p: $out" >&2
  done
  order=("${order[@]:1}" "${order[0]}")
done
echo "end: $(uptime | sed 's/.*load average/load average/')" | tee -a "$work/load" >&2

echo
echo "streaming first byte at $(git rev-parse --short HEAD 2>/dev/null || echo unknown); $(nproc) cores"
echo "$rounds rounds of $requests streamed requests (~2 KB, stream: true) at one connection per proxy"
sed 's/^/machine /' "$work/load"
python3 - "$work/rows" <<'EOF2'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    f = line.split()
    rows.setdefault(f[1], []).append(dict(x.split("=", 1) for x in f[2:]))
med = lambda p, k: statistics.median(float(r[k]) for r in rows[p])
print("time to the first byte of the answer, µs (medians over the rounds)")
print(f"{'proxy':<6} {'p50':>7} {'p99':>7} {'+p50 over alone':>16} {'+p99 over alone':>16} {'non200':>7}")
for p in ("alone", "floor", "dg"):
    print(f"{p:<6} {med(p,'p50_us'):>7.0f} {med(p,'p99_us'):>7.0f} {med(p,'p50_us')-med('alone','p50_us'):>+16.0f} "
          f"{med(p,'p99_us')-med('alone','p99_us'):>+16.0f} {sum(int(r['non200']) for r in rows[p]):>7}")
print(f"distill-guard over the floor: p50 {med('dg','p50_us')-med('floor','p50_us'):+.0f} µs, "
      f"p99 {med('dg','p99_us')-med('floor','p99_us'):+.0f} µs (target: ≤ +1000 µs at p99 over Envoy alone)")
EOF2
