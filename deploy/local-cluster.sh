#!/usr/bin/env bash
# The docker-compose topology on this machine, without images: two chat-api
# nodes on one PostgreSQL (or MariaDB) database and this machine's Redis,
# behind Debian's caddy with deploy/Caddyfile (round-robin, no stickiness).
#
#   deploy/local-cluster.sh start DIR   start; writes DIR/cluster.env
#   deploy/local-cluster.sh stop DIR    stop what start started
#
# Settings (environment): CLUSTER_DATABASE_URL (default
# postgres://postgres@127.0.0.1:5432/parley_cluster, created when missing),
# CHAT__REDIS__URL (default redis://127.0.0.1:6379), CHAT__REDIS__PREFIX
# (default a random one), CHAT_API_BIN (default the debug build); every
# other CHAT__* variable reaches both nodes. DIR/cluster.env names the
# proxy's and each node's URL and PID, and the prefix.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
cmd="${1:?start|stop}"
dir="${2:?a directory for the cluster files}"

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

wait_ready() {
  for _ in $(seq 1 200); do
    curl -fsS "$1/readyz" >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  echo "$1 did not become ready" >&2
  return 1
}

case "$cmd" in
start)
  mkdir -p "$dir"
  bin="${CHAT_API_BIN:-${CARGO_TARGET_DIR:-$HOME/.cache/chat-target}/debug/chat-api}"
  db="${CLUSTER_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/parley_cluster}"
  if [ -z "${CLUSTER_DATABASE_URL:-}" ] && command -v psql >/dev/null; then
    psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'parley_cluster'" postgres | grep -q 1 \
      || psql -h 127.0.0.1 -U postgres -c 'CREATE DATABASE parley_cluster' postgres >/dev/null
  fi
  export CHAT__REDIS__URL="${CHAT__REDIS__URL:-redis://127.0.0.1:6379}"
  export CHAT__REDIS__PREFIX="${CHAT__REDIS__PREFIX:-cluster$(free_port)}"
  export CHAT__DATABASE__URL="$db"
  export CHAT_CONFIG=/nonexistent/chat.toml
  export CHAT__METRICS__LISTEN=off
  export CHAT__SERVER__TRUSTED_PROXIES=127.0.0.1
  export CHAT__SERVER__WIDGET_DIR="${CHAT__SERVER__WIDGET_DIR:-$root/widget/dist}"
  export CHAT__SERVER__DASHBOARD_DIR="${CHAT__SERVER__DASHBOARD_DIR:-$root/frontend/dist}"
  "$bin" migrate >"$dir/migrate.log" 2>&1
  : >"$dir/cluster.env"
  upstreams=""
  for n in 1 2; do
    port="$(free_port)"
    CHAT__NODE__ID="node$n" CHAT__SERVER__PORT="$port" "$bin" serve >"$dir/node$n.log" 2>&1 &
    echo "NODE${n}_PID=$!" >>"$dir/cluster.env"
    echo "NODE${n}_URL=http://127.0.0.1:$port" >>"$dir/cluster.env"
    upstreams="$upstreams 127.0.0.1:$port"
  done
  proxy_port="$(free_port)"
  PARLEY_SITE="http://127.0.0.1:$proxy_port" PARLEY_UPSTREAMS="${upstreams# }" PARLEY_CADDY_ADMIN=off \
    XDG_DATA_HOME="$dir/caddy-data" XDG_CONFIG_HOME="$dir/caddy-config" \
    caddy run --config "$here/Caddyfile" --adapter caddyfile >"$dir/caddy.log" 2>&1 &
  echo "PROXY_PID=$!" >>"$dir/cluster.env"
  echo "PROXY_URL=http://127.0.0.1:$proxy_port" >>"$dir/cluster.env"
  echo "PREFIX=$CHAT__REDIS__PREFIX" >>"$dir/cluster.env"
  # shellcheck disable=SC1091
  . "$dir/cluster.env"
  wait_ready "$NODE1_URL"
  wait_ready "$NODE2_URL"
  wait_ready "$PROXY_URL"
  echo "cluster up: $PROXY_URL (nodes $NODE1_URL, $NODE2_URL; redis prefix $PREFIX)"
  ;;
stop)
  if [ -f "$dir/cluster.env" ]; then
    # shellcheck disable=SC1091
    . "$dir/cluster.env"
    for pid in "${PROXY_PID:-}" "${NODE1_PID:-}" "${NODE2_PID:-}"; do
      [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
    done
  fi
  ;;
*)
  echo "usage: $0 start|stop DIR" >&2
  exit 2
  ;;
esac
