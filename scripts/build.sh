#!/usr/bin/env bash
# Builds the release Envoy module and prints its size.
#   scripts/build.sh          target/wasm32-wasip1/release/distill_guard.wasm
#   scripts/build.sh --cli    also the native tool, target/release/distill-guard
# `cargo rustc --crate-type cdylib` (not a cdylib in Cargo.toml) keeps the
# rlib's metadata out of the .wasm and the native build an rlib.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo rustc --quiet --lib --release --target wasm32-wasip1 --crate-type cdylib
wasm=target/wasm32-wasip1/release/distill_guard.wasm
bytes=$(wc -c <"$wasm")
echo "built $wasm: $bytes bytes ($(( (bytes + 1023) / 1024 )) KiB)"

if [ "${1:-}" = "--cli" ]; then
  cargo build --quiet --release --bin distill-guard
  echo "built target/release/distill-guard"
fi
