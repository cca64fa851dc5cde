#!/usr/bin/env bash
# Side-by-side speed comparison with the peer (the seed's AutoInt+ in PyTorch eager,
# ../shared/bench/ref_autoint.py): rounds interleaved (ours, peer, ours, peer, ...),
# same batch size and thread counts, ratios = median over rounds. Only same-run ratios count.
# Each configuration is (intra-op threads, OpenBLAS threads); both sides get every one of
# them (OPENBLAS_NUM_THREADS for both), and "best" compares each side's best configuration.
#
# Usage: apps/compare_peer.sh [--rounds R] [--steps N] [--batch B] [--threads "1 2"]
#                             [--blas-threads "1 2"] [--peer PATH] [--bin BUILD/apps]
#                             [--device cpu]
# Needs /usr/bin/python3 with Debian's python3-torch (AUTOINT_WITH_PEER=1 third_party/install-deps.sh).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
rounds=3 steps=40 batch=2048 threads="1 2" blas_threads="1 2" device=cpu
peer="$here/../shared/bench/ref_autoint.py"
bin="$here/build/release/apps"
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --steps) steps=$2; shift 2 ;;
    --batch) batch=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --blas-threads) blas_threads=$2; shift 2 ;;
    --peer) peer=$2; shift 2 ;;
    --bin) bin=$2; shift 2 ;;
    --device) device=$2; shift 2 ;;
    *) echo "compare_peer.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -f "$peer" ] || { echo "compare_peer.sh: peer script $peer not found (--peer PATH)" >&2; exit 2; }
[ -x "$bin/autoint-bench" ] || { echo "compare_peer.sh: $bin/autoint-bench not built (--bin DIR)" >&2; exit 2; }
[ "$steps" -gt 5 ] || { echo "compare_peer.sh: --steps must be > 5 (the peer warms up 5)" >&2; exit 2; }

out=$(mktemp)
trap 'rm -f "$out" "$out.json"' EXIT
for r in $(seq "$rounds"); do
  for b in $blas_threads; do
    for t in $threads; do
      # The peer times steps-5 training steps after 5 warm-up steps, and evaluates all `steps`.
      OPENBLAS_NUM_THREADS=$b "$bin/autoint-bench" --throughput-only --device "$device" \
        --threads "$t" --batch "$batch" --warmup 5 --steps $((steps - 5)) --json "$out.json" \
        >/dev/null 2>&1
      /usr/bin/python3 - "$out.json" "$r" "$t/$b" >> "$out" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
print("ours", sys.argv[2], sys.argv[3], d["train_samples_per_s"], d["eval_samples_per_s"])
PY
      OPENBLAS_NUM_THREADS=$b /usr/bin/python3 "$peer" --steps "$steps" --batch "$batch" \
        --threads "$t" | awk -v r="$r" -v t="$t/$b" '/^train_samples_per_s/{tr=$2}
          /^eval_samples_per_s/{ev=$2} END{print "peer", r, t, tr, ev}' >> "$out"
      tail -2 "$out" | sed 's/^/  /' >&2
    done
  done
done
/usr/bin/python3 - "$out" "$batch" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
data = {}
for who, r, t, tr, ev in rows:
    data[(who, int(r), t)] = (float(tr), float(ev))
rounds = sorted({k[1] for k in data}); threads = sorted({k[2] for k in data})
print(f"batch {sys.argv[2]}, {len(rounds)} rounds interleaved; medians over rounds; "
      "threads = intra-op/OpenBLAS")
print(f"{'threads':>8} {'ours train/s':>13} {'peer train/s':>13} {'ratio':>6} {'ours eval/s':>12} {'peer eval/s':>12} {'ratio':>6}")
def med(xs): return statistics.median(xs)
for t in threads:
    o = [data[("ours", r, t)] for r in rounds]; p = [data[("peer", r, t)] for r in rounds]
    print(f"{t:>8} {med([x[0] for x in o]):>13.0f} {med([x[0] for x in p]):>13.0f} "
          f"{med([a[0]/b[0] for a, b in zip(o, p)]):>6.2f} {med([x[1] for x in o]):>12.0f} "
          f"{med([x[1] for x in p]):>12.0f} {med([a[1]/b[1] for a, b in zip(o, p)]):>6.2f}")
best = lambda who, r, i: max(data[(who, r, t)][i] for t in threads)
tr = med([best("ours", r, 0) / best("peer", r, 0) for r in rounds])
ev = med([best("ours", r, 1) / best("peer", r, 1) for r in rounds])
print(f"best-of-configurations ratio (median over rounds): train {tr:.2f}x, eval {ev:.2f}x")
for who in ("ours", "peer"):
    for i, what in ((0, "train"), (1, "eval")):
        top = max(threads, key=lambda t: med([data[(who, r, t)][i] for r in rounds]))
        print(f"  {who} best {what} configuration: {top}")
PY
