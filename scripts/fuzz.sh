#!/usr/bin/env bash
# Runs every libFuzzer target (crates/chat-fuzz) for the given seconds each
# (default 60): every client frame and request body parser, and random
# command sequences against the chat service with the in-memory store.
#
#   scripts/fuzz.sh            60 s each, seeded from the committed corpus
#   scripts/fuzz.sh 600        10 minutes each
#   scripts/fuzz.sh 600 --keep new inputs go into the committed corpus
#                              (minimise it afterwards: cargo fuzz cmin)
#
# Works on the stable toolchain: no sanitizer (the code forbids `unsafe`),
# so only libFuzzer's coverage instrumentation is needed. A crash, a panic
# or a leak fails the script and leaves the input under $ARTIFACTS.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/chat-target}"
seconds="${1:-60}"
keep="${2:-}"
targets=(client_frame request_bodies service_sequences)

command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
work="$(mktemp -d)"
ARTIFACTS="${ARTIFACTS:-$work/artifacts}"
mkdir -p "$ARTIFACTS"
trap 'rm -rf "$work/corpus"' EXIT

cargo fuzz build --fuzz-dir crates/chat-fuzz -s none
for t in "${targets[@]}"; do
  seeds="crates/chat-fuzz/corpus/$t"
  if [ "$keep" = "--keep" ]; then
    out="$seeds"
    extra=()
  else
    out="$work/corpus/$t"
    extra=("$seeds")
    mkdir -p "$out"
  fi
  echo "==> fuzz $t for ${seconds}s"
  cargo fuzz run --fuzz-dir crates/chat-fuzz -s none "$t" "$out" "${extra[@]}" -- \
    -max_total_time="$seconds" -artifact_prefix="$ARTIFACTS/$t-" -print_final_stats=1 \
    2>&1 | grep -E '^(#[0-9]+ +DONE|Done|stat::number_of_executed_units|==|SUMMARY|thread .* panicked|.*Test unit written)' || true
  if compgen -G "$ARTIFACTS/$t-*" >/dev/null; then
    echo "fuzz target $t found a failing input: $(ls "$ARTIFACTS/$t-"*)" >&2
    exit 1
  fi
done
echo "fuzzing: ${#targets[@]} targets, ${seconds}s each, no failing input"
