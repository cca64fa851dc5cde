#!/usr/bin/env bash
# Regenerates the tables of docs/results.md from the runs behind them, and checks that none is
# older than the code that produced it.
#
#   docs/scripts/results.sh [TABLE...]   train what each table needs (finished runs with the
#                                        same config are skipped), then rewrite the tables in
#                                        docs/results.md, stamped with the commit and date
#   docs/scripts/results.sh --runs-only [TABLE...]   train, leave docs/results.md alone
#   docs/scripts/results.sh --list       the tables, with the configs each one runs
#   docs/scripts/results.sh --check [TABLE...]   recompute each table's numerics fingerprints
#                                        (autoint-train --fingerprint: a short one-thread run of
#                                        each of its configs on a slice of ML-1M, about 5 s each)
#                                        and compare them with docs/fingerprints/TABLE.json,
#                                        recorded when the table was stamped; exit 1 naming the
#                                        table, the run and the first figure that moved (77, a
#                                        skip, when the ML-1M directory is absent)
#   docs/scripts/results.sh --verify [TABLE...]   for a table made before later numerics
#                                        changes: rerun the first 2 epochs of the first seed of
#                                        each of its runs and re-evaluate each stored model at
#                                        HEAD; when every epoch figure and test metric equals
#                                        the stored run's bit for bit, stamp the table
#                                        "Verified at commit HEAD" (needs the table's runs,
#                                        runs/results/<its commit>/, on this machine)
#   docs/scripts/results.sh --record-fingerprints [--redefined KEY,...] [TABLE...]   record
#                                        the fingerprints of tables that git history shows
#                                        current (no commit to numerics code or their configs
#                                        since the stamp), or, with --redefined, of tables
#                                        whose stored fingerprints match in every part but the
#                                        named ones (after a change to what those parts
#                                        measure); a rewritten or verified table records its own
#   docs/scripts/results.sh --record-fingerprints --this-machine REFERENCE_BUILD [--redefined
#                                        KEY,...] [TABLE...]   record the fingerprints on
#                                        another machine (another CPU runs other BLAS kernels,
#                                        so single-precision figures move by ~1e-7): only when
#                                        REFERENCE_BUILD (a build directory of the commit the
#                                        stored fingerprints were recorded at, made on this
#                                        machine) gives the same fingerprints as this build
#
# No TABLE means all of them, in dependency order. The tables themselves are written by the
# apps (`autoint-eval --table`, from the runs' metrics.json); this script only runs the apps
# and places their output. Runs go to runs/results/<commit>/, <commit> being the last one
# that changed numerics code or a config: finished runs are reused only while the code that
# made them is unchanged. Environment (relative paths are from the repository root):
# AUTOINT_ML1M_DIR (default ../shared/data/ml-1m), AUTOINT_BUILD_DIR (default build/release),
# AUTOINT_RUNS_DIR (instead of runs/results/<commit>). Training logs go to <runs>/logs/. Each
# run uses one thread in every pool, so that a rerun on the same machine gives the same
# weights.
set -euo pipefail
cd "$(dirname "$0")/../.."

data="${AUTOINT_ML1M_DIR:-../shared/data/ml-1m}"
build="${AUTOINT_BUILD_DIR:-build/release}"
doc=docs/results.md

# Code whose change can move a published figure: the model and its kernels, the data pipeline,
# training, evaluation and metrics, the results writers, and the build flags.
numerics=(
  libautoint/CMakeLists.txt
  libautoint/src/nn libautoint/include/autoint/nn
  libautoint/src/data libautoint/include/autoint/data
  libautoint/src/movielens libautoint/include/autoint/movielens
  libautoint/src/eval libautoint/include/autoint/eval
  libautoint/src/train libautoint/include/autoint/train
  libautoint/src/experiment/pipeline.cpp libautoint/include/autoint/experiment/pipeline.h
  libautoint/src/experiment/grid.cpp libautoint/include/autoint/experiment/grid.h
  libautoint/src/experiment/experiment.cpp
  # Except the in-place encoding of `data.source: table` (encode_table, called from
  # prepare_table only): no table here reads a delimited table.
  ':(exclude)libautoint/src/data/table/encoding.cpp'
  ':(exclude)libautoint/include/autoint/data/table/encoding.h'
)

