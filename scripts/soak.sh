#!/usr/bin/env bash
# Soak (make soak; not part of make test): Envoy with the filter (enforce
# mode, default detection) under a steady load for SOAK_SECS (default one
# hour), sampled every SOAK_SAMPLE seconds (default 60): throughput and
# latency of that interval, Envoy's RSS, and the shared data's footprint
# (the filter's `shared_data.keys_created` / `.bytes_created` counters,
# summed over workers). Prints a table, then whether RSS and shared-data
# bytes stayed flat (within +-5% of their mean) after the warm-up (the
# first third of the run, at least one sample). Prints figures; a growing
# footprint is reported, never turned into a pass or fail.
#
#   SOAK_SECS=600 scripts/soak.sh [--config JSON] [--keys N] [--connections N] [--pause-ms MS]
#                                 [--module PATH] [--sizes "1500 65536 1048576"] [--out DIR]
#
# --module: that module instead of a fresh release build (to compare two,
# e.g. two allocators, run one soak each, with different --out folders).
# --sizes: body sizes; the first is the load described below and the
# table's latency, every further size adds one more wrk (one connection,
# five times the pause) so large bodies mix in. The `wasm_KiB` column is
# the filter Envoy's Wasm memories summed over its VMs (the allocators'
# high-water marks), `wasm_rss` how much of them is resident (wasm_kib).
#
# Load: wrk, one thread, 4 connections, each pausing 20 ms before every
# request (about 150 requests/s here, so the soak does not hog the
# machine), benches/proxy/openai_chat.lua with 1.5 KB bodies and 1,000,000
# API keys: most requests come from a key not seen for a long time, so the
# identity, template and address tables fill up during the warm-up and
# must then stay at their bound. Upstream: a fixed reply from a second
# Envoy. Output in bench-out/soak/; stops only the PIDs it started.
set -euo pipefail
cd "$(dirname "$0")/.."

secs=${SOAK_SECS:-3600} sample=${SOAK_SAMPLE:-60}
keys=1000000 connections=4 pause=20
module="" sizes=1500 outdir=bench-out/soak
CONFIG='{"mode": "enforce", "identity": {"secret": "soak", "trusted_xff_hops": 1}}'
while [ $# -gt 0 ]; do
  case "$1" in
    --config) CONFIG="$2"; shift 2 ;;
    --keys) keys="$2"; shift 2 ;;
    --connections) connections="$2"; shift 2 ;;
    --pause-ms) pause="$2"; shift 2 ;;
    --module) module="$2"; shift 2 ;;
    --sizes) sizes="$2"; shift 2 ;;
    --out) outdir="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

source scripts/lib/proxy-common.sh
proxy_prepare "$outdir" "$module"
read -r size extra_sizes <<<"$sizes"
read -r up_port up_admin dg_port dg_admin < <(free_ports 4)
write_upstream "$work/upstream.yaml" "$up_port" "$up_admin"
python3 scripts/render-envoy.py --config "$CONFIG" --listen-port "$dg_port" --admin-port "$dg_admin" \
  --upstream-port "$up_port" --access-log /dev/null --wasm "$wasm" >"$work/filter.yaml"
start_envoy upstream "$work/upstream.yaml" 1
start_envoy filter "$work/filter.yaml" 2
wait_ready upstream "$up_admin"
wait_ready filter "$dg_admin"

