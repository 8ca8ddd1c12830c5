#!/usr/bin/env bash
# Runs every benchmark scenario against the chat server and the peers
# (bench/peers: the floor relay, Node.js ws, soketi) and writes
# docs/benchmarks.md, docs/bench/*.svg and docs/bench/results.jsonl.
#
#   bench/run.sh          full sizes, release build (about 35 minutes here)
#   bench/run.sh smoke    tiny sizes of every scenario against our server
#                         only, on the debug build, output to temp files:
#                         what CI runs to show the tool works
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/chat-target}"
mode="${1:-full}"
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

if [ "$mode" = smoke ]; then
  cargo build -q -p chat-api -p chat-bench
  bin="$CARGO_TARGET_DIR/debug"
  out="$(mktemp)"; json="$(mktemp)"; svg="$(mktemp -d)"
else
  # The peers, from the npm registry at the versions package-lock.json pins.
  (cd bench/peers && npm ci --no-audit --no-fund --loglevel=error)
  cargo build -q --release -p chat-api -p chat-bench -p bench-floor
  bin="$CARGO_TARGET_DIR/release"
  mkdir -p docs/bench
  out="docs/benchmarks.md"; json="docs/bench/results.jsonl"; svg="docs/bench"
  : > "$json"
fi

# The server under test on one core, the load generator on the other.
pin_bench=(); pin_server=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
  pin_bench=(taskset -c 1); pin_server=(--server-cpu 0)
fi
bench() {
  "${pin_bench[@]}" "$bin/chat-bench" --server-bin "$bin/chat-api" --floor-bin "$bin/bench-floor" \
    --peers-dir bench/peers "${pin_server[@]}" --json "$json" "$@"
}
ours() { bench --markdown "$out.part" "$@"; }

rm -f "$out.part"
if [ "$mode" = smoke ]; then
  ours e2e --tenants 2 --agents 2 --widgets 10 --rate 20 --seconds 1
  # One hot tenant: every agent socket gets every frame back to back.
  ours e2e --tenants 1 --agents 3 --widgets 20 --rate 20 --seconds 1
  ours fanout --agents 20 --rate 10 --seconds 1
  ours --nodes 2 e2e --tenants 2 --agents 2 --widgets 10 --rate 20 --seconds 1
  ours --nodes 2 fanout --agents 20 --rate 10 --seconds 1
  grep -q "2 nodes" "$out.part"
  ours burst --sizes 50
  ours idle --sockets 40
  ours reconnect-storm --clients 5 --messages 40 --rate 40
  ours startup
  ours search --messages 2000 --sessions 200 --queries 10 --insert-seconds 1
  grep -q "cost of the index" "$out.part"
  ours reports --sessions 500 --queries 3
  grep -q "### reports: 500 conversations" "$out.part"
  ours bot --articles 30 --questions 10
  grep -q "### bot: the knowledge-base bot on a tenant with 30 articles" "$out.part"
  bench compare --input "$json" --svg-dir "$svg" > /dev/null
  grep -q "0 lost" "$out.part"
  grep -q "0 missing, 0 duplicated" "$out.part"
  test -s "$svg/fanout-latency-20x10.svg" && test -s "$svg/idle-rss.svg"
  echo "benchmark smoke run: every scenario ran"
  rm -rf "$out.part" "$out" "$json" "$svg"
  exit 0
fi

# Our server alone: the scenarios the peers have no counterpart for, and
# ours at full size.
ours startup
ours search
ours reports
# The knowledge-base bot on its evaluation set (crates/chat-kb/eval):
# both halves' figures and every miss.
{ printf '### kb-eval: the built-in bot on its evaluation set\n\n```\n'
  CHAT_KB_EVAL=full cargo test -q -p chat-kb --test eval -- --nocapture 2>/dev/null \
    | grep -E '^(development|held-out|fresh|  )'
  printf '```\n\n'; } >> "$out.part"