runs="${AUTOINT_RUNS_DIR:-}"
if [ -z "$runs" ] && git rev-parse --git-dir >/dev/null 2>&1; then
  runs="runs/results/$(git log -1 --format=%h --abbrev=12 -- "${numerics[@]}" configs)"
fi

# The tables of docs/results.md (each has a block there, checked by --check).
all_tables=(seed autoint seed_best baselines tuned paper_baselines implicit)
# Not checked: not regenerated (nor verified) at the current numerics commit, so their
# figures were withdrawn from docs/results.md or are kept there under a caveat (paper,
# stopping). To publish one, train it (--runs-only), give it a block in docs/results.md if
# it has none, move it to all_tables and run results.sh NAME.
unpublished_tables=(seed_grid tuning full_ranking paper stopping)

# The configs each table's runs read (a change to one makes the table stale).
configs_of() {
  case "$1" in
    seed | seed_best | full_ranking) echo configs/ml1m_autoint_plus.yaml ;;
    autoint) echo configs/ml1m_autoint.yaml ;;
    seed_grid) echo configs/ml1m_seed_grid.yaml ;;
    baselines) echo configs/ml1m_autoint_plus.yaml ;;
    tuning) echo configs/ml1m_tuning_grid.yaml ;;
    tuned) echo configs/ml1m_autoint_plus_tuned.yaml ;;
    paper | paper_baselines) echo configs/paper_ml1m_autoint.yaml configs/paper_ml1m_autoint_plus.yaml ;;
    stopping) echo configs/paper_ml1m_autoint.yaml ;;
    implicit) echo configs/ml1m_autoint_plus_implicit.yaml configs/ml1m_autoint_implicit.yaml \
      configs/ml1m_autoint_plus.yaml ;;
    *)
      echo "results.sh: unknown table '$1' (expected one of: ${all_tables[*]}" \
        "${unpublished_tables[*]})" >&2
      return 2
      ;;
  esac
}

# train_args CONFIG OUTPUT [--set ...]: autoint-train's arguments for a results run, in
# `args`: the data, one thread, no progress output, then the overrides.
train_args() {
  local config=$1 out=$2
  shift 2
  args=(--config "$config" --set "data.dir=$data" --set train.threads=1
    --set train.progress=none --output "$out" "$@")
}

train() { # CONFIG RUN_NAME [--set ...]
  if [ "$mode" = verify ]; then
    verify_run "$@"
    return
  fi
  if [ "$mode" = fingerprint ]; then
    fingerprint_run "$@"
    return
  fi
  local config=$1 name=$2
  shift 2
  local args
  train_args "$config" "$runs/$name" "$@"
  # A finished single run with the same resolved config is reused (autoint-train would replace
  # it); a grid skips its finished runs itself.
  if [ -f "$runs/$name/metrics.json" ] &&
    grep -q '"complete": true' "$runs/$name/manifest.json" 2>/dev/null &&
    "$build/apps/autoint-train" "${args[@]}" --print-config | cmp -s - "$runs/$name/config.yaml"; then
    echo "results.sh: $runs/$name is a finished run of this config; reused" >&2
    return 0
  fi
  mkdir -p "$runs/logs"
  echo "results.sh: training $runs/$name ($config $*), log $runs/logs/$name.log" >&2
  # One thread in every pool (LibTorch's, OpenMP's and OpenBLAS's): two runs side by side on
  # two cores do not oversubscribe them, and a rerun does the same arithmetic.
  echo "=== results.sh, $(date -u '+%Y-%m-%d %H:%M') UTC: autoint-train ${args[*]}" \
    >>"$runs/logs/$name.log"
  if ! OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 "$build/apps/autoint-train" "${args[@]}" \
    >>"$runs/logs/$name.log" 2>&1; then
    echo "results.sh: training $runs/$name failed; last lines of $runs/logs/$name.log:" >&2
    tail -5 "$runs/logs/$name.log" >&2
    return 1
  fi
}

table() { # COLUMNS SOURCE... (autoint-eval --table arguments)
  local columns=$1
  shift
  "$build/apps/autoint-eval" --columns "$columns" "$@"
}

