#!/usr/bin/env bash
# Builds the release Envoy module and prints its size.
#   scripts/build.sh          target/wasm32-wasip1/release/distill_guard.wasm
#   scripts/build.sh --cli    also the native tool, target/release/distill-guard
# `cargo rustc --crate-type cdylib` (not a cdylib in Cargo.toml) keeps the
# rlib's metadata out of the .wasm and the native build an rlib.
#
# Size (issue 8): the module's symbol names are stripped (`-C strip=symbols`:
# ~77 KB of name section Envoy never reads; the native tool keeps its
# symbols), then binaryen's wasm-opt -O3 --merge-similar-functions
# re-encodes and optimises it (the linker leaves padded LEB128s; -Oz made
# the engine ~5-10% slower under V8 for 2% fewer bytes; -O3 with functions
# that differ only in constants merged is ~2 KB smaller than -O2 and not
# slower under V8: docs/benchmarks.md, session 10). The features are the ones
# rustc's wasm32-wasip1 target emits and Envoy's V8 loads (with `-all`
# wasm-opt writes GC-style type sections Envoy refuses). Without wasm-opt
# (scripts/setup.sh installs Debian's binaryen) the stripped module is used
# as it is, with a warning.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo rustc --quiet --lib --release --target wasm32-wasip1 --crate-type cdylib -- -C strip=symbols
linked=target/wasm32-wasip1/release/deps/distill_guard.wasm
wasm=target/wasm32-wasip1/release/distill_guard.wasm
if command -v wasm-opt >/dev/null; then
  # Always from cargo's own output, so a rebuild-free run gives the same bytes.
  rm -f "$wasm"
  wasm-opt -O3 --merge-similar-functions --strip-producers --enable-sign-ext --enable-bulk-memory --enable-mutable-globals \
    --enable-nontrapping-float-to-int --enable-multivalue --enable-reference-types "$linked" -o "$wasm"
else
  echo "build: wasm-opt not found (run scripts/setup.sh): the module is larger than it need be" >&2
fi
bytes=$(wc -c <"$wasm")
echo "built $wasm: $bytes bytes ($(( (bytes + 1023) / 1024 )) KiB)"

if [ "${1:-}" = "--cli" ]; then
  cargo build --quiet --release --bin distill-guard
  echo "built target/release/distill-guard"
fi
