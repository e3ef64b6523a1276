#!/usr/bin/env bash
# Proxy benchmark (make bench-proxy): what distill-guard costs in a real
# Envoy, against Envoy alone and against the floor filter (benches/floor/:
# hold the headers, read the whole body once, add one header -- what any
# body-reading proxy-wasm filter pays). Prints figures only; nothing here
# passes or fails on a timing.
#
#   scripts/bench-proxy.sh [--duration SECS] [--rounds N] [--sizes "1500 65536 1048576"]
#                          [--threads N] [--connections N] [--config JSON]
#                          [--module WASM] [--compare WASM] [--compare-config JSON]
#   BENCH_QUICK=1 scripts/bench-proxy.sh    one round of 2 s runs (a smoke run)
#
# --module runs that distill-guard module instead of building one; --compare
# adds a fourth proxy, `dg2`, with another distill-guard module (a change
# measured against the module before it in the same run: `dg2/dg` ratios).
# --compare-config gives `dg2` its own filter configuration (with the same
# module as `dg` unless --compare names one): a setting measured alone,
# e.g. --compare-config '{..., "metrics": {"flush_interval_ms": 0}}'.
#
# Starts, on free loopback ports, in bench-out/proxy/:
#   - an upstream Envoy (concurrency 1) answering every request with a fixed
#     OpenAI chat completion (direct_response after a buffer filter, so the
#     request body is read and the connection reused, as a model server
#     would) -- envoy/stub_llm.py would be the bottleneck, not the proxy;
#   - three proxies rendered from envoy/envoy.template.yaml, --concurrency 2:
#     `alone` without the Wasm filter, `floor` with the floor module in its
#     place, `dg` with distill-guard in shadow mode, default detection (plus
#     trusted_xff_hops 1, so the benchmark's client addresses are spread over
#     1,024 /24 blocks as real callers are). Shadow mode because the
#     benchmark's 10,000-odd requests a second over 4,096 keys and one
#     shared template look like a campaign: in enforce mode distill-guard
#     answers about half of them with a local 429, which skips the upstream
#     and the answer's metering and makes it look ~20 µs a request cheaper
#     than the path an operator's forwarded traffic takes (docs/benchmarks.md).
# For each round, each body size, each proxy (the proxies' order rotates
# from round to round): a saturated run (wrk -t2 -c16) and a one-connection
# run (wrk -t1 -c1, its p50 is the latency a lone caller sees), each after a
# short unrecorded warm-up. The machine is shared, so the runs of one size
# are interleaved and the table gives medians over the rounds and ratios
# from the same run; `uptime`'s load average is printed for every round.
# Stops only the PIDs it started (bench-out/proxy/*.pid), also on Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."

duration=5 rounds=3 threads=2 connections=16 warmup=1
sizes="1500 65536 1048576" module="" compare=""
if [ -n "${BENCH_QUICK:-}" ]; then duration=2 rounds=1 warmup=0; fi
CONFIG='{"mode": "shadow", "identity": {"secret": "bench-secret", "trusted_xff_hops": 1}}'
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) duration="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --sizes) sizes="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --connections) connections="$2"; shift 2 ;;
    --config) CONFIG="$2"; shift 2 ;;
    --module) module="$2"; shift 2 ;;
    --compare) compare="$2"; shift 2 ;;
    --compare-config) CONFIG2="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

source scripts/lib/proxy-common.sh
proxy_prepare bench-out/proxy "$module"
proxies=(alone floor dg)
if [ -n "${CONFIG2:-}" ] && [ -z "$compare" ]; then compare=$wasm; fi
[ -z "$compare" ] || proxies+=(dg2)
build_floor
read -r up_port up_admin alone_port alone_admin floor_port floor_admin dg_port dg_admin dg2_port dg2_admin \
  < <(free_ports 10)
declare -A port=([alone]=$alone_port [floor]=$floor_port [dg]=$dg_port [dg2]=$dg2_port)
declare -A admin=([alone]=$alone_admin [floor]=$floor_admin [dg]=$dg_admin [dg2]=$dg2_admin)
write_upstream "$work/upstream.yaml" "$up_port" "$up_admin"
render_proxies "$up_port" "${proxies[@]}"

