#!/usr/bin/env bash
# Runs each libFuzzer target for SECONDS (default 60) from its seed corpus and prints the
# executions; exits non-zero if any target finds a crash, leak, timeout or memory blow-up.
#   cmake --preset fuzz && cmake --build --preset fuzz && tests/fuzz/run_fuzzers.sh [SECONDS]
set -euo pipefail
src="$(cd "$(dirname "$0")/../.." && pwd)"
seconds="${1:-60}"
build="${AUTOINT_FUZZ_BUILD:-$src/build/fuzz}"
status=0
for target in movielens config table; do
  exe="$build/tests/fuzz/fuzz_$target"
  if [ ! -x "$exe" ]; then
    echo "run_fuzzers: $exe not built; run: cmake --preset fuzz && cmake --build --preset fuzz" >&2
    exit 2
  fi
  # New inputs go to a scratch corpus in the build tree; the seeds in the repo stay as they are.
  work="$build/fuzz-work/$target"
  mkdir -p "$work/corpus" "$work/artifacts"
  log="$work/last-run.log"
  set +e
  "$exe" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=4096 \
    -print_final_stats=1 -artifact_prefix="$work/artifacts/" \
    "$work/corpus" "$src/tests/fuzz/corpus/$target" >"$log" 2>&1
  rc=$?
  set -e
  # A run that dies early may print none of these; an empty value must not end the script.
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 || true)
  if [ "$rc" -eq 0 ]; then
    echo "fuzz_$target: ${seconds}s, ${execs:-?} executions (${rate:-?}/s), $cov, no crash/leak/hang"
  else
    echo "fuzz_$target: FAILED (exit $rc) after ${execs:-?} executions; log $log, input in $work/artifacts/" >&2
    grep -E 'ERROR|SUMMARY|runtime error|deadly signal|Test unit written' "$log" | head -20 >&2 || true
    status=1
  fi
done
exit "$status"
