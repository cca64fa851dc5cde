#!/usr/bin/env bash
# End-to-end test of autoint-serve on a tiny synthetic run: the JSON API's answers to bad
# requests (curl), and the page as headless Chromium renders it (the user's profile, watched
# list and the same recommendations as autoint-recommend --json).
# Usage: test_serve.sh BIN_DIR SOURCE_DIR
set -euo pipefail
bin=$1
src=$2
fail() { echo "FAIL: $*" >&2; exit 1; }

for tool in chromium curl python3; do
  command -v "$tool" > /dev/null \
    || fail "$tool is not installed; third_party/install-deps.sh installs it (Debian package $tool)"
done

tmp=$(mktemp -d)
server=""
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2> /dev/null || true; wait "$server" 2> /dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

# A history-aware run (implicit, the movies a person liked as an input), so that the page shows
# "because you liked" and serves a new visitor too.
"$bin/autoint-train" --config "$src/configs/quickstart.yaml" --set data.synthetic.ratings=5000 \
  --set data.synthetic.users=100 --set data.synthetic.movies=60 --set train.epochs=1 \
  --set train.objective=implicit --set train.negatives.per_positive=2 \
  --set data.history.field=movie_id --set data.history.max_len=20 --set train.user_dropout=0.5 \
  --set train.threads=1 --set train.progress=none --device cpu --output "$tmp/run" > "$tmp/train.out"

# Without OPENBLAS_NUM_THREADS=1 OpenBLAS starts worker threads before main: the clean
# SIGTERM stop at the end must work with them too.
env -u OPENBLAS_NUM_THREADS "$bin/autoint-serve" --run "$tmp/run" --port 0 --device cpu \
  > "$tmp/serve.out" 2> "$tmp/serve.err" &
server=$!
url=""
for _ in $(seq 1 300); do
  url=$(sed -n 's/^autoint-serve: serving at \(http:[^ ]*\)$/\1/p' "$tmp/serve.out")
  [ -n "$url" ] && break
  kill -0 "$server" 2> /dev/null || fail "autoint-serve exited: $(cat "$tmp/serve.err")"
  sleep 0.1
done
[ -n "$url" ] || fail "autoint-serve printed no URL within 30 s: $(cat "$tmp/serve.out")"
case "$url" in http://127.0.0.1:*/) ;; *) fail "not a loopback URL by default: $url" ;; esac

# Bad requests: status code and a JSON body {"error": "..."} naming the bad value.
expect() {  # expected-status expected-text curl-args...
  local status=$1 text=$2
  shift 2
  local got
  got=$(curl -s -o "$tmp/body" -w '%{http_code}' "$@") || fail "curl $* failed"
  [ "$got" = "$status" ] || fail "curl $* -> HTTP $got, expected $status: $(cat "$tmp/body")"
  python3 -c '
import json, sys
body = json.load(open(sys.argv[1]))
assert list(body) == ["error"] and isinstance(body["error"], str), body
assert sys.argv[2] in body["error"], (sys.argv[2], body["error"])
' "$tmp/body" "$text" || fail "curl $*: body is not the expected JSON error: $(cat "$tmp/body")"
}
expect 400 'user id "abc" is not an integer' "${url}api/users/abc"
expect 400 'user id "1.5" is not an integer' "${url}api/users/1.5/recommendations"
expect 404 'unknown user id 999999' "${url}api/users/999999/recommendations"
expect 404 'unknown user id 0' "${url}api/users/0"
expect 400 'top 0 is out of range; expected an integer in 1..100' \
  "${url}api/users/1/recommendations?top=0"
expect 400 'top 101 is out of range' "${url}api/users/1/recommendations?top=101"
expect 400 'top "lots" is not an integer' "${url}api/users/1/recommendations?top=lots"
expect 400 'unknown query parameter "tpo"' "${url}api/users/1/recommendations?tpo=3"
expect 400 'limit 0 is out of range' "${url}api/users?limit=0"
expect 404 'unknown path "/api/films"' "${url}api/films"
expect 404 'unknown movie id 99999' "${url}api/movies/99999"
expect 400 'liked "1,x": "x" is not a movie id' "${url}api/recommend?liked=1,x"
expect 404 'unknown path "/favicon.ico"' "${url}favicon.ico"
expect 405 'method POST is not allowed' -X POST -d '{}' "${url}api/info"
kill -0 "$server" 2> /dev/null || fail "autoint-serve died on bad requests: $(cat "$tmp/serve.err")"

# The page: the default user, and the recommendations autoint-recommend gives for them.
curl -sf "${url}api/info" > "$tmp/info.json" || fail "GET /api/info failed"
user=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["default_user"])' < "$tmp/info.json")
"$bin/autoint-recommend" --run "$tmp/run" --user "$user" --top 10 --device cpu --json \
  > "$tmp/recommend.json"