start_envoy upstream "$work/upstream.yaml" 1
for p in "${proxies[@]}"; do start_envoy "$p" "$work/$p.yaml" 2; done
wait_ready upstream "$up_admin"
for p in "${proxies[@]}"; do wait_ready "$p" "${admin[$p]}"; done
declare -A rss0
for p in "${proxies[@]}"; do rss0[$p]=$(rss_kib "$p"); done

# One wrk run: "round proxy bytes kind threads conns" -> a row in $work/rows.
: >"$work/rows"
run() {
  local round="$1" p="$2" bytes="$3" kind="$4" t="$5" c="$6" out bench
  if [ "$warmup" -gt 0 ]; then
    timeout 30 wrk -t"$t" -c"$c" -d"${warmup}s" -s "$LUA" "http://127.0.0.1:${port[$p]}" -- "$bytes" >/dev/null
  fi
  local ticks0 ticks1
  ticks0=$(cpu_ticks "$p")
  out=$(timeout $((duration + 30)) wrk -t"$t" -c"$c" -d"${duration}s" -s "$LUA" \
    "http://127.0.0.1:${port[$p]}" -- "$bytes")
  ticks1=$(cpu_ticks "$p")
  bench=$(grep '^BENCH' <<<"$out" | sed 's/^BENCH //')
  # The proxy's CPU time (user + system) per request: what the load costs
  # the proxy, less sensitive to other processes than its throughput.
  bench="$bench cpu_us=$(awk -v t=$((ticks1 - ticks0)) -v hz="$(getconf CLK_TCK)" \
    -v b="$bench" 'BEGIN { split(b, f, /[ =]/); printf "%.1f", t * 1e6 / hz / (f[2] > 0 ? f[2] : 1) }')"
  echo "$round $p $bytes $kind $bench" >>"$work/rows"
  echo "  round $round $p ${bytes}B $kind: $bench" >&2
}

: >"$work/load"
echo "bench-proxy: $rounds rounds of ${duration}s runs; alone :$alone_port, floor :$floor_port, dg :$dg_port, upstream :$up_port" >&2
order=("${proxies[@]}")
for round in $(seq 1 "$rounds"); do
  echo "round $round: $(uptime | sed 's/.*load average/load average/')" | tee -a "$work/load" >&2
  for bytes in $sizes; do
    for p in "${order[@]}"; do
      run "$round" "$p" "$bytes" sat "$threads" "$connections"
      run "$round" "$p" "$bytes" one 1 1
    done
  done
  order=("${order[@]:1}" "${order[0]}")
done
echo "end: $(uptime | sed 's/.*load average/load average/')" | tee -a "$work/load" >&2
declare -A rss1
for p in "${proxies[@]}"; do rss1[$p]=$(rss_kib "$p"); done
stats=$(curl -sf "http://127.0.0.1:$dg_admin/stats?filter=wasmcustom" || true)

echo
echo "distill-guard proxy benchmark at $(git rev-parse --short HEAD 2>/dev/null || echo unknown); $(nproc) cores"
echo "$($ENVOY --version 2>/dev/null | grep -o 'version: [^ ]*' | head -1); $rounds rounds, runs of ${duration}s: saturated wrk -t$threads -c$connections, one connection wrk -t1 -c1"
echo "filter config $CONFIG"
printf 'module sizes: distill-guard %d bytes, floor %d bytes\n' "$(wc -c <"$wasm")" "$(wc -c <"$FLOOR")"
[ -z "$compare" ] || printf 'dg2: %s, %d bytes (dg: %s)\n' "$compare" "$(wc -c <"$compare")" "$wasm"
[ -z "${CONFIG2:-}" ] || echo "dg2 filter config $CONFIG2"
sed 's/^/machine /' "$work/load"
echo
python3 - "$work/rows" <<'EOF'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    f = line.split()
    kv = dict(x.split("=", 1) for x in f[4:])
    rows.setdefault((int(f[2]), f[3], f[1]), []).append(kv)
def med(size, kind, proxy, key):
    vals = [float(r[key]) for r in rows.get((size, kind, proxy), [])]
    return statistics.median(vals) if vals else float("nan")
