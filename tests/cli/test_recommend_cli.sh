#!/usr/bin/env bash
# End-to-end CLI test of autoint-recommend on a tiny synthetic run: the text and JSON
# outputs, and the error contract (one line on stderr naming the bad value, non-zero exit).
# Usage: test_recommend_cli.sh BIN_DIR SOURCE_DIR
set -euo pipefail
bin=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$bin/autoint-train" --config "$src/configs/quickstart.yaml" --set data.synthetic.ratings=5000 \
  --set data.synthetic.users=100 --set data.synthetic.movies=60 --set train.epochs=1 \
  --set train.threads=1 --set train.progress=none --device cpu --output "$tmp/run" > "$tmp/train.out"
[ -s "$tmp/run/model.pt" ] || fail "training wrote no model.pt"

# Heavy synthetic users rate all 60 movies: they get an empty list; the others get 5.
full=0
for user in 1 2 3 4 5 6 7 8 9 10; do
  "$bin/autoint-recommend" --run "$tmp/run" --user $user --top 5 --device cpu --json \
    > "$tmp/rec.json"
  /usr/bin/python3 -c '
import json, sys
user = int(sys.argv[1])
d = json.load(sys.stdin)
for key in ("user", "rated_count", "top_rated", "timestamp", "recommendations"):
    assert key in d, "missing key " + key
u = d["user"]
assert u["id"] == user, u
for key in ("gender", "age", "age_group", "occupation", "occupation_name", "zipcode"):
    assert key in u, "missing user key " + key
recs = d["recommendations"]
assert len(recs) == min(5, 60 - d["rated_count"]), (len(recs), d["rated_count"])
assert 1 <= len(d["top_rated"]) <= 5
ratings = [m["rating"] for m in d["top_rated"]]
assert ratings == sorted(ratings, reverse=True), ratings
rated = {m["movie_id"] for m in d["top_rated"]}
scores = [r["score"] for r in recs]
assert scores == sorted(scores, reverse=True), scores
assert [r["rank"] for r in recs] == list(range(1, len(recs) + 1))
for r in recs:
    assert r["movie_id"] not in rated
    assert 0 <= r["score"] <= 1
    for key in ("title", "year", "genres"):
        assert key in r, "missing recommendation key " + key
sys.exit(0 if len(recs) == 5 else 3)
' $user < "$tmp/rec.json" && rc=0 || rc=$?
  [ "$rc" -eq 0 ] || [ "$rc" -eq 3 ] \
    || fail "autoint-recommend --user $user --json output is wrong: $(head -c 2000 "$tmp/rec.json")"
  if [ "$rc" -eq 0 ] && [ "$full" -eq 0 ]; then
    full=$user
  fi
done
[ "$full" -ne 0 ] || fail "none of users 1..10 got 5 recommendations"

"$bin/autoint-recommend" --run "$tmp/run" --user "$full" --top 3 --device cpu > "$tmp/rec.txt"
grep -q "^user $full:" "$tmp/rec.txt" || fail "text output lacks the user line"
grep -q "top 3 recommendations" "$tmp/rec.txt" || fail "text output lacks the recommendations"

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
expect_error 1 "unknown user id 999999" \
  "$bin/autoint-recommend" --run "$tmp/run" --user 999999 --device cpu
expect_error 2 "--top must be at least 1 (got 0)" \
  "$bin/autoint-recommend" --run "$tmp/run" --user 1 --top 0 --device cpu
expect_error 2 "give one of --user ID and --liked IDS" "$bin/autoint-recommend" --run "$tmp/run"
# cxxopts names only the value; the message names the option too, and a repeated option is
# refused instead of keeping the last.
expect_error 2 '--user "abc": not a valid value for --user' \
  "$bin/autoint-recommend" --run "$tmp/run" --user abc --device cpu
expect_error 2 "--user is given twice" \
  "$bin/autoint-recommend" --run "$tmp/run" --user 1 --user 2 --device cpu
expect_error 1 "--liked needs a history-aware model" \
  "$bin/autoint-recommend" --run "$tmp/run" --liked 1,2 --device cpu
expect_error 1 "run directory does not exist" \
  "$bin/autoint-recommend" --run "$tmp/none" --user 1 --device cpu
