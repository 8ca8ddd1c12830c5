#!/usr/bin/env bash
# Runs every benchmark scenario against the chat server and writes
# docs/benchmarks.md (and bench/results/latest.jsonl).
#
#   bench/run.sh          full sizes, release build (about 10 minutes here)
#   bench/run.sh smoke    tiny sizes on the debug build, output to a temp
#                         file: what CI runs to show the tool works
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/chat-target}"
mode="${1:-full}"
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

if [ "$mode" = smoke ]; then
  cargo build -q -p chat-api -p chat-bench
  bin="$CARGO_TARGET_DIR/debug"
  out="$(mktemp)"; json="$(mktemp)"
else
  cargo build -q --release -p chat-api -p chat-bench
  bin="$CARGO_TARGET_DIR/release"
  mkdir -p bench/results
  out="docs/benchmarks.md"; json="bench/results/latest.jsonl"
  : > "$json"
fi

# The server on one core, the load generator on the other.
pin_bench=(); pin_server=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
  pin_bench=(taskset -c 1); pin_server=(--server-cpu 0)
fi
bench() { "${pin_bench[@]}" "$bin/chat-bench" --server-bin "$bin/chat-api" "${pin_server[@]}" --json "$json" --markdown "$out.part" "$@"; }

rm -f "$out.part"
if [ "$mode" = smoke ]; then
  bench e2e --tenants 2 --agents 2 --widgets 10 --rate 20 --seconds 1
  bench fanout --agents 20 --rate 10 --seconds 1
  bench burst --sizes 50
  bench idle --sockets 40
  bench reconnect-storm --clients 5 --messages 40 --rate 40
  bench startup
  grep -q "0 lost" "$out.part"
  grep -q "0 missing, 0 duplicated" "$out.part"
  echo "benchmark smoke run: every scenario ran"
  rm -f "$out.part" "$out" "$json"
  exit 0
fi

bench startup
bench idle --sockets 10000
bench burst --sizes 5000,10000
bench fanout --agents 1000 --rate 100 --seconds 10 --ramp
bench e2e --tenants 20 --agents 10 --widgets 1000 --rate 200 --seconds 20
bench reconnect-storm --clients 50 --messages 1000 --rate 100

{
  cat bench/header.md
  echo
  echo "Machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), $(free -g | awk '/Mem:/ {print $2}') GiB; $(uname -sr); run on $(date -u +%Y-%m-%d)."
  echo
  cat "$out.part"
} > "$out"
rm -f "$out.part"
echo "wrote $out"