sizes = sorted({k[0] for k in rows})
print("medians over the rounds (req/s saturated; p50/p99 in µs at one connection; the proxy's")
print("CPU time per request, user + system, in the saturated runs and at one connection, where")
print("no batching of events shares a wake-up between requests)")
print(f"{'body':>9} {'proxy':<6} {'req/s':>8} {'1conn p50':>10} {'1conn p99':>10} {'sat p50':>9} {'CPU µs/req':>11} "
      f"{'1conn CPU':>10} {'non2xx':>7}")
for s in sizes:
    for p in ("alone", "floor", "dg", "dg2"):
        if (s, "sat", p) not in rows:
            continue
        non2xx = sum(int(r["non2xx"]) for k in ("sat", "one") for r in rows.get((s, k, p), []))
        print(f"{s:>9} {p:<6} {med(s,'sat',p,'rps'):>8.0f} {med(s,'one',p,'p50_us'):>10.0f} "
              f"{med(s,'one',p,'p99_us'):>10.0f} {med(s,'sat',p,'p50_us'):>9.0f} {med(s,'sat',p,'cpu_us'):>11.0f} "
              f"{med(s,'one',p,'cpu_us'):>10.0f} {non2xx:>7}")
print()
print("ratios and added latency (medians of the rounds; targets in issue 8)")
print(f"{'body':>9} {'thru dg/alone':>14} {'thru dg/floor':>14} {'thru floor/alone':>17} "
      f"{'p50 +dg-alone':>14} {'p50 +dg-floor':>14} {'p50 +floor-alone':>17}")
for s in sizes:
    r = lambda k, p: med(s, k, p, "rps" if k == "sat" else "p50_us")
    print(f"{s:>9} {r('sat','dg')/r('sat','alone'):>14.2f} {r('sat','dg')/r('sat','floor'):>14.2f} "
          f"{r('sat','floor')/r('sat','alone'):>17.2f} {r('one','dg')-r('one','alone'):>+12.0f}µs "
          f"{r('one','dg')-r('one','floor'):>+12.0f}µs {r('one','floor')-r('one','alone'):>+15.0f}µs")
print()
print("per round, saturated req/s dg/floor:", "; ".join(
    f"{s}B " + " ".join(f"{float(d['rps'])/float(f['rps']):.2f}" for d, f in
                         zip(rows.get((s,'sat','dg'), []), rows.get((s,'sat','floor'), [])))
    for s in sizes))
print("CPU per request added over the floor (saturated, medians):", "; ".join(
    f"{s}B dg {med(s,'sat','dg','cpu_us')-med(s,'sat','floor','cpu_us'):+.0f}µs"
    + (f", dg2 {med(s,'sat','dg2','cpu_us')-med(s,'sat','floor','cpu_us'):+.0f}µs" if (s,'sat','dg2') in rows else "")
    for s in sizes))
print("CPU per request added over the floor (one connection, medians):", "; ".join(
    f"{s}B dg {med(s,'one','dg','cpu_us')-med(s,'one','floor','cpu_us'):+.0f}µs"
    + (f", dg2 {med(s,'one','dg2','cpu_us')-med(s,'one','floor','cpu_us'):+.0f}µs" if (s,'one','dg2') in rows else "")
    for s in sizes))
if any(k[2] == "dg2" for k in rows):
    print("dg2 against dg:", "; ".join(
        f"{s}B thru {med(s,'sat','dg2','rps')/med(s,'sat','dg','rps'):.2f}, "
        f"1conn p50 {med(s,'one','dg2','p50_us')-med(s,'one','dg','p50_us'):+.0f}µs" for s in sizes))
    print("per round, saturated req/s dg2/dg:", "; ".join(
        f"{s}B " + " ".join(f"{float(d['rps'])/float(f['rps']):.2f}" for d, f in
                             zip(rows.get((s,'sat','dg2'), []), rows.get((s,'sat','dg'), [])))
        for s in sizes))
EOF
echo
printf 'Envoy RSS (VmRSS, KiB, at ready -> after the runs):'
for p in "${proxies[@]}"; do printf ' %s %d -> %d' "$p" "${rss0[$p]}" "${rss1[$p]}"; done
echo
echo
echo "distill-guard counters at the end (all runs, warm-ups included):"
grep -v ': 0$' <<<"$stats" | grep -v 'processing_time\|score_percent' | sed 's/^/  /'
