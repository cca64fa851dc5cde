#!/usr/bin/env bash
# Distributed training over c10d (Gloo, loopback), end to end: 2 ranks give the metrics of 1
# process; a rank killed mid-epoch makes the survivor fail fast naming it, with the last
# checkpoint intact and --resume ending as the uninterrupted distributed run; Ctrl-C on one
# rank stops all; the launch errors (closed port, RANK >= WORLD_SIZE, grid).
# Usage: test_distributed.sh BIN_DIR
set -euo pipefail
bin=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
# Bit-exact comparisons need the same BLAS threads in every process, however launched.
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1

# Dropout off: with it, each rank draws its own masks and the runs differ by more than
# floating-point reordering (docs/distributed.md).
cat > "$tmp/tiny.yaml" <<'YAML'
data:
  source: synthetic
  synthetic: {users: 120, movies: 60, ratings: 4000}
model: {dropout: 0.0}
train: {epochs: 3, batch_size: 256, threads: 1, patience: 5, progress: none}
distributed: {timeout_s: 20}
device: cpu
YAML
train() { "$bin/autoint-train" --config "$tmp/tiny.yaml" "$@"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# Fails unless every test metric and per-epoch figure of $1 and $2 agree within $3.
close() {
  python3 - "$1/metrics.json" "$2/metrics.json" "$3" <<'PY' || fail "$1 and $2 differ by more than $3"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
tol = float(sys.argv[3])
pairs = [(k, a[k], b[k]) for k in ("auc", "logloss")]
for i, (x, y) in enumerate(zip(a["run"]["history"], b["run"]["history"])):
    for k in ("train_loss", "validation_logloss", "validation_auc"):
        pairs.append((f"epoch {i + 1} {k}", x[k], y[k]))
assert len(a["run"]["history"]) == len(b["run"]["history"]), "epochs differ"
bad = [f"{k}: {x} vs {y}" for k, x, y in pairs if abs(x - y) > tol]
if bad:
    sys.exit("\n".join(bad))
PY
}

train --output "$tmp/one" > /dev/null
train --nproc 2 --output "$tmp/two" > "$tmp/two.out" 2> "$tmp/two.err"
[ ! -s "$tmp/two.err" ] || fail "a clean 2-rank run wrote to stderr: $(cat "$tmp/two.err")"
grep -q "^distributed: 2 ranks (gloo), global batch 256 (128 per rank)" "$tmp/two/train.log" \
  || fail "train.log does not describe the 2-rank run"
[ "$(grep -c '^epoch 1/3' "$tmp/two.out")" -eq 1 ] || fail "more than one rank wrote to the console"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))["run"]["distributed"]; assert d["world_size"]==2 and d["backend"]=="gloo", d' \
  "$tmp/two/metrics.json" || fail "metrics.json lacks the world"
# Same global batch: the gradients differ only by the order of float additions.
close "$tmp/one" "$tmp/two" 1e-5

# Rank 1 killed in epoch 2, ranks started as torchrun would (environment variables).
port=$(free_port)
set +e
( env WORLD_SIZE=2 RANK=1 MASTER_ADDR=127.0.0.1 MASTER_PORT="$port" AUTOINT_TEST_FAULT=KILL:2:3 \
    "$bin/autoint-train" --config "$tmp/tiny.yaml" --output "$tmp/killed" > /dev/null 2>&1
  date +%s > "$tmp/rank1.end" ) 2> /dev/null &
env WORLD_SIZE=2 RANK=0 MASTER_ADDR=127.0.0.1 MASTER_PORT="$port" \
  "$bin/autoint-train" --config "$tmp/tiny.yaml" --output "$tmp/killed" > /dev/null 2> "$tmp/killed.err"
rc=$?
end=$(date +%s)
wait
set -e
elapsed=$(( end - $(cat "$tmp/rank1.end") ))  # from rank 1's death to the survivor's exit
[ "$rc" -eq 1 ] || fail "the survivor exited $rc, expected 1: $(cat "$tmp/killed.err")"
[ "$(wc -l < "$tmp/killed.err")" -eq 1 ] || fail "the survivor wrote more than one line: $(cat "$tmp/killed.err")"
grep -qF "distributed training lost rank 1 at epoch 2, step 4; the last checkpoint is $tmp/killed/checkpoints/epoch-0001.ckpt (rank 0 of 2, gloo" \
  "$tmp/killed.err" || fail "survivor's message: $(cat "$tmp/killed.err")"
[ "$elapsed" -lt 20 ] || fail "the survivor took ${elapsed}s, more than distributed.timeout_s"
[ ! -e "$tmp/killed/metrics.json" ] || fail "the failed run looks finished"
"$bin/autoint-train" --nproc 2 --resume "$tmp/killed" > /dev/null 2> "$tmp/resume.err" || fail "resume: $(cat "$tmp/resume.err")"
cmp -s "$tmp/two/model.pt" "$tmp/killed/model.pt" \
  || fail "the resumed 2-rank run ended with other weights than the uninterrupted one"

# The launcher's report: which rank died first, and what the survivor said.
set +e
AUTOINT_TEST_FAULT=KILL:2:3@1 train --nproc 2 --output "$tmp/launch" > /dev/null 2> "$tmp/launch.err"
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "--nproc with a killed rank exited $rc"
[ "$(wc -l < "$tmp/launch.err")" -eq 1 ] || fail "--nproc wrote more than one line: $(cat "$tmp/launch.err")"
grep -qE "^autoint-train: error: 2 of 2 local ranks failed; first rank 1 \(pid [0-9]+\) was killed by signal 9 .*; then rank 0 \(pid [0-9]+\) exited with 1: distributed training lost rank 1 at epoch 2, step 4" \
  "$tmp/launch.err" || fail "--nproc report: $(cat "$tmp/launch.err")"