browse() {  # url dom-file
  timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
    --no-first-run --user-data-dir="$tmp/chromium" --virtual-time-budget=10000 \
    --dump-dom "$1" > "$2" 2> "$tmp/chromium.err" \
    || fail "chromium could not load $1: $(tail -5 "$tmp/chromium.err")"
}
browse "${url}?user=$user" "$tmp/page.html"
python3 - "$tmp/page.html" "$tmp/recommend.json" "$user" << 'PY' || fail "the rendered page is wrong (DOM in $tmp/page.html: $(head -c 3000 "$tmp/page.html"))"
import html, json, re, sys
page = open(sys.argv[1], encoding="utf-8").read()
expected = json.load(open(sys.argv[2], encoding="utf-8"))
user = int(sys.argv[3])
assert 'data-state="ready"' in page, "the page did not finish loading"
assert re.search(r'id="profile"[^>]*data-user-id="%d"' % user, page), "profile of another user"
facts = html.unescape(re.search(r'<dl class="facts" id="facts">(.*?)</dl>', page, re.S).group(1))
u = expected["user"]
for value in (u["age_group"], u["occupation_name"], u["zipcode"], str(expected["rated_count"])):
    assert "<dd>%s</dd>" % value in facts, ("profile lacks", value, facts)
rows = re.findall(r'<tr class="rec" data-movie-id="(\d+)">.*?<span class="title">(.*?)</span>', page)
want = expected["recommendations"]
assert len(want) == 10, len(want)
got_ids = [int(i) for i, _ in rows]
assert got_ids == [m["movie_id"] for m in want], (got_ids, [m["movie_id"] for m in want])
for (_, shown), m in zip(rows, want):
    # The page's reading form: no "(YYYY)", "Godfather, The" -> "The Godfather".
    title = re.sub(r"\s*\(\d{4}\)\s*$", "", m["title"])
    title = re.sub(r"^(.+?), (The|A|An)( \(.*\))?$", r"\2 \1\3", title)
    assert html.unescape(shown) == title, (shown, title)
assert expected["score"] in html.unescape(page), ("the page does not say what a score is", expected["score"])
watched = re.findall(r'<tr class="watched" data-movie-id="(\d+)">', page)
assert len(watched) == min(15, expected["rated_count"]), (len(watched), expected["rated_count"])
top = [m["movie_id"] for m in expected["top_rated"]]
assert [int(i) for i in watched[:len(top)]] == top, (watched[:len(top)], top)
PY

# "Because you liked" under the known user's recommendations.
grep -q 'class="because"' "$tmp/page.html" || fail "the page shows no 'because you liked'"

# A new visitor's list (?liked=): the page shows what /api/recommend gives, explained.
liked=$(python3 -c 'import json,sys; print(",".join(str(m["movie_id"]) for m in json.load(sys.stdin)["top_rated"][:3]))' < "$tmp/recommend.json")
curl -sf "${url}api/recommend?liked=$liked&top=10" > "$tmp/liked.json" || fail "GET /api/recommend failed"
browse "${url}?liked=$liked" "$tmp/liked.html"
python3 - "$tmp/liked.html" "$tmp/liked.json" << 'PY' || fail "the visitor's page is wrong (DOM in $tmp/liked.html: $(head -c 3000 "$tmp/liked.html"))"
import json, re, sys
page = open(sys.argv[1], encoding="utf-8").read()
expected = json.load(open(sys.argv[2], encoding="utf-8"))
assert 'data-state="ready"' in page, "the visitor's page did not finish loading"
assert "Recommended for you" in page, "the visitor's heading"
rows = [int(i) for i in re.findall(r'<tr class="rec" data-movie-id="(\d+)">', page)]
assert rows == [m["movie_id"] for m in expected["recommendations"]], rows
chips = re.findall(r'<ul id="liked-list" class="liked-list">(.*?)</ul>', page, re.S)[0]
assert len(re.findall(r"<li ", chips)) == 3, chips
PY

# An unknown user on the page: the API's error is shown, nothing crashes.
browse "${url}?user=999999" "$tmp/unknown.html"
grep -q 'data-state="error"' "$tmp/unknown.html" || fail "the page did not report the unknown user"
grep -q 'unknown user id 999999' "$tmp/unknown.html" || fail "the page lacks the API's error message"

# SIGTERM stops the server cleanly.
kill "$server"
rc=0
wait "$server" || rc=$?
server=""
[ "$rc" -eq 0 ] || fail "autoint-serve exited $rc on SIGTERM: $(cat "$tmp/serve.err")"
grep -q "GET /api/users/$user/recommendations?top=10 200" "$tmp/serve.out" \
  || fail "the access log lacks the page's recommendation request"
echo "serve ok"
