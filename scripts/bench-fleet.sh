#!/usr/bin/env bash
# Fleet quality benchmark (make bench-fleet): the default (seed 1) and
# held-out (seed 3) scenarios replayed on 1 host and on N hosts with
# requests spread at random (`request`) or sticky by identity (`account`),
# syncing every S seconds of trace time through the fleet merge (in-memory
# Redis model), each scored against its labels. Prints, per campaign,
# served% and requests to first deny for every fleet size and spread, and
# per benign or look-alike group the accounts denied on the fleet that one
# host would not deny.
#
#   scripts/bench-fleet.sh [--hosts "8 32"] [--sync-secs 5] [--seed N]
#                          [--heldout-seed N] [--only default|heldout]
#                          [--config C] [--days D] [--scale S] [--data DIR]
# (--only: one of the two scenarios, e.g. to run both at once in two
# processes on a machine with cores to spare.)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/bench-common.sh

hosts="8 32" sync=5 seed=1 heldout=3 only=""
while [ $# -gt 0 ]; do
  case "$1" in
    --hosts) hosts="$2"; shift 2 ;;
    --sync-secs) sync="$2"; shift 2 ;;
    --seed) seed="$2"; shift 2 ;;
    --heldout-seed) heldout="$2"; shift 2 ;;
    --only) only="$2"; shift 2 ;;
    *) bench_option "$@"; shift "$bench_shift" ;;
  esac
done

bench_setup
fleet_scenario() {
  local label="$1" s="$2" trace="$out/fleet-$1-$2-${days}d-x$scale.jsonl.gz"
  shift 2
  echo "== $label: seed $s, $days days, scale $scale, sync every ${sync}s, config $config ($(git rev-parse --short HEAD 2>/dev/null || echo unknown))"
  "$bin" simulate "$@" --seed "$s" --days "$days" --scale "$scale" --data "$data" --out "$trace" 2>/dev/null
  local runs=() d="$out/fleet-$label-$s-h1.jsonl"
  "$bin" replay --config "$config" --trace "$trace" --out "$d" 2>/dev/null
  runs+=("1:-:$d")
  for n in $hosts; do
    for spread in request account; do
      d="$out/fleet-$label-$s-h$n-$spread.jsonl"
      "$bin" replay --config "$config" --trace "$trace" --out "$d" \
        --hosts "$n" --spread "$spread" --sync-secs "$sync" 2>"$d.log"
      grep '^fleet:' "$d.log" | sed "s/^/  $spread: /"
      runs+=("$n:$spread:$d")
    done
  done
  python3 scripts/lib/fleet_table.py "$trace" "${runs[@]}"
  echo
}
[ "$only" = heldout ] || fleet_scenario default "$seed"
[ "$only" = default ] || fleet_scenario heldout "$heldout" --scenario heldout
