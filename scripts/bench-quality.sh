#!/usr/bin/env bash
# Quality benchmark (make bench-quality): simulate labelled traffic with a
# fixed seed, replay it through the engine, score the decisions against the
# labels. A second seed is held-out data the defaults were not tuned on.
#
#   scripts/bench-quality.sh [--config CONFIG] [--seed N] [--heldout-seed N]
#                            [--days D] [--scale S] [--data DIR] [--json]
#
# CONFIG defaults to {"mode": "enforce"}: the shipped defaults.
set -euo pipefail
cd "$(dirname "$0")/.."

config="" seed=1 heldout=2 days=3 scale=1 data="../shared/data" json=""
while [ $# -gt 0 ]; do
  case "$1" in
    --config) config="$2"; shift 2 ;;
    --seed) seed="$2"; shift 2 ;;
    --heldout-seed) heldout="$2"; shift 2 ;;
    --days) days="$2"; shift 2 ;;
    --scale) scale="$2"; shift 2 ;;
    --data) data="$2"; shift 2 ;;
    --json) json="--json"; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

out=bench-out
mkdir -p "$out"
if [ -z "$config" ]; then
  config="$out/enforce.json"
  echo '{"mode": "enforce"}' > "$config"
fi

cargo build --release --quiet --bin distill-guard
bin=target/release/distill-guard

run() {
  local label="$1" s="$2"
  local trace="$out/trace-$s-${days}d-x$scale.jsonl.gz" decisions="$out/decisions-$s.jsonl"
  echo "== $label: seed $s, $days days, scale $scale, config $config ($(git rev-parse --short HEAD 2>/dev/null || echo unknown))"
  if [ ! -s "$trace" ]; then
    "$bin" simulate --seed "$s" --days "$days" --scale "$scale" --data "$data" --out "$trace"
  fi
  "$bin" replay --config "$config" --trace "$trace" --out "$decisions"
  "$bin" evaluate --trace "$trace" --decisions "$decisions" $json
  echo
}

run "tuning seed" "$seed"
run "held-out seed" "$heldout"
