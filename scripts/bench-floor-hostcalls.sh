#!/usr/bin/env bash
# What Envoy's side of the boundary costs a filter that correlates across
# workers through shared data, before any detection (issue 8): the floor
# filter built with feature `host-calls` (benches/floor/src/host_calls.rs)
# makes distill-guard's host calls per request at 1.5 KB -- clock reads,
# header maps, shared-data read-modify-writes of ~440-byte records,
# filter-state properties, histogram records, a read of the answer -- and
# nothing else. Each profile runs as bench-proxy's `dg2` beside Envoy
# alone, the floor and distill-guard, in its own interleaved run. Prints
# figures only.
#
#   scripts/bench-floor-hostcalls.sh [--profiles "full min answer"] [bench-proxy options]
#
# Profiles:
#   full    distill-guard's counts: 4 records written and 1 extra read at
#           the decision, 2 written when the answer ends, 6 properties,
#           clock and histogram, the answer read;
#   min     the least any cross-account correlation needs: 3 records
#           (identity, template, address block) read and written, nothing else;
#   answer  only the answer's headers and body read (token metering's floor).
# The benchmark's configuration is bench-proxy's (shadow mode: every request
# takes the whole path); distill-guard is built once.
set -euo pipefail
cd "$(dirname "$0")/.."

profiles="full min answer"
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --profiles) profiles="$2"; shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done

profile_env() {
  case "$1" in
    full) echo "FLOOR_HC_PROFILE=full" ;;
    min) echo "FLOOR_HC_DECISION_RECORDS=3 FLOOR_HC_ANSWER_RECORDS=0 FLOOR_HC_EXTRA_READS=0 FLOOR_HC_PROPERTIES=0 FLOOR_HC_READ_ANSWER=0 FLOOR_HC_TIMED=0" ;;
    answer) echo "FLOOR_HC_DECISION_RECORDS=0 FLOOR_HC_ANSWER_RECORDS=0 FLOOR_HC_EXTRA_READS=0 FLOOR_HC_PROPERTIES=0 FLOOR_HC_READ_ANSWER=1 FLOOR_HC_TIMED=0" ;;
    *) echo "unknown profile $1" >&2; return 2 ;;
  esac
}

bash scripts/build.sh
for p in $profiles; do
  dir=target/floor-hc-$p
  # shellcheck disable=SC2046 # the profile's settings are words on purpose
  env $(profile_env "$p") cargo build --quiet --release --target wasm32-wasip1 \
    --manifest-path benches/floor/Cargo.toml --features host-calls --target-dir "$dir"
  echo "== floor + host calls, profile $p ($(profile_env "$p")): dg2 below"
  bash scripts/bench-proxy.sh --module target/wasm32-wasip1/release/distill_guard.wasm \
    --compare "$dir/wasm32-wasip1/release/floor_filter.wasm" "${args[@]}"
done
