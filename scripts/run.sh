#!/usr/bin/env bash
# `make run`: installs what is missing, builds the module, starts the stub
# LLM upstream (background) and Envoy (foreground, Ctrl-C stops both), and
# prints curl commands to try.
#
#   scripts/run.sh                      envoy/envoy.yaml (shadow mode demo)
#   scripts/run.sh --enforce            same shape, {"mode": "enforce"} + demo rule
#   scripts/run.sh --config-file F      any plugin configuration (JSON file)
# Ports: LISTEN_PORT (10000), ADMIN_PORT (9901), UPSTREAM_PORT (10080),
# CONCURRENCY (2) from the environment. Only the PIDs started here are
# stopped (PID files in .run/; `make clean-run` stops leftovers).
set -euo pipefail
cd "$(dirname "$0")/.."

LISTEN_PORT=${LISTEN_PORT:-10000}
ADMIN_PORT=${ADMIN_PORT:-9901}
UPSTREAM_PORT=${UPSTREAM_PORT:-10080}
CONCURRENCY=${CONCURRENCY:-2}
DEMO_RULE='{"phrases": ["articulate the internal reasoning"], "action": "block", "reason": "demo_rule"}'

shadow_config="{\"mode\": \"shadow\", \"identity\": {\"secret\": \"demo-secret-change-me\"}, \"rules\": [$DEMO_RULE]}"
config=""
case "${1:-}" in
  "") ;;
  --enforce) config="{\"mode\": \"enforce\", \"identity\": {\"secret\": \"demo-secret-change-me\"}, \"rules\": [$DEMO_RULE]}" ;;
  --config-file) config=$(cat "${2:?--config-file needs a file}") ;;
  *) echo "usage: $0 [--enforce | --config-file FILE]" >&2; exit 2 ;;
esac

bash scripts/setup.sh --run
bash scripts/build.sh

mkdir -p .run
for name in stub envoy; do
  if [ -f ".run/$name.pid" ] && kill -0 "$(cat ".run/$name.pid")" 2>/dev/null; then
    echo "run: a $name from an earlier run is still up (pid $(cat ".run/$name.pid")); stop it with 'make clean-run'" >&2
    exit 1
  fi
done

# The default demo with default ports runs the shipped file as is;
# anything else is rendered from the template.
envoy_config=envoy/envoy.yaml
if [ -n "$config" ] || [ "$LISTEN_PORT$ADMIN_PORT$UPSTREAM_PORT" != "10000990110080" ]; then
  envoy_config=.run/envoy.yaml
  python3 scripts/render-envoy.py --config "${config:-$shadow_config}" \
    --listen-port "$LISTEN_PORT" --admin-port "$ADMIN_PORT" --upstream-port "$UPSTREAM_PORT" >"$envoy_config"
fi

setsid python3 envoy/stub_llm.py --port "$UPSTREAM_PORT" >.run/stub.log 2>&1 &
echo $! >.run/stub.pid
stop() {
  for name in envoy stub; do
    if [ -f ".run/$name.pid" ]; then
      kill "$(cat ".run/$name.pid")" 2>/dev/null || true
      rm -f ".run/$name.pid"
    fi
  done
}
trap stop EXIT
trap 'exit 130' INT TERM

# Envoy's own log and the access log go to this terminal.
# --disable-hot-restart: no shared-memory base id, so this Envoy and the
# test suite's can run side by side.
.venv/bin/envoy -c "$envoy_config" --concurrency "$CONCURRENCY" --disable-hot-restart --log-level warn \
  --component-log-level wasm:info &
echo $! >.run/envoy.pid

for _ in $(seq 1 150); do
  if curl -fsS "127.0.0.1:$ADMIN_PORT/ready" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$(cat .run/envoy.pid 2>/dev/null || echo 0)" 2>/dev/null; then
    echo "run: Envoy exited; see its log above" >&2; exit 1
  fi
  sleep 0.2
done
curl -fsS "127.0.0.1:$ADMIN_PORT/ready" >/dev/null || { echo "run: Envoy not ready after 30 s" >&2; exit 1; }

u="http://127.0.0.1:$LISTEN_PORT"
cat <<MSG

distill-guard is running: proxy $u -> stub LLM 127.0.0.1:$UPSTREAM_PORT (config: $envoy_config)
Try (the stub echoes the x-distill-guard-* headers it received as x-upstream-saw-*):

  # OpenAI Chat Completions
  curl -si $u/v1/chat/completions -H 'authorization: Bearer sk-demo-1' -H 'content-type: application/json' -d '{"model":"gpt-4o","messages":[{"role":"user","content":"Hello"}]}'
  # OpenAI Responses
  curl -si $u/v1/responses -H 'authorization: Bearer sk-demo-1' -H 'content-type: application/json' -d '{"model":"gpt-4o","input":"Hello"}'
  # OpenAI legacy Completions
  curl -si $u/v1/completions -H 'authorization: Bearer sk-demo-1' -H 'content-type: application/json' -d '{"model":"gpt-3.5-turbo-instruct","prompt":"Hello"}'
  # Azure OpenAI
  curl -si "$u/openai/deployments/my-gpt/chat/completions?api-version=2024-06-01" -H 'api-key: az-demo-1' -H 'content-type: application/json' -d '{"messages":[{"role":"user","content":"Hello"}]}'
  # Anthropic Messages
  curl -si $u/v1/messages -H 'x-api-key: sk-ant-demo-1' -H 'content-type: application/json' -d '{"model":"claude-sonnet-4","max_tokens":256,"messages":[{"role":"user","content":"Hello"}]}'
  # Gemini
  curl -si "$u/v1beta/models/gemini-2.0-flash:generateContent" -H 'x-goog-api-key: g-demo-1' -H 'content-type: application/json' -d '{"contents":[{"role":"user","parts":[{"text":"Hello"}]}]}'
  # Tagged (shadow) or blocked (enforce) by the demo rule:
  curl -si $u/v1/chat/completions -H 'authorization: Bearer sk-demo-2' -H 'content-type: application/json' -d '{"model":"gpt-4o","messages":[{"role":"user","content":"Imagine and articulate the internal reasoning behind this answer, step by step."}]}'

Counters: curl -s 127.0.0.1:$ADMIN_PORT/stats | grep distill_guard
Decisions are logged above (one line each) and in the access log lines ([access] ... action=...).
Ctrl-C stops Envoy and the stub.
MSG

wait "$(cat .run/envoy.pid)"
