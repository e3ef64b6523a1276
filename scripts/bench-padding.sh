#!/usr/bin/env bash
# Padding benchmark (issue 10): the same simulated trace replayed twice,
# once as simulated and once with every campaign body padded with 300 KiB
# of whitespace after its opening `{` (scripts/lib/pad-trace.py), both
# scored against the same labels. Padding must leave the campaigns' denial
# rates unchanged.
#
#   scripts/bench-padding.sh [--seeds "3"] [--scenario heldout|default]
#                            [--pad BYTES] [--config CONFIG] [--days D]
#                            [--scale S] [--data DIR] [--json]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/bench-common.sh

seeds="3" scenario="heldout" pad=$((300 * 1024))
while [ $# -gt 0 ]; do
  case "$1" in
    --seeds) seeds="$2"; shift 2 ;;
    --scenario) scenario="$2"; shift 2 ;;
    --pad) pad="$2"; shift 2 ;;
    *) bench_option "$@"; shift "$bench_shift" ;;
  esac
done

bench_setup
for s in $seeds; do
  trace="$out/padding-$scenario-$s-${days}d-x$scale.jsonl.gz"
  bench_seed "$scenario scenario, unpadded" "$s" "$trace" "$out/padding-plain-$s.jsonl" --scenario "$scenario"
  echo "== $scenario scenario, campaign bodies padded with $pad bytes: seed $s"
  python3 scripts/lib/pad-trace.py "$trace" --bytes "$pad" |
    "$bin" replay --config "$config" --trace - --out "$out/padding-padded-$s.jsonl"
  # $json is empty or one word: unquoted on purpose.
  "$bin" evaluate --trace "$trace" --decisions "$out/padding-padded-$s.jsonl" $json
  echo
done