# A different world size may resume: the global batch, and so the data order, is the same.
"$bin/autoint-train" --resume "$tmp/launch" > /dev/null || fail "resuming a 2-rank run in one process"
close "$tmp/two" "$tmp/launch" 1e-5

# Ctrl-C reaching one rank stops every rank at the same step, rank 0 checkpoints it.
set +e
AUTOINT_TEST_FAULT=INT:2:2@1 train --nproc 2 --output "$tmp/int" > /dev/null 2> "$tmp/int.err"
rc=$?
set -e
[ "$rc" -eq 130 ] || fail "an interrupted rank: exit $rc, expected 130: $(cat "$tmp/int.err")"
grep -qF "interrupted at epoch 2, step 3; checkpoint written: $tmp/int/checkpoints/epoch-0002-step-000003.ckpt" \
  "$tmp/int.err" || fail "interrupt report: $(cat "$tmp/int.err")"
"$bin/autoint-train" --nproc 2 --resume "$tmp/int" > /dev/null
cmp -s "$tmp/two/model.pt" "$tmp/int/model.pt" || fail "interrupted and resumed 2-rank run differs"

# Launch errors: a closed port within the timeout, a rank outside the world, a grid.
closed=$(free_port)
start=$(date +%s)
set +e
WORLD_SIZE=2 RANK=1 MASTER_PORT="$closed" train --set distributed.timeout_s=2 --output "$tmp/x" \
  > /dev/null 2> "$tmp/port.err"
rc=$?
set -e
elapsed=$(( $(date +%s) - start ))
[ "$rc" -eq 1 ] && [ "$(wc -l < "$tmp/port.err")" -eq 1 ] || fail "closed port: $rc $(cat "$tmp/port.err")"
grep -qF "rank 1 cannot reach the rendezvous store at MASTER_ADDR:MASTER_PORT 127.0.0.1:$closed within distributed.timeout_s 2 s" \
  "$tmp/port.err" || fail "closed port message: $(cat "$tmp/port.err")"
[ "$elapsed" -lt 12 ] || fail "closed port took ${elapsed}s with a 2 s timeout"
set +e
WORLD_SIZE=2 RANK=2 train --output "$tmp/x" > /dev/null 2> "$tmp/rank.err"
rc=$?
set -e
[ "$rc" -eq 2 ] && grep -qF 'RANK="2": expected a rank from 0 to 1 (WORLD_SIZE - 1)' "$tmp/rank.err" \
  || fail "RANK >= WORLD_SIZE: $rc $(cat "$tmp/rank.err")"
set +e
train --world-size 2 --rank 0 --set repeats=2 --output "$tmp/x" > /dev/null 2> "$tmp/grid.err"
rc=$?
set -e
[ "$rc" -eq 2 ] && grep -qF "distributed training (WORLD_SIZE, --nproc) runs one config at a time" \
  "$tmp/grid.err" || fail "grid with a world: $rc $(cat "$tmp/grid.err")"
set +e
train --nproc 2 --set repeats=2 --output "$tmp/x" > /dev/null 2> "$tmp/grid2.err"
rc=$?
set -e
[ "$rc" -eq 2 ] && [ "$(wc -l < "$tmp/grid2.err")" -eq 1 ] || fail "--nproc with repeats: $rc $(cat "$tmp/grid2.err")"
set +e
train --nproc 2 --set distributed.backend=nccl --output "$tmp/x" > /dev/null 2> "$tmp/nccl.err"
rc=$?
set -e
[ "$rc" -eq 2 ] && [ "$(wc -l < "$tmp/nccl.err")" -eq 1 ] && grep -qF "NCCL runs on CUDA devices only" \
  "$tmp/nccl.err" || fail "--nproc with NCCL on the CPU: $rc $(cat "$tmp/nccl.err")"
set +e
train --nproc 2 --rank 1 --output "$tmp/x" > /dev/null 2> "$tmp/mix.err"
rc=$?
set -e
[ "$rc" -eq 2 ] && grep -qF -- "--nproc starts a world of its own" "$tmp/mix.err" \
  || fail "--nproc with --rank: $rc $(cat "$tmp/mix.err")"
# Something else on MASTER_PORT (an HTTP server): a worker is told so within
# distributed.timeout_s instead of hanging in the store's first read.
port=$(free_port)
python3 -m http.server "$port" --bind 127.0.0.1 > /dev/null 2>&1 &
http_server=$!
for _ in $(seq 1 50); do
  python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' "$port" 2> /dev/null && break
  sleep 0.1
done
set +e
timeout 60 env WORLD_SIZE=2 RANK=1 MASTER_ADDR=127.0.0.1 MASTER_PORT="$port" \
  "$bin/autoint-train" --config "$tmp/tiny.yaml" --set distributed.timeout_s=3 \
  --set train.progress=none --output "$tmp/stranger" > /dev/null 2> "$tmp/stranger.err"
rc=$?
set -e
kill "$http_server" 2> /dev/null || true
wait "$http_server" 2> /dev/null || true
[ "$rc" -eq 1 ] && grep -qF "did not answer as a c10d rendezvous store within distributed.timeout_s 3 s" \
  "$tmp/stranger.err" || fail "a worker facing a foreign server on MASTER_PORT: rc $rc $(cat "$tmp/stranger.err")"
echo "distributed: all checks passed"
