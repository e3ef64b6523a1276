#!/usr/bin/env bash
# Floods and poisoning in replay (make bench-flood): the simulator's
# labelled traffic (seed 1, 2 days) replays through the engine while a flood
# runs through the same engine and shared store: a million fresh identities,
# a million distinct templates, a million forged x-forwarded-for addresses
# naming real benign users, and the review's framing attack on the popular
# app (40 made-up keys behind one /24 sending the app's system prompt with
# fresh questions and long outputs), the same framing from a fresh random
# token per request that the upstream answers 401 (framing_refused), and an
# eviction flood aimed at the tables' scale (1.5 templates per template
# slot sent by many accounts, 2 identities per identity slot)
# (src/sim/flood.rs), and the eviction flood again against shrunk tables
# (1,024 / 512 / 256 slots) on a small trace, where it fills every table
# with live clusters and active keys. For each, and without a
# flood for comparison: is each campaign still denied, how many benign
# accounts are denied (must be 0), and the shared data per table after
# 10 k / 100 k / 1 M flood requests. About a minute per flood on one core.
#
#   scripts/bench-flood.sh [--count N] [--config CONFIG] [--days D] [--scale S] [--data DIR]
#
# CONFIG defaults to enforce mode with one trusted x-forwarded-for hop (so
# a forged entry left of the real one is what an attacker controls).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/bench-common.sh

count=${FLOOD_COUNT:-1000000} days=2
while [ $# -gt 0 ]; do
  case "$1" in
    --count) count="$2"; shift 2 ;;
    *) bench_option "$@"; shift "$bench_shift" ;;
  esac
done
[ -d "$data" ] || data=../../shared/data
if [ -z "$config" ]; then
  mkdir -p bench-out
  config=bench-out/flood.json
  echo '{"mode": "enforce", "identity": {"secret": "bench-flood", "trusted_xff_hops": 1}}' >"$config"
fi
bench_setup
trace="$out/flood-base-1-${days}d-x$scale.jsonl.gz"
"$bin" simulate --seed 1 --days "$days" --scale "$scale" --data "$data" --out "$trace"
echo "== bench-flood: base trace seed 1, $days days, scale $scale; $count flood requests each; config $config ($(git rev-parse --short HEAD 2>/dev/null || echo unknown))"
for kind in none identities templates forged_xff framing framing_refused eviction; do
  "$bin" flood --config "$config" --trace "$trace" --kind "$kind" --count "$count" --json >"$out/flood-$kind.json"
done
# The eviction flood at the scale of the tables: shrunk tables (1,024
# identity, 512 template, 256 address-block slots), a smaller trace (seed
# 1, 1 day, scale 0.1) and 24,000 eviction requests fill every table with
# live clusters and active keys (tests/sim_flood.rs runs the same).
small_config="$out/flood-small-tables.json"
echo '{"mode": "enforce", "identity": {"secret": "bench-flood", "trusted_xff_hops": 1}, "detection": {"identity_slots": 1024, "template_slots": 512, "network_slots": 256}}' >"$small_config"
small_trace="$out/flood-small-1-1d-x0.1.jsonl.gz"
"$bin" simulate --seed 1 --days 1 --scale 0.1 --data "$data" --out "$small_trace"
for kind in none eviction; do
  "$bin" flood --config "$small_config" --trace "$small_trace" --kind "$kind" --count 24000 --json >"$out/flood-small-$kind.json"
done
python3 - "$out" <<'PY'
import json, sys
out = sys.argv[1]
kinds = ["none", "identities", "templates", "forged_xff", "framing", "framing_refused", "eviction"]
reports = {k: json.load(open(f"{out}/flood-{k}.json")) for k in kinds}
groups = [g["group"] for g in reports["none"]["quality"]["groups"] if g["class"] == "campaign"]
print()
print("campaign accounts denied % (served % of their requests); benign accounts denied, of all")
print(f"{'flood':<16}" + "".join(f"{g:>22}" for g in groups) + f"{'benign denied':>16}")
for k in kinds:
    q = reports[k]["quality"]
    row = f"{k:<16}"
    for g in (g for g in q["groups"] if g["class"] == "campaign"):
        d = 100 * g["accounts_denied"] / max(1, g["accounts"])
        s = 100 * g["served"] / max(1, g["requests"])
        row += f"{d:>13.1f} ({s:>5.1f})"
    row += f"{q['benign']['accounts_denied']:>9} / {q['benign']['accounts']}"
    app = next((g for g in q["groups"] if g["group"] == "popular_app"), None)
    if app:
        row += f"   popular_app: {app['accounts_denied']} accounts, {app['requests_denied']} requests denied"
    r = reports[k]
    row += f"   flood: {r['flood_requests']:,} sent, {r['flood_denied']:,} denied"
    print(row)
print()
print("at the scale of the tables (1,024 / 512 / 256 slots, seed 1, 1 day, scale 0.1, 24,000 flood requests):")
print("campaign accounts denied (served % of their requests)")
for k in ["none", "eviction"]:
    q = json.load(open(f"{out}/flood-small-{k}.json"))["quality"]
    row = f"{k:<16}"
    for g in (g for g in q["groups"] if g["class"] == "campaign"):
        s = 100 * g["served"] / max(1, g["requests"])
        row += f"{g['group']:>16} {g['accounts_denied']}/{g['accounts']} ({s:.1f}%)"
    row += f"   benign denied {q['benign']['accounts_denied']} / {q['benign']['accounts']}"
    print(row)
print()
print("shared-data values by table (keys / bytes), key text not counted")
for k in kinds[1:]:
    for c in reports[k]["checkpoints"]:
        cells = ", ".join(f"{t['table']} {t['keys']} / {t['value_bytes']:,}" for t in c["tables"])
        total = sum(t["value_bytes"] for t in c["tables"])
        keys = sum(t["key_bytes"] for t in c["tables"])
        print(f"{k:<16} after {c['flood_requests']:>9,}: {total:>10,} B values + {keys:,} B keys  ({cells})")
PY
