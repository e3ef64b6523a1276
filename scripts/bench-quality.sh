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
source scripts/lib/bench-common.sh

seed=1 heldout=2
while [ $# -gt 0 ]; do
  case "$1" in
    --seed) seed="$2"; shift 2 ;;
    --heldout-seed) heldout="$2"; shift 2 ;;
    *) bench_option "$@"; shift "$bench_shift" ;;
  esac
done

bench_setup
quality_seed() {
  bench_seed "$1" "$2" "$out/trace-$2-${days}d-x$scale.jsonl.gz" "$out/decisions-$2.jsonl"
}
quality_seed "tuning seed" "$seed"
quality_seed "held-out seed" "$heldout"
