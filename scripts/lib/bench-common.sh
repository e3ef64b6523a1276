# Sourced by the quality benchmarks (scripts/bench-quality.sh,
# scripts/bench-heldout.sh) from the repository root: their shared options
# and the simulate -> replay -> evaluate run of one seed, so both report the
# same way and a change to the pipeline is made once.
#
# Shared options: --config CONFIG --days D --scale S --data DIR --json.
# CONFIG defaults to {"mode": "enforce", "identity": {"secret": "bench-secret"}}:
# the shipped defaults (enforce mode refuses the public built-in secret).

config="" days=3 scale=1 data="../shared/data" json=""

# bench_option "$@": takes one shared option off the front of the arguments
# and sets bench_shift to how many words it used; exits 2 on any other.
bench_option() {
  case "$1" in
    --config) config="$2"; bench_shift=2 ;;
    --days) days="$2"; bench_shift=2 ;;
    --scale) scale="$2"; bench_shift=2 ;;
    --data) data="$2"; bench_shift=2 ;;
    --json) json="--json"; bench_shift=1 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
}

# bench_setup: the output folder, the default configuration, a release build.
bench_setup() {
  out=bench-out
  mkdir -p "$out"
  if [ -z "$config" ]; then
    config="$out/enforce.json"
    echo '{"mode": "enforce", "identity": {"secret": "bench-secret"}}' > "$config"
  fi
  cargo build --release --quiet --bin distill-guard
  bin=target/release/distill-guard
}

# bench_seed LABEL SEED TRACE DECISIONS [SIMULATE OPTION...]: one seed's
# quality table. The trace is always simulated afresh (about 2 s), so a
# changed simulator is never measured on a stale trace. SIMULATE OPTIONs
# (such as --scenario heldout) go to `distill-guard simulate`.
bench_seed() {
  local label="$1" s="$2" trace="$3" decisions="$4"
  shift 4
  echo "== $label: seed $s, $days days, scale $scale, config $config ($(git rev-parse --short HEAD 2>/dev/null || echo unknown))"
  "$bin" simulate "$@" --seed "$s" --days "$days" --scale "$scale" --data "$data" --out "$trace"
  "$bin" replay --config "$config" --trace "$trace" --out "$decisions"
  # $json is empty or one word: unquoted on purpose.
  "$bin" evaluate --trace "$trace" --decisions "$decisions" $json
  echo
}
