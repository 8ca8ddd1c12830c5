#!/usr/bin/env bash
# Runs the whole product on the embedded SQLite default with demo data:
# the server, the agents' dashboard at / and the widget demo pages.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/chat-target}"

for ui in widget frontend; do
  if [ -f "$ui/package.json" ] && command -v npm >/dev/null; then
    echo "==> building $ui"
    (cd "$ui" && { [ -d node_modules ] || npm ci --no-audit --no-fund; } && npm run build)
  fi
done

export CHAT__DEMO__ENABLED="${CHAT__DEMO__ENABLED:-true}"
# As the Dockerfile and the systemd unit set it: two malloc arenas.
export MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}"
exec cargo run --release -p chat-api -- serve