ranking="seed_ndcg@10,seed_hr@10,ndcg@10,hr@10,recall@10,precision@10,auc,logloss"
seed_best_x3=(--set train.epochs=3 --set model.dropout=0.2 --set train.batch_size=1024)

# Each table_X trains table X's runs, or with "print" prints its markdown.
# one_run print|"" CONFIG RUN_NAME COLUMNS LABEL [--set ...]: a table of one config's run
# (or grid), trained with the given overrides.
one_run() {
  if [ "$1" = print ]; then
    table "$4" --table "$5=$runs/$3"
  else
    train "$2" "$3" "${@:6}"
  fi
}
table_seed() {
  one_run "${1:-}" configs/ml1m_autoint_plus.yaml ml1m_autoint_plus "$ranking,epochs_run" \
    "AutoInt+, seed settings"
}
table_autoint() {
  one_run "${1:-}" configs/ml1m_autoint.yaml ml1m_autoint "$ranking,epochs_run" \
    "AutoInt, seed settings"
}
table_seed_grid() {
  one_run "${1:-}" configs/ml1m_seed_grid.yaml ml1m_seed_grid \
    "seed_ndcg@10,seed_hr@10,ndcg@10,auc,logloss" "AutoInt+"
}
table_seed_best() {
  one_run "${1:-}" configs/ml1m_autoint_plus.yaml ml1m_seed_best_x3 "$ranking" \
    "AutoInt+, 16 / 0.2 / 1024, 3 seeds" "${seed_best_x3[@]}" --set repeats=3
}
table_baselines() {
  [ "${1:-}" = print ] || { table_seed_best; return; }
  table "seed_ndcg@10,seed_hr@10,ndcg@10,hr@10,precision@10,auc,logloss" \
    --table "AutoInt+, seed settings (16 / 0.2 / 1024), seed 42=$runs/ml1m_seed_best_x3/seed=42" \
    --baselines "$runs/ml1m_seed_best_x3/seed=42"
}
table_tuning() {
  one_run "${1:-}" configs/ml1m_tuning_grid.yaml ml1m_tuning_grid \
    "auc,logloss,seed_ndcg@10,seed_hr@10,ndcg@10,precision@10,epochs_by_seed" \
    "AutoInt+, d 32, lr 1e-3"
}
table_tuned() {
  one_run "${1:-}" configs/ml1m_autoint_plus_tuned.yaml ml1m_autoint_plus_tuned \
    "$ranking,epochs_by_seed" "AutoInt+, tuned, 3 seeds"
}
table_full_ranking() {
  [ "${1:-}" = print ] || {
    train configs/ml1m_autoint_plus.yaml ml1m_full_ranking "${seed_best_x3[@]}" \
      --set eval.protocol=both
    return
  }
  table "full_hr@10,full_ndcg@10,full_recall@10,full_precision@10" \
    --table "AutoInt+ (seed settings, 16 / 0.2 / 1024)=$runs/ml1m_full_ranking" \
    --baselines "$runs/ml1m_full_ranking"
}
# The implicit-feedback configs in full ranking, beside the seed's explicit AutoInt+ (its
# 3-epoch best setting, ranked for the same 1,000 test users) and every baseline.
table_implicit() {
  [ "${1:-}" = print ] || {
    train configs/ml1m_autoint_plus_implicit.yaml ml1m_autoint_plus_implicit
    train configs/ml1m_autoint_implicit.yaml ml1m_autoint_implicit
    train configs/ml1m_autoint_plus.yaml ml1m_explicit_full_ranking_1000 "${seed_best_x3[@]}" \
      --set eval.protocol=both --set eval.full_ranking_users=1000
    return
  }
  table "full_hr@10,full_ndcg@10,full_recall@10,full_precision@10,epochs_by_seed" \
    --table "AutoInt+, implicit, 3 seeds=$runs/ml1m_autoint_plus_implicit" \
    --table "AutoInt, implicit, 3 seeds=$runs/ml1m_autoint_implicit" \
    --table "AutoInt+, the seed's rating objective (16 / 0.2 / 1024, 3 epochs)=$runs/ml1m_explicit_full_ranking_1000" \
    --baselines "$runs/ml1m_autoint_plus_implicit"
}
table_paper() {
  [ "${1:-}" = print ] || {
    train configs/paper_ml1m_autoint.yaml paper_ml1m_autoint
    train configs/paper_ml1m_autoint.yaml paper_ml1m_autoint_no_timestamp \
      --set 'data.drop_fields=[timestamp]'
    train configs/paper_ml1m_autoint_plus.yaml paper_ml1m_autoint_plus
    train configs/paper_ml1m_autoint_plus.yaml paper_ml1m_autoint_plus_no_timestamp \
      --set 'data.drop_fields=[timestamp]'
    return
  }
  table "auc,logloss,epochs_run,epochs_by_seed" \
    --table "AutoInt, 7 fields=$runs/paper_ml1m_autoint" \
    --table "AutoInt, 6 fields (no timestamp)=$runs/paper_ml1m_autoint_no_timestamp" \
    --table "AutoInt+, 7 fields=$runs/paper_ml1m_autoint_plus" \
    --table "AutoInt+, 6 fields (no timestamp)=$runs/paper_ml1m_autoint_plus_no_timestamp"
}
table_paper_baselines() {
  [ "${1:-}" = print ] || { train configs/paper_ml1m_autoint_plus.yaml paper_ml1m_autoint_plus; return; }
  table "auc,logloss,seed_ndcg@10" --table "AutoInt+, 7 fields=$runs/paper_ml1m_autoint_plus" \
    --baselines "$runs/paper_ml1m_autoint_plus"
}
table_stopping() {
  [ "${1:-}" = print ] || {
    train configs/paper_ml1m_autoint.yaml paper_ml1m_autoint_plain \
      --set model.attention_kernel=plain
    train configs/paper_ml1m_autoint.yaml paper_ml1m_autoint
    return
  }
  table "auc,logloss,epochs_run,best_epoch,epochs_by_seed" \
    --table "AutoInt, fused kernel=$runs/paper_ml1m_autoint" \
    --table "AutoInt, plain kernel=$runs/paper_ml1m_autoint_plain"
  echo
  echo "Other rules replayed on the same runs' validation histories (docs/scripts/stopping_rules.py):"
  echo
  docs/scripts/stopping_rules.py "$runs/paper_ml1m_autoint" "$runs/paper_ml1m_autoint_plain"
}

