#!/usr/bin/env bash
# Held-out quality benchmark (make bench-heldout): traffic detection was not
# tuned on (src/sim/heldout.rs: new campaign phrasings and languages,
# instructions in the system prompt, cloud-spread and few-busy campaigns, a
# model switch, and new look-alikes), two seeds, replayed with the shipped
# defaults {"mode": "enforce"} (or --config), scored against the labels.
#
#   scripts/bench-heldout.sh [--config CONFIG] [--seeds "3 4"] [--days D]
#                            [--scale S] [--data DIR] [--json]
set -euo pipefail
cd "$(dirname "$0")/.."

config="" seeds="3 4" days=3 scale=1 data="../shared/data" json=""
while [ $# -gt 0 ]; do
  case "$1" in
    --config) config="$2"; shift 2 ;;
    --seeds) seeds="$2"; shift 2 ;;
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

for s in $seeds; do
  trace="$out/heldout-$s-${days}d-x$scale.jsonl.gz" decisions="$out/heldout-decisions-$s.jsonl"
  echo "== held-out scenario: seed $s, $days days, scale $scale, config $config ($(git rev-parse --short HEAD 2>/dev/null || echo unknown))"
  # The simulator is cheap; regenerate so a changed scenario is never stale.
  "$bin" simulate --scenario heldout --seed "$s" --days "$days" --scale "$scale" --data "$data" --out "$trace"
  "$bin" replay --config "$config" --trace "$trace" --out "$decisions"
  "$bin" evaluate --trace "$trace" --decisions "$decisions" $json
  echo
done
