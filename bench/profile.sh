#!/usr/bin/env bash
# Samples our server with perf (cpu-clock, DWARF call graphs) while
# chat-bench runs the fan-out load against it, then prints where the
# server's time goes, inclusive of callees.
#
#   bench/profile.sh [agents] [rate]     defaults: 1000 agents, 50 messages/s
#
# Needs Debian's linux-perf. Hardware counters are not available on every
# machine; the cpu-clock software event is.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/chat-target}"
agents="${1:-1000}"; rate="${2:-50}"
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
command -v perf >/dev/null || { echo "perf not found: apt-get install linux-perf" >&2; exit 1; }
cargo build -q --release -p chat-api -p chat-bench
bin="$CARGO_TARGET_DIR/release"
data="$(mktemp --suffix=.perf)"; log="$(mktemp)"
trap 'rm -f "$log" "${report:-}"' EXIT; echo "perf data: $data" >&2

taskset -c 1 "$bin/chat-bench" --server-bin "$bin/chat-api" --server-cpu 0 \
  fanout --agents "$agents" --rate "$rate" --seconds 20 > "$log" 2>&1 &
bench=$!
# The server is up once chat-bench has started it; the load begins once
# every socket is connected, which the progress line announces.
until grep -q "fanout connect\] \[#*\] $agents/$agents" "$log" 2>/dev/null; do
  kill -0 "$bench" 2>/dev/null || { cat "$log"; exit 1; }
  sleep 0.2
done
pid="$(pgrep -n -f "$bin/chat-api serve")"
perf record -q -e cpu-clock -F 999 --call-graph dwarf,16384 -p "$pid" -o "$data" -- sleep 8
wait "$bench"
grep "server CPU per delivery" "$log"

report="$(mktemp)"
perf report -i "$data" --children --sort symbol --stdio -g none > "$report" 2>/dev/null
share() { local v; v="$(grep -m1 -F "$1" "$report" | awk '{print $1}')"; echo "${v:-not sampled}"; }
printf '\n| where | share of server CPU (inclusive) |\n| --- | --- |\n'
printf '| %s | %s |\n' \
  "actix HTTP/1 dispatcher, all of it (polls the response body, writes)" "$(share 'h1::dispatcher::Dispatcher<')" \
  "  of which the kernel's TCP send (loopback: includes delivery to the reader)" "$(share '__x64_sys_sendto')" \
  "  of which the response body (queue → encoded frames, ws/outgoing.rs)" "$(share 'ws::outgoing::Outgoing as actix_http')" \
  "worker-local deliverer (try_send into each queue, hub/local.rs)" "$(share 'hub::local::deliver')" \
  "hub thread (registry, one batch per worker)" "$(share 'hub::registry::Registry::handle')" \
  "connection tasks (replies, pings; not on the fan-out path)" "$(share 'ws::conn::Conn::run::{{closure}}')" \
  "SQLite (append, fsync)" "$(share 'sqlite3VdbeExec')" \
  "kernel: epoll" "$(share '__x64_sys_epoll_wait')"
echo
echo "Top self-time symbols:"
perf report -i "$data" --no-children --sort dso,symbol --stdio -g none 2>/dev/null | grep '%' | head -25 | cut -c1-110
