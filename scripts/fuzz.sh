#!/usr/bin/env bash
# Coverage-guided fuzzing of every input an attacker or operator controls
# (fuzz/fuzz_targets: body_parse, body_prefix, identity, config, trace,
# import, engine, reasoning; json: the module's JSON reader against
# serde_json), with
# cargo-fuzz and libFuzzer on the stable toolchain.
#
#   scripts/fuzz.sh [--smoke] [TARGET...]      (make fuzz / make test)
#
# FUZZ_SECS: seconds per target (default 60; --smoke: 4). One process per
# target, one after the other (libFuzzer's default: one job, one core).
# Seeds: fuzz/seeds/<target> (small, committed), and outside --smoke
# requests of a freshly simulated trace (scripts/fuzz-seeds.py); the
# corpus grows in fuzz/corpus/<target> (not committed). A crash, a timeout
# (an input that takes more than 10 s: super-linear work) or an input that
# needs more than 2 GiB stops the run with exit status 1 and leaves the
# input in fuzz/artifacts/<target>/; reproduce with
# `fuzz/target/<triple>/release/<target> fuzz/artifacts/<target>/crash-…`.
# Each run appends `target, execs, seconds, result` to fuzz/out/runs.tsv.
#
# Why `--sanitizer none`: the crate denies unsafe code, so AddressSanitizer
# has nothing of ours to check, and it needs a nightly (or RUSTC_BOOTSTRAP)
# plus twice the time per input. Panics, integer overflow (`-a`: debug
# assertions and overflow checks on), timeouts and memory blow-ups are what
# libFuzzer catches here. cargo-fuzz is installed into .tools on first use
# (about 3 minutes, once); a cold build of the targets takes about one
# minute on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."

smoke=false
targets=()
for a in "$@"; do
  case "$a" in
    --smoke) smoke=true ;;
    -*) echo "fuzz: unknown option $a" >&2; exit 2 ;;
    *) targets+=("$a") ;;
  esac
done
all=(body_parse body_prefix identity config trace import engine response reasoning json)
if [ ${#targets[@]} -eq 0 ]; then targets=("${all[@]}"); fi
secs=${FUZZ_SECS:-$($smoke && echo 4 || echo 60)}

CARGO_FUZZ_VERSION=0.13.2
if [ "$(.tools/bin/cargo-fuzz --version 2>/dev/null)" != "cargo-fuzz $CARGO_FUZZ_VERSION" ]; then
  echo "fuzz: installing cargo-fuzz $CARGO_FUZZ_VERSION into .tools (a few minutes, once)" >&2
  cargo install --quiet --root .tools cargo-fuzz --version "$CARGO_FUZZ_VERSION"
fi
export PATH="$PWD/.tools/bin:$PATH"

echo "fuzz: building targets (release, debug assertions, no sanitizer)" >&2
cargo fuzz build --sanitizer none -O -a >/dev/null 2>fuzz/build.log || { cat fuzz/build.log >&2; exit 1; }
triple=$(rustc -vV | sed -n 's/^host: //p')
bin_dir="fuzz/target/$triple/release"

mkdir -p fuzz/out
if ! $smoke; then
  data=${DG_DATA:-../shared/data}
  [ -d "$data" ] || data=../../shared/data
  trace=fuzz/out/sim-trace.jsonl.gz
  if [ ! -s "$trace" ]; then
    cargo build --release --quiet --bin distill-guard
    target/release/distill-guard simulate --seed 7 --days 1 --scale 0.05 --data "$data" --out "$trace"
  fi
  python3 scripts/fuzz-seeds.py "$trace" fuzz/out/sim-seeds --max 300 >&2
fi

failed=()
total=0
for t in "${targets[@]}"; do
  corpus="fuzz/corpus/$t"
  mkdir -p "$corpus" "fuzz/artifacts/$t"
  seeds=("fuzz/seeds/$t")
  if ! $smoke && [ -d "fuzz/out/sim-seeds/$t" ]; then seeds+=("fuzz/out/sim-seeds/$t"); fi
  log="fuzz/out/$t.log"
  set +e
  "$bin_dir/$t" "$corpus" "${seeds[@]}" \
    -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=262144 \
    -artifact_prefix="fuzz/artifacts/$t/" -print_final_stats=1 >"$log" 2>&1
  rc=$?
  set -e
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  execs=${execs:-0}
  total=$((total + execs))
  result=ok
  if [ "$rc" -ne 0 ]; then
    result="FAILED (exit $rc)"
    failed+=("$t")
    grep -E "panicked|ERROR|SUMMARY|Test unit written" "$log" | head -20 >&2 || true
  fi
  printf '%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$t" "$execs" "$secs" "$result" >>fuzz/out/runs.tsv
  printf 'fuzz: %-11s %12s execs in %ss  %s\n' "$t" "$execs" "$secs" "$result"
done
echo "fuzz: $total executions over ${#targets[@]} targets, ${#failed[@]} failing${failed[*]:+: ${failed[*]}}"
[ ${#failed[@]} -eq 0 ]
