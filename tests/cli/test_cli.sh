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
# --print-config resolves the same config the run saved, and trains nothing.
"$bin/autoint-train" --config "$src/configs/ml1m_autoint_plus.yaml" --set data.dir="$tmp/data" \
  --set train.epochs=1 --set train.batch_size=512 --set train.threads=1 --device cpu \
  --output "$tmp/run" --print-config | cmp -s - "$tmp/run/config.yaml" \
  || fail "--print-config differs from the run's config.yaml"

"$bin/autoint-eval" --run "$tmp/run" --device cpu > "$tmp/eval.out"
# The table autoint-eval prints equals the one training printed.
diff <(sed -n '/^test metrics/,/^  \(the model beats\|WARNING\)/p' "$tmp/train.out") \
  "$tmp/eval.out" || fail "autoint-eval metrics differ from training's"
grep -q "movie_mean" "$tmp/eval.out" || fail "the baselines are not printed beside the model"

# A results table of the run (docs/scripts/results.sh's building block).
"$bin/autoint-eval" --table "tiny=$tmp/run" --baselines "$tmp/run" --columns auc,epochs_run \
  > "$tmp/table.md"
grep -q '^| tiny | 0\.[0-9]\{4\} | [0-9]\.0 |$' "$tmp/table.md" || fail "--table printed no model row"
grep -q '^| movie_mean | 0\.[0-9]\{4\} | — |$' "$tmp/table.md" || fail "--table printed no baselines"

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
expect_error 2 'device must be auto, cpu, cuda or cuda:N with N >= 0 (got gpu)' \
  "$bin/autoint-train" --config "$src/configs/quickstart.yaml" --device gpu
expect_error 2 "--config FILE is required" "$bin/autoint-train"
expect_error 2 "--protocol topk: expected seed, full_ranking or both" \
  "$bin/autoint-eval" --run "$tmp/run" --device cpu --protocol topk
expect_error 2 "cannot open config file" "$bin/autoint-train" --config "$tmp/none.yaml"
expect_error 1 "run directory does not exist" "$bin/autoint-eval" --run "$tmp/none"
expect_error 2 "--table tiny: expected LABEL=DIR" "$bin/autoint-eval" --table tiny
expect_error 2 "unknown column auk" "$bin/autoint-eval" --table "t=$tmp/run" --columns auc,auk
expect_error 1 "neither a finished run" "$bin/autoint-eval" --table "t=$tmp/none"
expect_error 1 "users.dat" "$bin/autoint-eval" --run "$tmp/run" --data "$tmp/none"
expect_error 2 "unknown command" "$bin/autoint-data" frobnicate
# CTR files: one file in the Criteo format (40 TAB-separated columns); a bad format is a usage error.
"$bin/autoint-data" synth --format criteo --rows 100 --out "$tmp/criteo.txt" > "$tmp/out"
grep -q "^wrote 100 rows (.*% positive) in the criteo format to $tmp/criteo.txt$" "$tmp/out" \
  || fail "synth --format criteo printed: $(cat "$tmp/out")"
[ "$(awk -F'\t' 'NF == 40' "$tmp/criteo.txt" | wc -l)" -eq 100 ] || fail "criteo.txt: not 100 rows of 40 columns"
expect_error 2 "--format parquet: expected movielens, criteo or avazu" \
  "$bin/autoint-data" synth --format parquet --out "$tmp/x"

# Run directories are owned (docs/reliability.md, "Run directories"): a directory that is not
# an autoint run is refused and left as it was; a typo in data.dir costs a finished run
# nothing; a second writer fails at once.
mkdir -p "$tmp/thesis/checkpoints/sub"
echo '\chapter{One}' > "$tmp/thesis/checkpoints/sub/thesis.tex"
echo 'notes' > "$tmp/thesis/train.log"
(cd "$tmp/thesis" && find . -type f -exec md5sum {} + | sort) > "$tmp/thesis.before"
expect_error 1 "$tmp/thesis: holds 2 file(s) or folder(s) (checkpoints, train.log) and is not an autoint run" \
  "$bin/autoint-train" --config "$src/configs/quickstart.yaml" --output "$tmp/thesis"
diff "$tmp/thesis.before" <(cd "$tmp/thesis" && find . -type f -exec md5sum {} + | sort) \
  || fail "a refused output directory was changed"
cp "$tmp/run/manifest.json" "$tmp/manifest.before"
expect_error 1 "/nonexistent/ml-1m" "$bin/autoint-train" --config "$src/configs/ml1m_autoint_plus.yaml" \
  --set data.dir=/nonexistent/ml-1m --device cpu --output "$tmp/run"
cmp -s "$tmp/manifest.before" "$tmp/run/manifest.json" || fail "a data error changed the finished run"
"$bin/autoint-eval" --run "$tmp/run" --device cpu > /dev/null || fail "the finished run no longer loads"

"$bin/autoint-train" --config "$src/configs/ml1m_autoint_plus.yaml" --set data.dir="$tmp/data" \
  --set train.epochs=200 --set train.batch_size=64 --set train.threads=1 --set train.progress=none \
  --device cpu --output "$tmp/busy" > "$tmp/busy.out" 2>&1 &
first=$!
for _ in $(seq 1 300); do
  grep -q "pid $first" "$tmp/busy/run.lock" 2> /dev/null && break
  sleep 0.1
done
grep -q "pid $first" "$tmp/busy/run.lock" || fail "the first run did not take its lock"
expect_error 1 "$tmp/busy: in use by another autoint process (pid $first)" \
  "$bin/autoint-train" --config "$src/configs/ml1m_autoint_plus.yaml" --set data.dir="$tmp/data" \
  --device cpu --output "$tmp/busy"
kill -INT "$first"  # it checkpoints and exits 130, as after Ctrl-C
set +e
wait "$first"
rc=$?
set -e
[ "$rc" -eq 130 ] || fail "the first run exited $rc after SIGINT, expected 130: $(tail -3 "$tmp/busy.out")"
[ "$(grep -c '^autoint ' "$tmp/busy/train.log")" -eq 1 ] || fail "train.log holds another run's lines"

# Data other than the run was trained on: an error, or a warning when allowed.
"$bin/autoint-data" synth --out "$tmp/data2" --users 120 --movies 60 --ratings 5000 --seed 4 >/dev/null
expect_error 1 "was trained on other data" "$bin/autoint-eval" --run "$tmp/run" --data "$tmp/data2"
"$bin/autoint-eval" --run "$tmp/run" --data "$tmp/data2" --device cpu --allow-other-data \
  | grep -q "^warning: .* was trained on other data" || fail "--allow-other-data printed no warning"

"$bin/autoint-train" --help | grep -q -- "--set" || fail "--help does not document --set"
echo "cli ok"
