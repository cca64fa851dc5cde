#!/usr/bin/env bash
# Crash-safety end to end: a run killed with SIGKILL mid-epoch, or stopped by SIGINT, and
# resumed with `autoint-train --resume` ends bit-identical to an uninterrupted run; the NaN
# and unwritable-directory guards. AUTOINT_TEST_FAULT (docs/reliability.md) picks the step.
# Usage: test_resume.sh BIN_DIR
set -euo pipefail
bin=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

cat > "$tmp/tiny.yaml" <<'YAML'
data:
  source: synthetic
  synthetic: {users: 120, movies: 60, ratings: 4000}
train: {epochs: 3, batch_size: 256, threads: 1, patience: 5, progress: none}
device: cpu
YAML
train() { "$bin/autoint-train" --config "$tmp/tiny.yaml" "$@"; }
run_rc() {  # dir env... : runs training with the given environment, sets rc
  local dir=$1
  shift
  set +e
  env "$@" "$bin/autoint-train" --config "$tmp/tiny.yaml" --output "$dir" > "$dir.out" 2> "$dir.err"
  rc=$?
  set -e
}
# The test metrics and per-epoch losses, without timings.
metrics() { sed -e '/"seconds"/d' -e '/"samples_per_s"/d' -e '/_seconds"/d' "$1/metrics.json"; }
same_as_reference() {
  cmp -s "$tmp/ref/model.pt" "$1/model.pt" || fail "$1/model.pt differs from the uninterrupted run's"
  diff <(metrics "$tmp/ref") <(metrics "$1") > /dev/null || fail "$1/metrics.json differs"
}

train --output "$tmp/ref" > /dev/null

# SIGKILL in the middle of epoch 2: epoch 1's checkpoint is on disk, nothing else is final.
run_rc "$tmp/killed" AUTOINT_TEST_FAULT=KILL:2:5
[ "$rc" -eq 137 ] || fail "the killed run exited $rc, expected 137 (SIGKILL)"
[ -s "$tmp/killed/checkpoints/epoch-0001.ckpt" ] || fail "no epoch-1 checkpoint before the kill"
[ ! -e "$tmp/killed/model.pt" ] && [ ! -e "$tmp/killed/metrics.json" ] || fail "killed run looks finished"
"$bin/autoint-train" --resume "$tmp/killed" > "$tmp/resumed.out"
grep -q "resume: from .*epoch-0001.ckpt" "$tmp/resumed.out" || fail "resume did not start at epoch 1's checkpoint"
same_as_reference "$tmp/killed"

set +e
"$bin/autoint-train" --resume "$tmp/killed" > /dev/null 2> "$tmp/err"; rc=$?
set -e
[ "$rc" -eq 1 ] && grep -q "the run already finished" "$tmp/err" || fail "resuming a finished run: $rc $(cat "$tmp/err")"

# SIGINT (through the app's handler) after step 3 of epoch 2: a checkpoint of that step.
run_rc "$tmp/int" AUTOINT_TEST_FAULT=INT:2:3
[ "$rc" -eq 130 ] || fail "the interrupted run exited $rc, expected 130"
[ "$(wc -l < "$tmp/int.err")" -eq 1 ] || fail "interrupt printed more than one stderr line"
grep -qF "interrupted at epoch 2, step 3; checkpoint written: $tmp/int/checkpoints/epoch-0002-step-000003.ckpt; continue with: autoint-train --resume $tmp/int" \
  "$tmp/int.err" || fail "interrupt message: $(cat "$tmp/int.err")"
"$bin/autoint-train" --resume "$tmp/int" > /dev/null
same_as_reference "$tmp/int"

# A real Ctrl-C from outside, at whatever step it lands.
set +e
"$bin/autoint-train" --config "$tmp/tiny.yaml" --set train.epochs=500 --output "$tmp/ctrlc" \
  > /dev/null 2> "$tmp/ctrlc.err" &
pid=$!
for _ in $(seq 600); do [ -e "$tmp/ctrlc/checkpoints/epoch-0001.ckpt" ] && break; sleep 0.1; done
kill -INT "$pid"
wait "$pid"; rc=$?
set -e
[ "$rc" -eq 130 ] || fail "Ctrl-C: exit $rc, expected 130: $(cat "$tmp/ctrlc.err")"
grep -q "continue with: autoint-train --resume $tmp/ctrlc" "$tmp/ctrlc.err" || fail "Ctrl-C: no resume hint"
latest=$(ls "$tmp/ctrlc/checkpoints" | grep -v best | sort | tail -1)
grep -qF "checkpoint written: $tmp/ctrlc/checkpoints/$latest" "$tmp/ctrlc.err" \
  || fail "Ctrl-C: the message does not name the newest checkpoint $latest"

# NaN loss in epoch 2: a message with epoch and step, exit 1, epoch 1's checkpoint kept.
run_rc "$tmp/nan" AUTOINT_TEST_FAULT=NAN:2:2
[ "$rc" -eq 1 ] || fail "NaN run exited $rc, expected 1"
grep -q "the loss became nan at epoch 2, step 2.*the last good checkpoint is $tmp/nan/checkpoints/epoch-0001.ckpt" \
  "$tmp/nan.err" || fail "NaN message: $(cat "$tmp/nan.err")"
[ -s "$tmp/nan/checkpoints/epoch-0001.ckpt" ] || fail "NaN run lost its good checkpoint"

# An output directory that cannot be created (under a regular file: root cannot either).
echo x > "$tmp/file.txt"
set +e
train --output "$tmp/file.txt/run" > "$tmp/out" 2> "$tmp/err"; rc=$?
set -e
[ "$rc" -eq 1 ] && grep -q "$tmp/file.txt/run: cannot create run directory" "$tmp/err" \
  || fail "unwritable output: $rc $(cat "$tmp/err")"
[ ! -s "$tmp/out" ] || fail "unwritable output: training started anyway"

set +e
"$bin/autoint-train" --resume "$tmp/int" --set train.epochs=9 > /dev/null 2> "$tmp/err"; rc=$?
set -e
[ "$rc" -eq 2 ] && grep -q -- "--set cannot be combined with it" "$tmp/err" || fail "--resume --set: $rc"
# Implicit feedback: negatives are drawn afresh each epoch from train.seed and the epoch, so a
# run killed mid-epoch 2 and resumed ends bit-identical too (full-ranking validation included).
implicit=(--set train.objective=implicit --set train.negatives.per_positive=3
  --set train.monitor=ndcg --set train.ranking_validation_users=40)
train --output "$tmp/ref_implicit" "${implicit[@]}" > /dev/null
set +e
AUTOINT_TEST_FAULT=KILL:2:3 "$bin/autoint-train" --config "$tmp/tiny.yaml" "${implicit[@]}" \
  --output "$tmp/killed_implicit" > /dev/null 2>&1; rc=$?
set -e
[ "$rc" -eq 137 ] || fail "the killed implicit run exited $rc, expected 137 (SIGKILL)"
"$bin/autoint-train" --resume "$tmp/killed_implicit" > /dev/null
cmp -s "$tmp/ref_implicit/model.pt" "$tmp/killed_implicit/model.pt" \
  || fail "the resumed implicit run's model.pt differs from the uninterrupted run's"
diff <(metrics "$tmp/ref_implicit") <(metrics "$tmp/killed_implicit") > /dev/null \
  || fail "the resumed implicit run's metrics.json differs"
grep -q '"validation_ndcg": [0-9]' "$tmp/ref_implicit/metrics.json" \
  || fail "the implicit run's history has no validation_ndcg"

echo "resume ok"
