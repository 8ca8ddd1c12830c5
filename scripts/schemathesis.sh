#!/usr/bin/env bash
# Runs schemathesis against the real server (SQLite, demo data) with an
# admin's token: every operation of /api/openapi.json, no server error and
# no response outside the document. Needs the venv of scripts/test.sh
# (CHAT_TEST_PYTHON) and a built chat-api (CHAT_API_BIN, else the debug
# build in CARGO_TARGET_DIR).
#   scripts/schemathesis.sh [max-examples per operation, default 25]
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/chat-target}"
BIN="${CHAT_API_BIN:-$CARGO_TARGET_DIR/debug/chat-api}"
PY="${CHAT_TEST_PYTHON:-$HOME/.cache/chat-venv/bin/python}"
ST="$(dirname "$PY")/schemathesis"
EXAMPLES="${1:-25}"

work="$(mktemp -d)"
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
CHAT_CONFIG=/nonexistent/chat.toml \
CHAT__SERVER__PORT="$port" \
CHAT__DATABASE__URL="sqlite://$work/chat.db?mode=rwc" \
CHAT__ATTACHMENTS__DIR="$work/files" \
CHAT__DATABASE__SQLITE_SYNCHRONOUS=normal \
CHAT__DEMO__ENABLED=true \
CHAT__METRICS__LISTEN=off \
CHAT__LOG__FILTER=warn \
CHAT__LIMITS__STARTS_PER_ADDRESS=1000000 \
CHAT__LIMITS__STARTS_PER_TENANT=1000000 \
CHAT__LIMITS__SENDS_PER_ADDRESS=1000000 \
CHAT__LIMITS__SENDS_PER_TENANT=1000000 \
CHAT__LIMITS__SENDS_PER_SESSION=1000000 \
CHAT__LIMITS__SENDS_PER_AGENT=1000000 \
CHAT__LIMITS__READS_PER_ADDRESS=1000000 \
CHAT__AUTH__MAX_FAILURES_PER_CLIENT=1000000 \
CHAT__AUTH__MAX_FAILURES_PER_ACCOUNT=1000000 \
CHAT__AUTH__MAX_FAILURES_PER_ADDRESS=1000000 \
  "$BIN" serve >"$work/server.log" 2>&1 &
pid=$!
cleanup() { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

for _ in $(seq 1 100); do
  curl -fsS "$base/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done
login() {
  curl -fsS -X POST "$base/api/v1/auth/login" -H 'content-type: application/json' \
    -d '{"email":"agent@demo.com","password":"Test@1234"}' | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["token"])'
}

run() {
  (cd "$work" && "$ST" run "$base/api/openapi.json" \
    --checks not_a_server_error,response_schema_conformance \
    --max-examples "$EXAMPLES" --seed 20261201 --workers 2 \
    --generation-codec ascii --suppress-health-check all \
    --request-timeout 10 --no-color "$@")
}

# Everything but the two operations that end the token's life, with a
# token of its own each time so that a run cannot lock itself out.
run -H "Authorization: Bearer $(login)" \
  --exclude-path /api/v1/auth/logout --exclude-path /api/v1/agents/me/password \
  --exclude-path-regex '^/api/v1/agents/\{id\}$'
run -H "Authorization: Bearer $(login)" --include-path /api/v1/agents/me/password
run -H "Authorization: Bearer $(login)" --include-path-regex '^/api/v1/agents/\{id\}$'
run -H "Authorization: Bearer $(login)" --include-path /api/v1/auth/logout
if grep -q '"level":"ERROR"' "$work/server.log"; then
  echo "the server logged errors:" >&2
  grep '"level":"ERROR"' "$work/server.log" | head -20 >&2
  exit 1
fi
