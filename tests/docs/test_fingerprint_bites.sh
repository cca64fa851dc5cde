#!/usr/bin/env bash
# The freshness check of docs/results.md bites: with each deliberate numerics change of
# AUTOINT_TEST_NUMERICS_CHANGE (one initial weight moved by 1e-3; one optimizer step more per
# epoch) `results.sh --check seed` must fail, naming the table and the figure that moved.
# Exit 77 (skipped) where ../shared/data/ml-1m (or AUTOINT_ML1M_DIR) is absent.
set -euo pipefail
cd "$(dirname "$0")/../.."
data="${AUTOINT_ML1M_DIR:-../shared/data/ml-1m}"
if [ ! -f "$data/ratings.dat" ]; then
  echo "skipped: no ML-1M at $data (set AUTOINT_ML1M_DIR)"
  exit 77
fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT
# Without a change it passes (so the failures below are the changes' doing).
if ! env -u AUTOINT_TEST_NUMERICS_CHANGE docs/scripts/results.sh --check seed >"$out" 2>&1; then
  echo "FAIL: the check fails without a change:"
  cat "$out"
  exit 1
fi
for change in initial_weight extra_step; do
  if AUTOINT_TEST_NUMERICS_CHANGE=$change docs/scripts/results.sh --check seed >"$out" 2>&1; then
    echo "FAIL: the check passed with AUTOINT_TEST_NUMERICS_CHANGE=$change"
    cat "$out"
    exit 1
  fi
  if ! grep -q "table 'seed' (fingerprints recorded at [0-9a-f]*): run ml1m_autoint_plus: [a-z_]" "$out" ||
    ! grep -q "the numbers moved" "$out"; then
    echo "FAIL: with $change the check failed without naming the table and the figure:"
    cat "$out"
    exit 1
  fi
  echo "$change: $(head -c 300 "$out")"
done
echo "the check fails on both deliberate numerics changes"
