#!/usr/bin/env bash
# Installs the built project into a scratch prefix, then configures, builds and runs
# tests/consumer against it with find_package(autoint).
# Usage: run_consumer.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" > /dev/null
cmake -S "$src/tests/consumer" -B "$tmp/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$tmp/prefix" > "$tmp/configure.log"
# The package says which c10d backends the library has: gloo when the build found Gloo.
line=$(grep "^-- autoint's distributed backends:" "$tmp/configure.log") \
  || { echo "FAIL: autointConfig.cmake does not set autoint_DISTRIBUTED_BACKENDS" >&2; exit 1; }
gloo=$(sed -n 's/^AUTOINT_GLOO_INCLUDE_DIR:PATH=//p' "$build/CMakeCache.txt")
if [ -n "$gloo" ] && [ "${gloo%NOTFOUND}" = "$gloo" ]; then
  echo "$line" | grep -qw gloo || { echo "FAIL: $line, but the build has Gloo" >&2; exit 1; }
fi
cmake --build "$tmp/build" > /dev/null
LD_LIBRARY_PATH="$tmp/prefix/lib:${LD_LIBRARY_PATH:-}" "$tmp/build/consumer"

# docs/examples: the program that trains AutoInt+ on its own tensors through the public
# headers, built against the same installed package; it exits 1 unless its test AUC > 0.9.
cmake -S "$src/docs/examples" -B "$tmp/examples" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$tmp/prefix" > /dev/null
cmake --build "$tmp/examples" > /dev/null
LD_LIBRARY_PATH="$tmp/prefix/lib:${LD_LIBRARY_PATH:-}" "$tmp/examples/train_on_tensors" \
  > "$tmp/example.log" || { cat "$tmp/example.log" >&2; echo "FAIL: docs/examples/train_on_tensors" >&2; exit 1; }
tail -1 "$tmp/example.log"
# docs/examples/train_with_history.cpp: the same with the caller's own histories.
LD_LIBRARY_PATH="$tmp/prefix/lib:${LD_LIBRARY_PATH:-}" "$tmp/examples/train_with_history" \
  > "$tmp/history.log" || { cat "$tmp/history.log" >&2; echo "FAIL: docs/examples/train_with_history" >&2; exit 1; }
tail -1 "$tmp/history.log"
