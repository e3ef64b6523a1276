#!/usr/bin/env bash
# The whole suite, as `make test` and CI run it, on a fresh machine too:
# installs what is missing (scripts/setup.sh), then lint, native tests, the
# engine's tests inside a wasm runtime, the release module, validation of
# every shipped Envoy config, and the end-to-end tests against the real
# Envoy. Stops at the first failing step with its exit code; always ends
# with a summary of the steps and their durations.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
SUITE_START=$(date +%s)
declare -a SUMMARY=()
CURRENT=""

summary() {
  local rc=$?
  echo
  echo "================================ summary ================================"
  local line
  for line in "${SUMMARY[@]}"; do echo "  $line"; done
  if [ "$rc" -ne 0 ] && [ -n "$CURRENT" ]; then
    echo "  FAILED  $CURRENT (exit $rc)"
  fi
  echo "make test: $([ "$rc" -eq 0 ] && echo OK || echo FAILED) in $(( $(date +%s) - SUITE_START ))s"
}
trap summary EXIT

# step NAME COMMAND...: runs one step under a section header and records it.
step() {
  local name=$1
  shift
  CURRENT=$name
  echo
  echo "==> $name"
  local t0
  t0=$(date +%s)
  "$@"
  SUMMARY+=("ok      $name ($(( $(date +%s) - t0 ))s)")
  CURRENT=""
}

# Every shipped Envoy config must pass `envoy --mode validate`: the standalone
# envoy/envoy.yaml as is, and the template rendered with the demo settings.
validate_envoy_configs() {
  local dir=target/envoy-validate n=0 f
  mkdir -p "$dir"
  for f in envoy/*.yaml; do
    case "$f" in
      *.template.yaml)
        local out="$dir/$(basename "$f" .template.yaml).rendered.yaml"
        .venv/bin/python scripts/render-envoy.py --config '{"mode": "enforce", "identity": {"secret": "validate-secret"}}' >"$out"
        f=$out
        ;;
    esac
    # Istio manifests (WasmPlugin) are Kubernetes objects, not Envoy bootstraps.
    if grep -q '^kind:' "$f"; then
      continue
    fi
    echo "validate $f"
    .venv/bin/envoy --mode validate -c "$f" -l warning --use-dynamic-base-id
    n=$((n + 1))
  done
  if [ "$n" -eq 0 ]; then
    echo "no Envoy configuration found under envoy/" >&2
    return 1
  fi
}

step "setup (scripts/setup.sh)" scripts/setup.sh
step "cargo fmt --check" cargo fmt --all --check
step "cargo clippy --all-targets" cargo clippy --all-targets --quiet -- -D warnings
step "cargo clippy --lib --target wasm32-wasip1" cargo clippy --lib --target wasm32-wasip1 --quiet -- -D warnings
step "cargo test (native: unit, integration, doc)" cargo test --quiet
step "cargo test --lib in a wasm runtime (wasm32-unknown-unknown)" \
  env CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER="$PWD/.tools/bin/wasm-bindgen-test-runner" \
  cargo test --lib --target wasm32-unknown-unknown
step "release module (scripts/build.sh)" scripts/build.sh
step "the release module under a JavaScript proxy-wasm host (glue-bench --check)" \
  node --no-warnings scripts/lib/glue-bench.mjs target/wasm32-wasip1/release/distill_guard.wasm --check
step "envoy --mode validate on shipped configs" validate_envoy_configs
step "fuzz smoke: each target a few seconds (scripts/fuzz.sh --smoke)" scripts/fuzz.sh --smoke
step "end-to-end tests against Envoy (pytest tests/e2e)" \
  .venv/bin/python -m pytest tests/e2e -q -p no:cacheprovider
