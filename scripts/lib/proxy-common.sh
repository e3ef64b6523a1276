# Sourced by the scripts that run Envoy under load (scripts/bench-proxy.sh,
# scripts/soak.sh) from the repository root: wrk, the release module, free
# ports, the fast upstream, starting Envoys in their own sessions,
# readiness, RSS, and stopping only what they started ($work/*.pid).

ENVOY=.venv/bin/envoy
LUA=benches/proxy/openai_chat.lua
wasm=target/wasm32-wasip1/release/distill_guard.wasm

# proxy_prepare DIR [MODULE]: output folder `work`, wrk, Envoy, a fresh
# release module (or MODULE, a caller's `--module`, as `wasm` and no
# build); stops what was started on exit.
proxy_prepare() {
  work=$1
  mkdir -p "$work"
  install_wrk
  [ -x "$ENVOY" ] || bash scripts/setup.sh
  if [ -n "${2:-}" ]; then
    wasm=$(realpath "$2")
  elif [ -z "${BENCH_SKIP_BUILD:-}" ]; then # BENCH_SKIP_BUILD: the module is already built.
    bash scripts/build.sh
  fi
  trap stop_started EXIT
  trap 'exit 130' INT TERM
}

# free_ports N: N loopback ports that were free a moment ago, on one line.
free_ports() {
  python3 - "$1" <<'EOF'
import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in socks))
EOF
}

# stop_started: stops every process this script started (its pid files only).
stop_started() {
  for f in "$work"/*.pid; do
    [ -f "$f" ] || continue
    kill "$(cat "$f")" 2>/dev/null || true
    rm -f "$f"
  done
}

# write_upstream FILE PORT ADMIN: an Envoy that answers every request with a
# fixed OpenAI chat completion after reading the body (a buffer filter, so
# the connection is reused as a model server would) -- envoy/stub_llm.py
# would be the bottleneck, not the proxy under test.
write_upstream() {
  local reply='{"id":"chatcmpl-bench","object":"chat.completion","created":1767225600,"model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"Use the paginator: call list_buckets(page_size=1000) and follow next_page_token until it is empty. The key needs storage.buckets.list."},"finish_reason":"stop"}],"usage":{"prompt_tokens":310,"completion_tokens":38,"total_tokens":348}}'
  cat >"$1" <<EOF
admin:
  address: { socket_address: { address: 127.0.0.1, port_value: $3 } }
static_resources:
  listeners:
  - name: upstream
    address: { socket_address: { address: 127.0.0.1, port_value: $2 } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: upstream
          codec_type: AUTO
          route_config:
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes:
              - match: { prefix: "/" }
                direct_response: { status: 200, body: { inline_string: '$reply' } }
                response_headers_to_add:
                - header: { key: content-type, value: application/json }
          http_filters:
          - name: envoy.filters.http.buffer
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.buffer.v3.Buffer
              max_request_bytes: 4194304
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
EOF
}

start_envoy() { # name config concurrency [extra Envoy flags...]
  setsid "$ENVOY" -c "$2" --concurrency "$3" --use-dynamic-base-id --disable-hot-restart \
    --log-level warn "${@:4}" >"$work/$1.log" 2>&1 </dev/null &
  echo $! >"$work/$1.pid"
}

wait_ready() { # name admin
  for _ in $(seq 1 150); do
    if curl -sf "http://127.0.0.1:$2/ready" >/dev/null 2>&1; then return 0; fi
    if ! kill -0 "$(cat "$work/$1.pid")" 2>/dev/null; then
      echo "$(basename "$0"): envoy $1 exited; its log:" >&2; tail -20 "$work/$1.log" >&2; exit 1
    fi
    sleep 0.2
  done
  echo "$(basename "$0"): envoy $1 not ready after 30 s" >&2; exit 1
}

# cpu_ticks NAME: the process's user + system time so far, in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$(cat "$work/$1.pid")/stat"; }

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$(cat "$work/$1.pid")/status"; }

# install_wrk: wrk from Debian, if missing.
install_wrk() {
  if ! command -v wrk >/dev/null; then
    echo "$(basename "$0"): installing wrk" >&2
    apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
  fi
}

# The floor filter (benches/floor/: hold the headers, read the whole body
# once, add one header), built by build_floor.
FLOOR=target/floor/wasm32-wasip1/release/floor_filter.wasm
build_floor() {
  cargo build --quiet --release --target wasm32-wasip1 --manifest-path benches/floor/Cargo.toml \
    --target-dir target/floor
}

# render_proxies UPSTREAM_PORT NAME...: $work/NAME.yaml for each of alone,
# floor, dg and dg2, from envoy/envoy.template.yaml with the filter
# configuration $CONFIG ($CONFIG2 for dg2 when set), listening on ${port[NAME]} with admin
# ${admin[NAME]} (associative arrays the caller declares), in front of the
# upstream on UPSTREAM_PORT: `alone` without the Wasm filter, `floor` with
# the floor module, `dg` with $wasm, `dg2` with $compare. Access logs go to
# /dev/null with a plain path (scripts/lib/bench-yaml.py says why).
render_proxies() {
  local up="$1" name module cfg
  shift
  for name in "$@"; do
    case "$name" in
      alone) module="" ;;
      floor) module="$PWD/$FLOOR" ;;
      dg) module="$wasm" ;;
      dg2) module="$(realpath "$compare")" ;;
      *) echo "render_proxies: unknown proxy $name" >&2; return 2 ;;
    esac
    cfg=$CONFIG
    if [ "$name" = dg2 ] && [ -n "${CONFIG2:-}" ]; then cfg=$CONFIG2; fi
    python3 scripts/render-envoy.py --config "$cfg" --listen-port "${port[$name]}" \
      --admin-port "${admin[$name]}" --upstream-port "$up" --access-log /dev/null \
      ${module:+--wasm "$module"} >"$work/$name.yaml"
  done
  python3 scripts/lib/bench-yaml.py "${@/#/$work/}"
}
