#!/usr/bin/env bash
# Proxy benchmark (make bench-proxy): what the filter adds to a real Envoy.
# Prints figures only; nothing here passes or fails on a timing.
#
#   scripts/bench-proxy.sh [--duration SECS] [--threads N] [--connections N]
#                          [--config JSON]
#
# Starts, on free loopback ports, in bench-out/proxy/:
#   - an upstream Envoy (concurrency 1) answering every request with a fixed
#     OpenAI chat completion (direct_response after a buffer filter, so the
#     request body is read and the connection reused, as a model server
#     would) -- envoy/stub_llm.py would be the bottleneck, not the proxy;
#   - a baseline Envoy: envoy/envoy.template.yaml without the Wasm filter;
#   - a filtered Envoy: the same template with distill-guard in enforce mode,
#     default detection (plus trusted_xff_hops 1, so the benchmark's client
#     addresses are spread over 1,024 /24 blocks as real callers are).
# Both proxies run --concurrency 2. wrk drives each in turn with
# benches/proxy/openai_chat.lua: ~1.5 KB bodies, then 64 KiB bodies.
# Runs about 4 x (DURATION + 2) seconds plus start-up; stops only the PIDs
# it started (bench-out/proxy/*.pid), also on Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."

duration=10 threads=2 connections=16
CONFIG='{"mode": "enforce", "identity": {"secret": "bench-secret", "trusted_xff_hops": 1}}'
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) duration="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --connections) connections="$2"; shift 2 ;;
    --config) CONFIG="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

source scripts/lib/proxy-common.sh
proxy_prepare bench-out/proxy
read -r up_port up_admin base_port base_admin dg_port dg_admin < <(free_ports 6)
write_upstream "$work/upstream.yaml" "$up_port" "$up_admin"

render() { # port admin out
  python3 scripts/render-envoy.py --config "$CONFIG" --listen-port "$1" --admin-port "$2" \
    --upstream-port "$up_port" --access-log /dev/null >"$3"
}
render "$dg_port" "$dg_admin" "$work/filter.yaml"
render "$base_port" "$base_admin" "$work/baseline.yaml"
# Baseline: drop the Wasm filter's list item (from its `- name:` line to the
# router's), so everything else, access log included, is identical.
# Both: %REQ_WITHOUT_QUERY% needs a formatter extension that Envoy 1.40
# refuses without a `formatters:` entry; the log goes to /dev/null here, so
# the plain path costs the same.
python3 - "$work/baseline.yaml" "$work/filter.yaml" <<'EOF'
import sys
for path in sys.argv[1:]:
    text = open(path).read().replace("%REQ_WITHOUT_QUERY(:PATH)%", "%REQ(:PATH)%")
    lines = text.split("\n")
    if path.endswith("baseline.yaml"):
        start = next(i for i, l in enumerate(lines) if "name: envoy.filters.http.wasm" in l)
        end = next(i for i, l in enumerate(lines) if "name: envoy.filters.http.router" in l)
        if not start < end:
            sys.exit("bench-proxy: unexpected template layout")
        lines = lines[:start] + lines[end:]
    open(path, "w").write("\n".join(lines))
EOF

start_envoy upstream "$work/upstream.yaml" 1
start_envoy baseline "$work/baseline.yaml" 2
start_envoy filter "$work/filter.yaml" 2
wait_ready upstream "$up_admin"
wait_ready baseline "$base_admin"
wait_ready filter "$dg_admin"
rss_base0=$(rss_kib baseline) rss_dg0=$(rss_kib filter)

# One measurement: "label port body_bytes" -> appends a row to $work/rows.
: >"$work/rows"
measure() {
  local label="$1" port="$2" bytes="$3" out
  # A short unrecorded warm-up: connections, V8 tiers, table slots.
  timeout 20 wrk -t"$threads" -c"$connections" -d2s -s "$LUA" "http://127.0.0.1:$port" -- "$bytes" >/dev/null
  out=$(timeout $((duration + 20)) wrk -t"$threads" -c"$connections" -d"${duration}s" -s "$LUA" \
    "http://127.0.0.1:$port" -- "$bytes")
  local bench body
  bench=$(grep '^BENCH' <<<"$out" | sed 's/^BENCH //')
  body=$(grep -m1 '^BODY' <<<"$out" | sed 's/.*mean_bytes=\([0-9]*\).*/\1/')
  echo "$label body=$body $bench" >>"$work/rows"
  echo "  $label ${bytes}B: $bench" >&2
}

echo "bench-proxy: wrk -t$threads -c$connections -d${duration}s per run; baseline :$base_port, filter :$dg_port, upstream :$up_port" >&2
for bytes in 1500 65536; do
  measure baseline "$base_port" "$bytes"
  measure filter "$dg_port" "$bytes"
done
rss_base1=$(rss_kib baseline) rss_dg1=$(rss_kib filter)
stats=$(curl -sf "http://127.0.0.1:$dg_admin/stats?filter=wasmcustom" || true)

# The table.
field() { sed -n "s/.* $2=\([0-9.]*\).*/\1/p" <<<"$1"; }
echo
echo "distill-guard proxy benchmark at $(git rev-parse --short HEAD 2>/dev/null || echo unknown); $(nproc) cores"
echo "$($ENVOY --version 2>/dev/null | grep -o 'version: [^ ]*' | head -1); wrk -t$threads -c$connections -d${duration}s; filter config $CONFIG"
echo "module $wasm: $(wc -c <"$wasm") bytes"
echo
printf '%-8s %-8s %9s %9s %9s %9s %9s %8s\n' body proxy req/s p50_ms p90_ms p99_ms mean_ms non2xx
while read -r label rest; do
  row=" $rest"
  printf '%-8s %-8s %9s %9.2f %9.2f %9.2f %9.2f %8s\n' "$(field "$row" body)B" "$label" "$(field "$row" rps)" \
    "$(awk "BEGIN{print $(field "$row" p50_us)/1000}")" "$(awk "BEGIN{print $(field "$row" p90_us)/1000}")" \
    "$(awk "BEGIN{print $(field "$row" p99_us)/1000}")" "$(awk "BEGIN{print $(field "$row" mean_us)/1000}")" \
    "$(field "$row" non2xx)"
done <"$work/rows"
echo
# Added latency: filter minus baseline, per body size (rows come in pairs).
awk '{ for (i = 2; i <= NF; i++) { split($i, kv, "="); v[NR, kv[1]] = kv[2] } }
  END { for (r = 1; r < NR; r += 2) {
    printf "added by the filter, %sB bodies: p50 %+.2f ms, p90 %+.2f ms, p99 %+.2f ms; throughput %+.1f%%\n",
      v[r, "body"], (v[r+1, "p50_us"] - v[r, "p50_us"]) / 1000, (v[r+1, "p90_us"] - v[r, "p90_us"]) / 1000,
      (v[r+1, "p99_us"] - v[r, "p99_us"]) / 1000, 100 * (v[r+1, "rps"] / v[r, "rps"] - 1) } }' "$work/rows"
echo
printf 'Envoy RSS (VmRSS): baseline %d -> %d KiB, filter %d -> %d KiB (at ready -> after the runs)\n' \
  "$rss_base0" "$rss_base1" "$rss_dg0" "$rss_dg1"
echo
echo "filter counters at the end (all runs, warm-ups included):"
grep -v ': 0$' <<<"$stats" | sed 's/^/  /'