# The commit a block in $doc was stamped with ("" when the block or its stamp is missing).
stamped_commit() {
  sed -n "/^<!-- results:$1 begin -->\$/,/^<!-- results:$1 end -->\$/p" "$doc" |
    sed -n 's/^Generated by `[^`]*` at commit `\([0-9a-f]*\)`.*/\1/p' | head -1
}
# The commit a block was last verified at (--verify); "" when never.
verified_commit() {
  sed -n "/^<!-- results:$1 begin -->\$/,/^<!-- results:$1 end -->\$/p" "$doc" |
    sed -n 's/.*Verified at commit `\([0-9a-f]*\)`.*/\1/p' | head -1
}

# verify_run CONFIG RUN_NAME [--set ...]: the stored run (a grid's first run) in $old_runs
# against 2 epochs of the same config at HEAD and a re-evaluation of its model at HEAD.
verify_run() {
  local config=$1 name=$2
  shift 2
  local old="$old_runs/$name" out="$verify_runs/$name"
  if [ ! -f "$old/metrics.json" ] && [ ! -f "$old/results.json" ]; then
    echo "results.sh --verify: $old is not on this machine; regenerate the table instead" >&2
    return 1
  fi
  if [ -f "$old/results.json" ]; then
    old="$old/$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["runs"][0]["name"])' \
      "$old/results.json")"
  fi
  mkdir -p "$verify_runs/logs"
  rm -rf "$out"
  echo "results.sh --verify: $name: 2 epochs at HEAD against $old" >&2
  local args
  train_args "$config" "$out" "$@" --set repeats=1 --set train.epochs=2
  OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 "$build/apps/autoint-train" "${args[@]}" \
    >"$verify_runs/logs/$name.log" 2>&1
  OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 "$build/apps/autoint-eval" --run "$old" \
    --data "$data" --device cpu --json "$out/evaluation.json" >>"$verify_runs/logs/$name.log" 2>&1
  python3 - "$old/metrics.json" "$out/metrics.json" "$out/evaluation.json" <<'EOF'
import json, sys
old, new, evaluation = (json.load(open(p)) for p in sys.argv[1:])
keys = ("epoch", "train_loss", "validation_logloss", "validation_auc")
epochs = min(2, len(old["run"]["history"]))
for a, b in zip(old["run"]["history"][:epochs], new["run"]["history"][:epochs]):
    for k in keys:
        if a.get(k) != b.get(k):
            sys.exit(f"{sys.argv[2]}: epoch {a['epoch']} {k} {b.get(k)!r} != stored {a.get(k)!r}")
stored = {k: v for k, v in old.items() if k != "run"}
for part in (stored, evaluation):
    part.get("full_ranking", {}).pop("seconds", None)
if stored != evaluation:
    sys.exit(f"{sys.argv[3]}: the re-evaluated metrics differ from {sys.argv[1]}")
EOF
}

