#!/usr/bin/env bash
# The Envoy module's whole request path under V8, without Envoy (make
# bench-glue): the shipped module's code (built as scripts/build.sh builds
# it, with its function names kept) driven through the proxy-wasm callbacks
# by a JavaScript host (scripts/lib/proxy-host.mjs) with bench-proxy's
# traffic, and profiled by V8's sampling profiler. Where engine-v8.sh
# measures `Engine::evaluate` alone, this includes the glue: headers and
# body handed over, identity, the decision, filter state, metering the
# answer, the shared-data calls (answered by a JavaScript Map, so Envoy's
# own cost of each call is not in it: bench-proxy measures that).
#
#   scripts/glue-v8.sh [--sizes "1500 65536"] [--requests N] [--rounds R] [--config JSON]
#   scripts/glue-v8.sh --allocs [--sizes ...]   # heap allocations per request instead of a profile
#
# Prints, per size, the time per request of module and host together, the
# host calls per request, the profile's split by whose code ran (the
# module's share of a request is that share of the time), and the module's
# own time by area and function. Figures only; exits non-zero only if the
# module refuses the configuration or answers a request locally in shadow
# mode.
#
# --allocs: the module built with the `alloc-count` feature (a counting
# allocator, never in a shipped module: src/filter/alloc_count.rs); prints
# its heap allocations and reallocations per request by callback, and how
# many of them were buffers the host asked for to hand data over.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v node >/dev/null || { echo "glue-v8: node is needed (Debian: apt-get install nodejs)" >&2; exit 1; }
command -v wasm-opt >/dev/null || { echo "glue-v8: wasm-opt is needed (scripts/setup.sh)" >&2; exit 1; }

sizes="1500 65536"
allocs=false
rest=()
while [ $# -gt 0 ]; do
  case "$1" in
    --sizes) sizes="$2"; shift 2 ;;
    --allocs) allocs=true; shift ;;
    *) rest+=("$1"); shift ;;
  esac
done

out=bench-out/glue-v8
mkdir -p "$out"
if $allocs; then
  CARGO_TARGET_DIR=target/allocs cargo rustc --quiet --lib --release --target wasm32-wasip1 --crate-type cdylib --features alloc-count
  exec node --no-warnings scripts/lib/glue-bench.mjs target/allocs/wasm32-wasip1/release/deps/distill_guard.wasm \
    --sizes "$sizes" ${rest[@]+"${rest[@]}"}
fi
# The release module's code with its names: no `-C strip=symbols`, and
# wasm-opt -g keeps the name section through the same passes as build.sh.
CARGO_TARGET_DIR=target/names cargo rustc --quiet --lib --release --target wasm32-wasip1 --crate-type cdylib
wasm-opt -O3 --merge-similar-functions -g --strip-producers --enable-sign-ext --enable-bulk-memory --enable-mutable-globals \
  --enable-nontrapping-float-to-int --enable-multivalue --enable-reference-types \
  target/names/wasm32-wasip1/release/deps/distill_guard.wasm -o "$out/distill_guard.names.wasm"

for size in $sizes; do
  rm -rf "$out/prof-$size" && mkdir -p "$out/prof-$size"
  echo "== $size B bodies"
  node --no-warnings --cpu-prof --cpu-prof-dir="$out/prof-$size" --cpu-prof-interval 200 \
    scripts/lib/glue-bench.mjs "$out/distill_guard.names.wasm" --sizes "$size" ${rest[@]+"${rest[@]}"}
  python3 scripts/lib/cpuprofile.py "$out/prof-$size"/*.cpuprofile 30 --wasm-only
  echo
done