# wasm_kib NAME: "SIZE RSS", the KiB of the process's Wasm memories (their
# memory.size summed over the VMs) and how much of them is resident. V8
# reserves each Wasm memory as one large mapping and opens its pages for
# reading and writing as it grows: the open part is a rw-p mapping right
# before the rest of the reservation (---p, the two together 4 GiB or more).
wasm_kib() {
  python3 - "/proc/$(cat "$work/$1.pid")/smaps" <<'EOF'
import re, sys
maps = []  # [start, end, perms, rss KiB]
for line in open(sys.argv[1]):
    m = re.match(r"([0-9a-f]+)-([0-9a-f]+) (\S+)", line)
    if m:
        maps.append([int(m[1], 16), int(m[2], 16), m[3], 0])
    elif line.startswith("Rss:") and maps:
        maps[-1][3] = int(line.split()[1])
mems = [p for p, n in zip(maps, maps[1:])
        if p[2] == "rw-p" and n[2] == "---p" and p[1] == n[0] and n[1] - p[0] >= 4 << 30]
print(sum(p[1] - p[0] for p in mems) >> 10, sum(p[3] for p in mems))
EOF
}
stat() { # name -> value (0 when absent)
  curl -sf "http://127.0.0.1:$dg_admin/stats?filter=$1" | awk -F': ' -v n="$1" '$1 == n { print $2; f = 1 } END { if (!f) print 0 }'
}
samples=$(( (secs + sample - 1) / sample ))
echo "soak: $samples x ${sample}s, wrk -t1 -c$connections, ${pause} ms pause, $keys keys, bodies $sizes; module $wasm; filter :$dg_port; $(git rev-parse --short HEAD 2>/dev/null || echo unknown); config $CONFIG" >&2
rows="$work/rows.tsv"
printf 'min\treq_s\tp50_ms\tp99_ms\tnon2xx\trss_kib\tsd_keys\tsd_bytes\trequests\tdenied\twasm_kib\twasm_rss_kib\n' >"$rows"
printf '%4s %8s %8s %8s %7s %10s %8s %10s %10s %8s %9s %9s\n' min req/s p50_ms p99_ms non2xx rss_KiB sd_keys sd_bytes requests denied wasm_KiB wasm_rss
for i in $(seq 1 "$samples"); do
  extra_pids=()
  for extra in $extra_sizes; do
    timeout $((sample + 30)) wrk -t1 -c1 -d"${sample}s" -s "$LUA" \
      "http://127.0.0.1:$dg_port" -- "$extra" "$keys" "$((pause * 5))" "$i" >/dev/null 2>&1 &
    extra_pids+=($!)
  done
  out=$(timeout $((sample + 30)) wrk -t1 -c"$connections" -d"${sample}s" -s "$LUA" \
    "http://127.0.0.1:$dg_port" -- "$size" "$keys" "$pause" "$i")
  for pid in ${extra_pids[@]+"${extra_pids[@]}"}; do wait "$pid" || true; done
  bench=$(grep '^BENCH' <<<"$out")
  f() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p" <<<"$bench"; }
  rss=$(rss_kib filter)
  read -r wasm_kib wasm_rss < <(wasm_kib filter)
  p="wasmcustom.distill_guard"
  denied=$(( $(stat "$p.decision.throttle") + $(stat "$p.decision.block") ))
  row=$(printf '%s\t%s\t%.2f\t%.2f\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s' "$(awk "BEGIN{printf \"%.1f\", $i * $sample / 60}")" "$(f rps)" \
    "$(awk "BEGIN{print $(f p50_us)/1000}")" "$(awk "BEGIN{print $(f p99_us)/1000}")" "$(f non2xx)" "$rss" \
    "$(stat "$p.shared_data.keys_created")" "$(stat "$p.shared_data.bytes_created")" "$(stat "$p.requests")" "$denied" "$wasm_kib" "$wasm_rss")
  echo "$row" >>"$rows"
  awk -F'\t' '{ printf "%4s %8s %8s %8s %7s %10s %8s %10s %10s %8s %9s %9s\n", $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12 }' <<<"$row"
done

python3 - "$rows" <<'EOF'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
warm = max(1, len(rows) // 3)
after = rows[warm:] or rows[-1:]
print(f"\nafter the warm-up ({warm} of {len(rows)} samples):")
for col, label in (("rss_kib", "Envoy RSS (KiB)"), ("wasm_kib", "Wasm memory (KiB)"), ("wasm_rss_kib", "of it resident"), ("sd_bytes", "shared-data bytes"), ("sd_keys", "shared-data keys")):
    vals = [float(r[col]) for r in after]
    mean = sum(vals) / len(vals)
    lo, hi = min(vals), max(vals)
    spread = max(hi - mean, mean - lo) / mean * 100 if mean else 0.0
    verdict = "flat" if spread <= 5 else "NOT flat"
    print(f"  {label:<20} {lo:>12,.0f} .. {hi:>12,.0f}  (+-{spread:.1f}% of the mean: {verdict})")
p50 = [float(r["p50_ms"]) for r in after]
p99 = [float(r["p99_ms"]) for r in after]
print(f"  p50 latency          {min(p50):.2f} .. {max(p50):.2f} ms; p99 {min(p99):.2f} .. {max(p99):.2f} ms")
print(f"  non-2xx answers (denials) in total: {sum(int(r['non2xx'] or 0) for r in rows)}")
EOF