# history_check [TABLE...]: exit 1 when a table's stamped (or verified) commit is older than a
# commit that changed numerics code or its configs (77 when git history cannot tell). Guards
# --record-fingerprints: fingerprints are recorded only for code known to have made the table.
history_check() {
  if ! git rev-parse --git-dir >/dev/null 2>&1; then
    echo "results.sh: not a git checkout; cannot tell whether tables are current" >&2
    return 77
  fi
  local stale=0 table commit changes list=("$@")
  [ ${#list[@]} -gt 0 ] || list=("${all_tables[@]}")
  for table in "${list[@]}"; do
    commit=$(verified_commit "$table")
    [ -n "$commit" ] || commit=$(stamped_commit "$table")
    if [ -z "$commit" ]; then
      echo "$doc: table '$table' has no stamped block; run docs/scripts/results.sh $table" >&2
      stale=1
      continue
    fi
    if ! git cat-file -e "$commit^{commit}" 2>/dev/null; then
      echo "results.sh: commit $commit (table '$table') is not in this clone's" \
        "history (shallow clone?); cannot tell" >&2
      return 77
    fi
    # shellcheck disable=SC2046
    changes=$(git log --format='%h %s' "$commit..HEAD" -- "${numerics[@]}" $(configs_of "$table"))
    if [ -n "$changes" ]; then
      echo "$doc: table '$table' was generated at $commit, before these changes to numerics" \
        "code or its configs; rerun docs/scripts/results.sh $table:" >&2
      echo "$changes" | head -5 | sed 's/^/    /' >&2
      stale=1
    fi
  done
  if [ "$stale" -eq 0 ]; then
    echo "results.sh: all ${#list[@]} tables of $doc are current by git history"
  fi
  return "$stale"
}

# Numerics fingerprints (autoint-train --fingerprint) of each table's runs, kept in
# docs/fingerprints/TABLE.json. Two figures agree when |a - b| <= fp_atol + fp_rtol * max(|a|, |b|)
# (integers, strings and the top movies' ids exactly): the tolerance is from measurement
# (docs/results.md, "How these tables are made"), above the last-bit differences a reordered
# sum makes and far below what a change of arithmetic moves.
fp_dir=docs/fingerprints
fp_rtol=1e-9
fp_atol=1e-12
# The machine a fingerprint belongs to: the CPU model (BLAS picks its kernels by CPU, and
# another kernel sums in another order). --check skips a table recorded on another one.
machine=$(grep -m1 '^model name' /proc/cpuinfo 2>/dev/null | sed 's/^[^:]*: *//' || true)
machine="${machine:-unknown CPU} ($(uname -m))"

# fingerprint_run CONFIG RUN_NAME [--set ...]: RUN_NAME's fingerprint into $fp_out/RUN_NAME.json
# (once per invocation: two tables may share a run), its name appended to $fp_out/names.
fingerprint_run() {
  local config=$1 name=$2
  shift 2
  echo "$name" >>"$fp_out/names"
  [ ! -f "$fp_out/$name.json" ] || return 0
  local args
  train_args "$config" "$fp_out/unused" "$@"
  if ! OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 "$build/apps/autoint-train" "${args[@]}" \
    --fingerprint >"$fp_out/$name.tmp" 2>"$fp_out/$name.log"; then
    echo "results.sh: the fingerprint of $name ($config $*) failed:" >&2
    tail -3 "$fp_out/$name.log" >&2
    return 1
  fi
  mv "$fp_out/$name.tmp" "$fp_out/$name.json"
}

# table_fingerprints TABLE: TABLE's runs' fingerprints into $fp_out, their names in
# $fp_out/names.
table_fingerprints() {
  local saved=$mode
  mode=fingerprint
  : >"$fp_out/names"
  "table_$1"
  mode=$saved
}

# record_fingerprints TABLE COMMIT: writes docs/fingerprints/TABLE.json.
record_fingerprints() {
  table_fingerprints "$1"
  mkdir -p "$fp_dir"
  python3 - "$fp_out" "$1" "$2" "$fp_dir/$1.json" "${redefined:-}" "$machine" <<'EOF'
import json, sys
out, table, commit, path, redefined, machine = sys.argv[1:]
names = list(dict.fromkeys(open(f"{out}/names").read().split()))
runs = {n: json.load(open(f"{out}/{n}.json")) for n in names}
doc = {"table": table, "recorded_at": commit, "machine": machine,
       "recorded_by": "docs/scripts/results.sh (autoint-train --fingerprint)", "runs": runs}
if redefined:
    doc["redefined"] = redefined.split(",")  # parts recorded anew; every other part matched
open(path, "w").write(json.dumps(doc, indent=1) + "\n")
print(f"results.sh: {path} recorded ({len(runs)} runs)", file=sys.stderr)
EOF
}

# check [TABLE...]: every table's fingerprints recomputed and compared with the stored ones.
check() {
  local list=("$@") stale=0 table
  skipped=0
  [ ${#list[@]} -gt 0 ] || list=("${all_tables[@]}")
  if [ ! -f "$data/ratings.dat" ]; then
    echo "results.sh --check: skipped: no ML-1M at $data (set AUTOINT_ML1M_DIR); the" \
      "fingerprints are computed on it" >&2
    return 77
  fi
  if [ ! -x "$build/apps/autoint-train" ]; then
    echo "results.sh --check: $build/apps/autoint-train is not built (set AUTOINT_BUILD_DIR)" >&2
    return 2
  fi
  for table in "${list[@]}"; do
    if [ ! -f "$fp_dir/$table.json" ]; then
      echo "$doc: table '$table' has no fingerprints ($fp_dir/$table.json); regenerate it" \
        "(docs/scripts/results.sh $table) or verify it (--verify $table)" >&2
      stale=1
      continue
    fi
    local stored="$fp_dir/$table.json" recorded_on
    recorded_on=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1])).get("machine", "an unnamed machine"))' "$stored")
    if [ -n "${fp_reference:-}" ]; then
      # --this-machine: the reference build's fingerprints, computed here, stand in for the
      # stored ones.
      local reference_out="$fp_out/reference"
      rm -rf "$reference_out" && mkdir -p "$reference_out"
      (fp_out=$reference_out build=$fp_reference table_fingerprints "$table")
      python3 - "$reference_out" "$stored" <<'EOF'
import json, sys
out, path = sys.argv[1:]
names = list(dict.fromkeys(open(f"{out}/names").read().split()))
doc = json.load(open(path))
doc["runs"] = {n: json.load(open(f"{out}/{n}.json")) for n in names}
json.dump(doc, open(f"{out}/stored.json", "w"))
EOF
      stored="$reference_out/stored.json"
    elif [ "$recorded_on" != "$machine" ]; then
      echo "results.sh --check: skipped table '$table': its fingerprints were recorded on" \
        "$recorded_on, this is $machine (other BLAS kernels sum in another order); record" \
        "them here with --record-fingerprints --this-machine REFERENCE_BUILD" >&2
      skipped=$((skipped + 1))
      continue
    fi
    table_fingerprints "$table"
    python3 - "$fp_out" "$table" "$stored" "$fp_rtol" "$fp_atol" "${fp_ignore:-}" \
      <<'EOF' || stale=1
import json, sys
out, table, path = sys.argv[1:4]
rtol, atol = float(sys.argv[4]), float(sys.argv[5])
ignored = [k for k in sys.argv[6].split(",") if k]  # --record-fingerprints --redefined
stored = json.load(open(path))
for run in stored["runs"].values():
    for k in ignored:
        run.pop(k, None)
names = list(dict.fromkeys(open(f"{out}/names").read().split()))
fresh = {n: json.load(open(f"{out}/{n}.json")) for n in names}
for run in fresh.values():
    for k in ignored:
        run.pop(k, None)
where = f"docs/results.md: table '{table}' (fingerprints recorded at {stored['recorded_at']})"
if sorted(fresh) != sorted(stored["runs"]):
    sys.exit(f"{where}: its runs are now {sorted(fresh)}, the stored fingerprints have "
             f"{sorted(stored['runs'])}; regenerate the table")


def first_difference(a, b, path):
    """The first place, in document order, where b (now) differs from a (stored)."""
    if isinstance(a, dict) and isinstance(b, dict):
        for k in list(a) + [k for k in b if k not in a]:
            if k not in a or k not in b:
                return f"{path}.{k}", a.get(k, "(absent)"), b.get(k, "(absent)")
            d = first_difference(a[k], b[k], f"{path}.{k}")
            if d:
                return d
        return None
    if isinstance(a, list) and isinstance(b, list):
        for i, (x, y) in enumerate(zip(a, b)):
            d = first_difference(x, y, f"{path}[{i}]")
            if d:
                return d
        return None if len(a) == len(b) else (f"{path} (length)", len(a), len(b))
    if isinstance(a, float) and isinstance(b, float):
        return None if abs(a - b) <= atol + rtol * max(abs(a), abs(b)) else (path, a, b)
    return None if a == b and type(a) == type(b) else (path, a, b)


failed = False
for name in names:
    d = first_difference(stored["runs"][name], fresh[name], "")
    if d:
        p, a, b = d
        print(f"{where}: run {name}: {p.lstrip('.')} is {b!r} now, {a!r} when recorded "
              f"(tolerance {rtol:g} relative + {atol:g}): the numbers moved; regenerate the "
              f"table (docs/scripts/results.sh {table}) or find the change that moved them",
              file=sys.stderr)
        failed = True
sys.exit(1 if failed else 0)
EOF
  done
  if [ "$stale" -eq 0 ] && [ "$skipped" -eq ${#list[@]} ]; then
    return 77
  fi
  if [ "$stale" -eq 0 ] && [ "$skipped" -eq 0 ]; then
    echo "results.sh --check: the fingerprints of all ${#list[@]} tables of $doc match"
  elif [ "$stale" -eq 0 ]; then
    echo "results.sh --check: the fingerprints of $((${#list[@]} - skipped)) of the" \
      "${#list[@]} tables of $doc match ($skipped skipped: recorded on another machine)"
  fi
  return "$stale"
}

# Replaces the block of TABLE in $doc with FILE's content (the block must exist).
replace_block() {
  python3 - "$doc" "$1" "$2" <<'EOF'
import sys
doc, name, body_file = sys.argv[1:]
begin, end = f"<!-- results:{name} begin -->", f"<!-- results:{name} end -->"
lines = open(doc, encoding="utf-8").read().split("\n")
if lines.count(begin) != 1 or lines.count(end) != 1 or lines.index(begin) > lines.index(end):
    sys.exit(f"results.sh: {doc} needs exactly one '{begin}' ... '{end}' block")
body = open(body_file, encoding="utf-8").read().rstrip("\n").split("\n")
i, j = lines.index(begin), lines.index(end)
open(doc, "w", encoding="utf-8").write("\n".join(lines[: i + 1] + body + lines[j:]))
EOF
}

mode=write
fp_out=$(mktemp -d)
trap 'rm -rf "$fp_out"' EXIT
case "${1:-}" in
  --check)
    shift
    for t in "$@"; do configs_of "$t" >/dev/null; done
    rc=0
    check "$@" || rc=$?
    exit "$rc"
    ;;
  --record-fingerprints)
    shift
    redefined=""
    fp_reference=""
    if [ "${1:-}" = --this-machine ]; then
      fp_reference=${2:?--this-machine needs a build directory of the fingerprints\' commit}
      if [ ! -x "$fp_reference/apps/autoint-train" ]; then
        echo "results.sh: $fp_reference/apps/autoint-train is not built" >&2
        exit 2
      fi
      shift 2
    fi
    if [ "${1:-}" = --redefined ]; then
      redefined=${2:?--redefined needs the fingerprint keys whose definition changed, e.g. top}
      shift 2
    fi
    for t in "$@"; do configs_of "$t" >/dev/null; done
    if [ -z "$redefined" ] && [ -z "$fp_reference" ]; then
      history_check "$@"
    else
      # A changed fingerprint definition, or another machine: every other figure must match
      # (with --this-machine, the reference build's, computed here).
      fp_ignore=$redefined check "$@"
    fi
    list=("$@")
    [ ${#list[@]} -gt 0 ] || list=("${all_tables[@]}")
    commit=$(git rev-parse --short=12 HEAD)
    for t in "${list[@]}"; do record_fingerprints "$t" "$commit"; done
    exit 0
    ;;
  --list)
    for t in "${all_tables[@]}"; do echo "$t: $(configs_of "$t")"; done
    for t in "${unpublished_tables[@]}"; do echo "$t (unpublished): $(configs_of "$t")"; done
    exit 0
    ;;
  --runs-only)
    mode=runs
    shift
    ;;
  --verify)
    mode=verify
    shift
    ;;
  -h | --help)
    sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
    exit 0
    ;;
