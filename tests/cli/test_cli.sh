#!/usr/bin/env bash
# End-to-end CLI test: autoint-data synth, autoint-train on those files, autoint-eval,
# and the apps' error contract (one line on stderr, non-zero exit).
# Usage: test_cli.sh BIN_DIR SOURCE_DIR
set -euo pipefail
bin=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$bin/autoint-data" synth --out "$tmp/data" --users 120 --movies 60 --ratings 5000 --seed 3 >/dev/null
for f in users.dat movies.dat ratings.dat; do [ -s "$tmp/data/$f" ] || fail "synth did not write $f"; done

"$bin/autoint-train" --config "$src/configs/ml1m_autoint_plus.yaml" --set data.dir="$tmp/data" \
  --set train.epochs=1 --set train.batch_size=512 --set train.threads=1 --device cpu \
  --output "$tmp/run" > "$tmp/train.out"
grep -q "seed_ndcg@10" "$tmp/train.out" || fail "train output lacks the metrics table"
[ -s "$tmp/run/metrics.json" ] || fail "no metrics.json"

"$bin/autoint-eval" --run "$tmp/run" --device cpu > "$tmp/eval.out"
# The table autoint-eval prints equals the one training printed.
diff <(sed -n '/^test metrics/,/^  \(the model beats\|WARNING\)/p' "$tmp/train.out") \
  "$tmp/eval.out" || fail "autoint-eval metrics differ from training's"
grep -q "movie_mean" "$tmp/eval.out" || fail "the baselines are not printed beside the model"

# Full ranking on request, beside the seed protocol.
"$bin/autoint-eval" --run "$tmp/run" --device cpu --protocol both > "$tmp/full.out"
grep -q "^full ranking" "$tmp/full.out" || fail "--protocol both printed no full-ranking table"
grep -q "^test metrics (seed protocol" "$tmp/full.out" || fail "--protocol both lost the seed table"

expect_error() {  # expected-exit-code expected-text command...
  local code=$1 text=$2
  shift 2
  set +e
  "$@" > "$tmp/out" 2> "$tmp/err"
  local rc=$?
  set -e
  [ "$rc" -eq "$code" ] || fail "$* exited $rc, expected $code"
  [ "$(wc -l < "$tmp/err")" -eq 1 ] || fail "$* printed $(wc -l < "$tmp/err") stderr lines, expected 1"
  grep -qF -- "$text" "$tmp/err" || fail "$*: stderr lacks '$text': $(cat "$tmp/err")"
}
expect_error 2 "model.num_heads must be in [1, 64] (got 0)" \
  "$bin/autoint-train" --config "$src/configs/quickstart.yaml" --set model.num_heads=0
# A list value with a comma reaches the config parser whole (cxxopts splits vector flags on
# ',' unless told otherwise): the error is about the list's item, not broken YAML.
expect_error 2 "model.dnn_hidden_units must be a list of integers >= 1 (got 0)" \
  "$bin/autoint-train" --config "$src/configs/quickstart.yaml" --set 'model.dnn_hidden_units=[8,0]'
expect_error 2 'unknown device "gpu"' \
  "$bin/autoint-train" --config "$src/configs/quickstart.yaml" --device gpu
expect_error 2 "--config FILE is required" "$bin/autoint-train"
expect_error 2 "--protocol topk: expected seed, full_ranking or both" \
  "$bin/autoint-eval" --run "$tmp/run" --device cpu --protocol topk
expect_error 2 "cannot open config file" "$bin/autoint-train" --config "$tmp/none.yaml"
expect_error 1 "run directory does not exist" "$bin/autoint-eval" --run "$tmp/none"
expect_error 1 "users.dat" "$bin/autoint-eval" --run "$tmp/run" --data "$tmp/none"
expect_error 2 "unknown command" "$bin/autoint-data" frobnicate
"$bin/autoint-train" --help | grep -q -- "--set" || fail "--help does not document --set"
echo "cli ok"
