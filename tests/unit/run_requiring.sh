#!/usr/bin/env bash
# Runs the unit tests tagged [cuda] or [ml1m] when what they need is here, and otherwise exits
# 77, which ctest reports as a skip (not as a pass).
#   run_requiring.sh UNIT_TEST_BINARY cuda|ml1m
set -euo pipefail
bin=$1
need=$2
case "$need" in
  cuda)
    if ! "$bin" "[cuda_probe]" >/dev/null 2>&1; then
      echo "skipped: CUDA is not available in this LibTorch build or on this machine"
      exit 77
    fi
    ;;
  ml1m)
    if [ -z "${AUTOINT_ML1M_DIR:-}" ] || [ ! -f "$AUTOINT_ML1M_DIR/ratings.dat" ]; then
      echo "skipped: set AUTOINT_ML1M_DIR to the ml-1m directory to run the [ml1m] tests"
      exit 77
    fi
    ;;
  *)
    echo "run_requiring.sh: unknown requirement '$need' (expected cuda or ml1m)" >&2
    exit 2
    ;;
esac
exec "$bin" "[$need]"
