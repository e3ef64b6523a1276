#!/usr/bin/env bash
# Held-out quality benchmark (make bench-heldout): traffic detection was not
# tuned on (src/sim/heldout*.rs: new campaign phrasings and languages,
# instructions in the system prompt, cloud-spread and few-busy campaigns, a
# model switch, and new look-alikes), two seeds, replayed with the shipped
# defaults {"mode": "enforce"} (or --config), scored against the labels.
#
#   scripts/bench-heldout.sh [--config CONFIG] [--seeds "3 4"] [--days D]
#                            [--scale S] [--data DIR] [--json]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/bench-common.sh

seeds="3 4"
while [ $# -gt 0 ]; do
  case "$1" in
    --seeds) seeds="$2"; shift 2 ;;
    *) bench_option "$@"; shift "$bench_shift" ;;
  esac
done

bench_setup
for s in $seeds; do
  # The simulator is cheap; regenerate so a changed scenario is never stale.
  bench_seed "held-out scenario" "$s" "$out/heldout-$s-${days}d-x$scale.jsonl.gz" \
    "$out/heldout-decisions-$s.jsonl" --scenario heldout
done