# Its latency on a tenant with 500 articles.
ours bot
ours e2e --tenants 20 --agents 10 --widgets 1000 --rate 200 --seconds 20
# One hot tenant (10 agents see all 200 messages a second back to back):
# where a socket without TCP_NODELAY would stall on delayed ACKs.
ours e2e --tenants 1 --agents 10 --widgets 500 --rate 200 --seconds 20
# The same tenant at 2,500 messages a second: what one core stores (one
# fsync a commit, concurrent sends sharing it) and delivers, and how busy
# that leaves it.
ours e2e --tenants 1 --agents 10 --widgets 500 --rate 2500 --seconds 20
ours reconnect-storm --clients 50 --messages 1000 --rate 100
# 19,000 idle sockets, half customers and half agent dashboards: as many
# as one process may hold here (`ulimit -Hn` is 20,000), how fast they
# connect, what they hold and what they cost while idle.
ours idle --sockets 19000
# Two nodes on one database and this machine's Redis, posts to one and
# every socket on the other, beside the single node (both nodes pinned to
# the server's core, so the CPU per delivery compares like for like).
ours --nodes 2 e2e --tenants 20 --agents 10 --widgets 1000 --rate 200 --seconds 20
ours fanout --agents 1000 --rate 100 --seconds 8
ours --nodes 2 fanout --agents 1000 --rate 100 --seconds 8
# The same e2e on PostgreSQL and MariaDB where they answer (set
# CHAT_BENCH_POSTGRES / CHAT_BENCH_MARIADB to "off" to skip), each on a
# database of its own, dropped afterwards.
pg_admin=(psql -q -h 127.0.0.1 -U postgres -d test)
my_admin=(mariadb -h 127.0.0.1 -u root test)
db="chat_bench_$$"
if [ "${CHAT_BENCH_POSTGRES:-on}" = on ] && "${pg_admin[@]}" -c 'select 1' >/dev/null 2>&1; then
  "${pg_admin[@]}" -c "create database $db"
  ours --database-url "postgres://postgres@127.0.0.1:5432/$db" e2e --tenants 20 --agents 10 --widgets 1000 --rate 200 --seconds 10
  "${pg_admin[@]}" -c "drop database $db"
  # search makes (and drops) a database of its own from the admin URL.
  ours --database-url "postgres://postgres@127.0.0.1:5432/test" search
  ours --database-url "postgres://postgres@127.0.0.1:5432/test" reports
fi
if [ "${CHAT_BENCH_MARIADB:-on}" = on ] && "${my_admin[@]}" -e 'select 1' >/dev/null 2>&1; then
  "${my_admin[@]}" -e "create database $db"
  ours --database-url "mysql://root@127.0.0.1:3306/$db" e2e --tenants 20 --agents 10 --widgets 1000 --rate 200 --seconds 10
  "${my_admin[@]}" -e "drop database $db"
  ours --database-url "mysql://root@127.0.0.1:3306/test" search
  ours --database-url "mysql://root@127.0.0.1:3306/test" reports
fi

# Side by side, alternating the servers A B A B over three rounds.
peers=(floor node-ws soketi)
for round in 1 2 3; do
  for t in ours "${peers[@]}"; do
    if [ "$t" = ours ]; then who=(); else who=(--peer "$t"); fi
    bench "${who[@]}" --round "$round" fanout --agents 1000 --rate 100 --seconds 8
    bench "${who[@]}" --round "$round" fanout --agents 1000 --rate 50 --seconds 6
    bench "${who[@]}" --round "$round" burst --sizes 5000,10000
  done
done
for t in ours "${peers[@]}"; do
  if [ "$t" = ours ]; then who=(--markdown "$out.part"); else who=(--peer "$t"); fi
  bench "${who[@]}" fanout --agents 1000 --rate 100 --seconds 4 --ramp
  bench "${who[@]}" idle --sockets 10000
done
bench --markdown "$out.compare" compare --input "$json" --svg-dir "$svg" > /dev/null

{
  cat bench/header.md
  echo
  echo "Machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), $(free -g | awk '/Mem:/ {print $2}') GiB; $(uname -sr); run on $(date -u +%Y-%m-%d)."
  echo "Peers: floor = bench/peers/floor (tokio-tungstenite), node-ws = Node.js $(node --version) with ws $(node -p "require('./bench/peers/node_modules/ws/package.json').version"), soketi $(node -p "require('./bench/peers/node_modules/@soketi/soketi/package.json').version")."
  echo
  cat "$out.compare"
  echo "## Our server, scenario by scenario"
  echo
  cat "$out.part"
  # Written by hand: each change's A/B runs, then where we stand.
  for f in bench/notes.md bench/standing.md; do
    if [ -f "$f" ]; then echo; cat "$f"; fi
  done
} > "$out"
rm -f "$out.part" "$out.compare"
echo "wrote $out"
