#!/usr/bin/env bash
# The bounds of autoint-serve against a real process on a free loopback port (issue 12,
# faults 4-6): huge and compressed bodies, a million headers, slow clients, SIGTERM, the
# listen backlog, Range, loose query strings, methods, Host, the access log and the search.
# The hostile clients are tests/serve/bounds_client.py, which prints the measured figures.
# Usage: test_bounds.sh BIN_DIR SOURCE_DIR
set -euo pipefail
bin=$1
src=$2
fail() { echo "FAIL: $*" >&2; exit 1; }

for tool in curl python3 ss; do
  command -v "$tool" > /dev/null \
    || fail "$tool is not installed; third_party/install-deps.sh installs it"
done

tmp=$(mktemp -d)
server=""
cleanup() {
  if [ -n "$server" ]; then kill -9 "$server" 2> /dev/null || true; wait "$server" 2> /dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

# 2,000 users, as in the report of the slow search.
"$bin/autoint-train" --config "$src/configs/quickstart.yaml" --set data.synthetic.ratings=10000 \
  --set data.synthetic.users=2000 --set data.synthetic.movies=100 --set train.epochs=1 \
  --set train.threads=1 --set train.progress=none --device cpu --output "$tmp/run" > "$tmp/train.out"

"$bin/autoint-serve" --run "$tmp/run" --port 0 --device cpu --allow-host allowed.example \
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
port=${url##*:}
port=${port%/}

# The client ends the server with SIGTERM; it must exit 0 (the client timed the exit).
python3 "$src/tests/serve/bounds_client.py" "$server" "$port" "$tmp/serve.out" \
  || fail "bounds_client.py found a bound that does not hold (server log: $(tail -c 2000 "$tmp/serve.err"))"
rc=0
wait "$server" || rc=$?
server=""
[ "$rc" -eq 0 ] || fail "autoint-serve exited $rc on SIGTERM: $(cat "$tmp/serve.err")"
grep -q "signal 15, stopping" "$tmp/serve.out" || fail "no stop message in the server's output"

# A bad --allow-host is refused with the value and what was expected.
rc=0
"$bin/autoint-serve" --run "$tmp/run" --port 0 --device cpu --allow-host "a b" \
  > "$tmp/bad.out" 2> "$tmp/bad.err" || rc=$?
[ "$rc" -ne 0 ] || fail "--allow-host 'a b' was accepted"
grep -q 'allowed host "a b" is not a host name' "$tmp/bad.err" \
  || fail "--allow-host 'a b': unexpected error: $(cat "$tmp/bad.err")"
echo "serve bounds ok"