esac
tables=("$@")
[ ${#tables[@]} -gt 0 ] || tables=("${all_tables[@]}")
for t in "${tables[@]}"; do configs_of "$t" >/dev/null; done

if [ -z "$runs" ]; then
  echo "results.sh: not a git checkout; set AUTOINT_RUNS_DIR to say where the runs go" >&2
  exit 2
fi
if [ "$mode" != runs ]; then
  # The stamp must name the code that produced the table: no uncommitted numerics changes.
  # shellcheck disable=SC2046
  if ! git diff --quiet HEAD -- "${numerics[@]}" $(for t in "${tables[@]}"; do configs_of "$t"; done); then
    echo "results.sh: uncommitted changes to numerics code or configs; commit them first so" \
      "that the stamp names the code that produced the tables" >&2
    exit 1
  fi
fi
if [ "$mode" = verify ]; then
  commit=$(git rev-parse --short=12 HEAD)
  today=$(date -u +%Y-%m-%d)
  verify_runs="runs/verify/$commit"
  for t in "${tables[@]}"; do
    stamp=$(stamped_commit "$t")
    [ -n "$stamp" ] || { echo "results.sh --verify: table '$t' has no stamp to verify" >&2; exit 1; }
    # shellcheck disable=SC2046
    old_runs="runs/results/$(git log -1 --format=%h --abbrev=12 "$stamp" -- "${numerics[@]}" configs)"
    "table_$t"
    python3 - "$doc" "$t" "$commit" "$today" <<'EOF'
import re, sys
doc, name, commit, today = sys.argv[1:]
lines = open(doc, encoding="utf-8").read().split("\n")
i = lines.index(f"<!-- results:{name} begin -->")
j = next(k for k in range(i, len(lines)) if lines[k].startswith("Generated by "))
line = re.sub(r" Verified at commit `[0-9a-f]*` .*$", "", lines[j])
lines[j] = (f"{line} Verified at commit `{commit}` ({today}): the first 2 epochs of each run's "
            "first seed and the test evaluation of each stored model reproduced bit for bit.")
open(doc, "w", encoding="utf-8").write("\n".join(lines))
EOF
    echo "results.sh: $doc: table '$t' verified at $commit"
    record_fingerprints "$t" "$commit"
  done
  exit 0
fi
for t in "${tables[@]}"; do "table_$t"; done
[ "$mode" = write ] || exit 0

commit=$(git rev-parse --short=12 HEAD)
today=$(date -u +%Y-%m-%d)
body="$fp_out/body.md"
for t in "${tables[@]}"; do
  {
    echo "Generated by \`docs/scripts/results.sh $t\` at commit \`$commit\` ($today)."
    echo
    "table_$t" print
  } >"$body"
  replace_block "$t" "$body"
  echo "results.sh: $doc: table '$t' rewritten"
  record_fingerprints "$t" "$commit"
done