"$bin/autoint-recommend" --help | grep -q -- "--json" || fail "--help does not document --json"
# A run trained for recommending (implicit feedback) says what its scores are. It has the
# shipped implicit config's model: a user x movie dot product over embeddings of its own
# (model.dot_dim), which the run's model must load with.
grep -q "probability that the user would rate the movie 4 or higher" "$tmp/rec.txt" \
  || fail "the rating run's text output does not say what a score is"
"$bin/autoint-train" --config "$src/configs/quickstart.yaml" --set data.synthetic.ratings=5000 \
  --set data.synthetic.users=100 --set data.synthetic.movies=60 --set train.epochs=1 \
  --set train.objective=implicit --set train.negatives.per_positive=2 \
  --set 'model.dot_fields=[user_id, movie_id]' --set model.dot_dim=8 \
  --set train.threads=1 --set train.progress=none --device cpu --output "$tmp/implicit" \
  > "$tmp/implicit.out"
grep -q "validation ndcg@10" "$tmp/implicit.out" || fail "implicit training logged no validation ndcg"
grep -q "dot_dim=8" "$tmp/implicit.out" || fail "the implicit run's model has no dot_dim: $(cat "$tmp/implicit.out")"
"$bin/autoint-recommend" --run "$tmp/implicit" --user 11 --top 3 --device cpu > "$tmp/implicit.txt"
grep -q "top 3 recommendations (score: the model's probability of interaction" "$tmp/implicit.txt" \
  || fail "the implicit run's text output: $(cat "$tmp/implicit.txt")"
"$bin/autoint-recommend" --run "$tmp/implicit" --user 11 --top 3 --device cpu --json \
  | /usr/bin/python3 -c 'import json, sys; d = json.load(sys.stdin); assert "interaction" in d["score"], d["score"]; assert len(d["recommendations"]) == 3' \
  || fail "the implicit run's JSON output"
# A history-aware run serves a new visitor from the movies they liked, with "because you liked".
"$bin/autoint-train" --config "$src/configs/quickstart.yaml" --set data.synthetic.ratings=5000 \
  --set data.synthetic.users=100 --set data.synthetic.movies=60 --set train.epochs=1 \
  --set train.objective=implicit --set train.negatives.per_positive=2 \
  --set data.history.field=movie_id --set data.history.max_len=20 --set train.user_dropout=0.5 \
  --set model.history_pooling=attention \
  --set train.threads=1 --set train.progress=none --device cpu --output "$tmp/history" \
  > "$tmp/history.out"
grep -q "history=attention over field 5, max_len 20" "$tmp/history.out" \
  || fail "the history run's model: $(cat "$tmp/history.out")"
# Three movies user 11 rated highest: movies the model has embeddings for.
liked=$("$bin/autoint-recommend" --run "$tmp/history" --user 11 --top 3 --device cpu --json \
  | /usr/bin/python3 -c 'import json, sys; d = json.load(sys.stdin); print(",".join(str(m["movie_id"]) for m in d["top_rated"][:3]))')
"$bin/autoint-recommend" --run "$tmp/history" --liked "$liked" --top 4 --device cpu > "$tmp/liked.txt"
grep -q "a new visitor who liked 3 movies" "$tmp/liked.txt" || fail "--liked text: $(cat "$tmp/liked.txt")"
grep -q "because you liked" "$tmp/liked.txt" || fail "--liked gave no 'because you liked': $(cat "$tmp/liked.txt")"
"$bin/autoint-recommend" --run "$tmp/history" --liked "$liked" --top 4 --device cpu --json \
  | /usr/bin/python3 -c 'import json, sys; d = json.load(sys.stdin); r = d["recommendations"]; assert len(r) == 4; assert all("because_you_liked" in x for x in r); liked = {m["movie_id"] for m in d["liked"]}; assert all(b["movie_id"] in liked for x in r for b in x["because_you_liked"])' \
  || fail "the --liked JSON output"
"$bin/autoint-recommend" --run "$tmp/history" --liked "" --top 2 --device cpu > "$tmp/popular.txt"
grep -q "ranked by popularity" "$tmp/popular.txt" || fail "--liked '' is not labelled popularity"
expect_error 2 '--liked 1,x: "x" is not a movie id' \
  "$bin/autoint-recommend" --run "$tmp/history" --liked 1,x --device cpu
expect_error 1 "unknown movie id 99999" \
  "$bin/autoint-recommend" --run "$tmp/history" --liked 1,99999 --device cpu
echo "recommend cli ok"
