#!/usr/bin/env bash
# Tables read with a schema (data.source table), end to end: on a synthetic Criteo-format file
# with planted pairwise interactions, AutoInt beats logistic regression (model.type lr) on the
# same fields by a clear AUC margin; the criteo preset trains; a table run re-evaluates with
# autoint-eval; bad tables fail with one line naming file, line and column.
# Usage: test_table.sh BIN_DIR SOURCE_DIR
set -euo pipefail
bin=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
auc() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["auc"])' "$1/metrics.json"; }

"$bin/autoint-data" synth --format criteo --rows 100000 --seed 3 --out "$tmp/criteo.txt" > /dev/null

# The planted pairs C5 x C8, C6 x C14, C17 x C23 and I2 x C1 (ctr_synthetic.h), beside
# first-order columns C9 and C20: a linear model cannot use the pairs, AutoInt can.
cat > "$tmp/pairs.yaml" <<YAML
data:
  source: table
  table:
    train: $tmp/criteo.txt
    separator: "\\\\t"
    header: false
    columns: [label, I1, I2, I3, I4, I5, I6, I7, I8, I9, I10, I11, I12, I13, C1, C2, C3, C4,
              C5, C6, C7, C8, C9, C10, C11, C12, C13, C14, C15, C16, C17, C18, C19, C20, C21,
              C22, C23, C24, C25, C26]
    label: label
    min_count: 10
    fields:
      - {name: C5}
      - {name: C6}
      - {name: C8}
      - {name: C9}
      - {name: C14}
      - {name: C17}
      - {name: C20}
      - {name: C23}
      - {name: I2, kind: numeric, transform: log}
model: {embed_dim: 8, num_layers: 1}
train: {epochs: 6, batch_size: 512, learning_rate: 0.005, threads: 1, progress: none}
device: cpu
YAML
"$bin/autoint-train" --config "$tmp/pairs.yaml" --set model.type=lr --output "$tmp/lr" > "$tmp/lr.log"
"$bin/autoint-train" --config "$tmp/pairs.yaml" --set model.type=autoint --output "$tmp/ai" > "$tmp/ai.log"
lr=$(auc "$tmp/lr")
ai=$(auc "$tmp/ai")
echo "test AUC: lr $lr, autoint $ai"
python3 -c "import sys; sys.exit(0 if float('$ai') >= float('$lr') + 0.15 else 1)" \
  || fail "AutoInt's test AUC $ai is not 0.15 above logistic regression's $lr"
grep -q "no user column, so no per-user ranking" "$tmp/ai.log" || fail "no point-wise note"

# A table run re-evaluates from its own config and vocabulary, to the same figures.
"$bin/autoint-eval" --run "$tmp/ai" > "$tmp/eval.log"
grep -q "auc  *$(printf '%.4f' "$ai")" "$tmp/eval.log" || fail "autoint-eval: $(cat "$tmp/eval.log")"

# The criteo preset: every column, the log transform, min_count.
"$bin/autoint-train" --config "$src/configs/criteo_autoint_plus.yaml" \
  --set data.table.train="$tmp/criteo.txt" --set data.max_rows=20000 --set train.epochs=1 \
  --set train.progress=none --output "$tmp/preset" > "$tmp/preset.log"
grep -q "table $tmp/criteo.txt (20000 rows, 39 fields)" "$tmp/preset.log" \
  || fail "criteo preset: $(head -3 "$tmp/preset.log")"

# Errors: one line on stderr naming the file, line and column; exit 1.
expect_error() {
  local pattern=$1
  shift
  if "$@" > /dev/null 2> "$tmp/err"; then fail "succeeded: $*"; fi
  [ "$(wc -l < "$tmp/err")" -eq 1 ] || fail "not one line: $(cat "$tmp/err")"
  grep -q -- "$pattern" "$tmp/err" || fail "expected '$pattern', got: $(cat "$tmp/err")"
}
head -3 "$tmp/criteo.txt" > "$tmp/bad.txt"
printf '1\t2\tx\n' >> "$tmp/bad.txt"
expect_error "bad.txt:4: 3 columns, expected 40" "$bin/autoint-train" \
  --config "$src/configs/criteo_autoint_plus.yaml" --set data.table.train="$tmp/bad.txt" \
  --output "$tmp/bad"
expect_error "data.table.train: empty\|data.table.train must name the file" "$bin/autoint-train" \
  --config "$src/configs/criteo_autoint_plus.yaml" --set data.table.train= --output "$tmp/bad"
echo "table tests passed"
