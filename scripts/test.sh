#!/usr/bin/env bash
# Runs every test: lint, unit, service, store and black-box API tests on
# SQLite, then again on MariaDB and PostgreSQL when their admin URLs are
# given (CHAT_TEST_MYSQL_URL, CHAT_TEST_POSTGRES_URL), then the widget and
# dashboard tests in a real browser, with a short run of every fuzz target.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/chat-target}"

step() { printf '\n==> %s\n' "$*"; }

step "Python test tools in a venv (standardwebhooks, schemathesis)"
VENV="${CHAT_TEST_VENV:-$HOME/.cache/chat-venv}"
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install -q --disable-pip-version-check -r scripts/test-requirements.txt
export CHAT_TEST_PYTHON="$VENV/bin/python"

step "cargo fmt --check"
cargo fmt --all --check
step "cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings

step "tests on SQLite"
CHAT_TEST_DATABASE=sqlite cargo test --workspace

if [ -n "${CHAT_TEST_MYSQL_URL:-}" ]; then
  step "store and API tests on MariaDB/MySQL"
  CHAT_TEST_DATABASE=mysql cargo test -p chat-store -p chat-api
fi
if [ -n "${CHAT_TEST_POSTGRES_URL:-}" ]; then
  step "store and API tests on PostgreSQL"
  CHAT_TEST_DATABASE=postgres cargo test -p chat-store -p chat-api
fi

step "schemathesis: every REST operation against the running server"
cargo build -p chat-api
scripts/schemathesis.sh

step "benchmark smoke run"
bench/run.sh smoke

for ui in widget frontend; do
  if [ -f "$ui/package.json" ]; then
    step "$ui tests"
    (cd "$ui" && { [ -d node_modules ] || npm ci --no-audit --no-fund; } && npm test)
  fi
done

step "fuzz targets, 30 s each"
scripts/fuzz.sh 30
