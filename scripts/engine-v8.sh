#!/usr/bin/env bash
# The engine benchmark (examples/engine_bench.rs) under V8, without Envoy:
# built for wasm32-wasip1 at the release profile and run in Node's WASI, so
# what V8 makes of the engine's code is measured apart from Envoy's
# callbacks and host calls (scripts/bench-proxy.sh measures those).
#
#   scripts/engine-v8.sh [--profile] [ENGINE_BENCH ARGS...]
#   scripts/engine-v8.sh --quick --only openai_chat
#   scripts/engine-v8.sh --profile --quick --only openai_chat_256k
#   scripts/engine-v8.sh --passes --quick   # each pass over a long body alone (compact, parse, phrases, tokens)
#
# --profile: V8's sampling profiler (node --cpu-prof) into
# bench-out/engine-v8/, then the self time per Wasm function and per area
# (scripts/lib/cpuprofile.py).
set -euo pipefail
cd "$(dirname "$0")/.."

profile=false
if [ "${1:-}" = "--profile" ]; then profile=true; shift; fi
command -v node >/dev/null || { echo "engine-v8: node is needed (Debian: apt-get install nodejs)" >&2; exit 1; }
cargo build --release --quiet --example engine_bench --target wasm32-wasip1
module=target/wasm32-wasip1/release/examples/engine_bench.wasm
if $profile; then
  out=bench-out/engine-v8
  rm -rf "$out" && mkdir -p "$out"
  node --no-warnings --cpu-prof --cpu-prof-dir="$out" --cpu-prof-interval 200 \
    scripts/lib/wasi-run.mjs "$module" "$@"
  python3 scripts/lib/cpuprofile.py "$out"/*.cpuprofile
else
  node --no-warnings scripts/lib/wasi-run.mjs "$module" "$@"
fi
