#!/usr/bin/env bash
# What a user installs must run without the build tree:
#   test_package.sh prefix BUILD_DIR   `cmake --install` into a scratch prefix, move the prefix
#                                      elsewhere, then run the apps from there
#   test_package.sh deb BUILD_DIR      `cpack -G DEB`, check the package's Depends against what
#                                      the binaries load, unpack it into a scratch root and run
#                                      the apps from there
# Each run is `autoint-train --help` and a one-epoch synthetic run with the installed
# quick-start config.
set -euo pipefail
mode=$1
build=$(cd "$2" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# Runs the installed apps under PREFIX (bin/, share/autoint/configs/) with no help from the
# build tree: LD_LIBRARY_PATH is cleared, so libautoint must be found through the RPATH.
run_installed() {
  local prefix=$1
  local train=$prefix/bin/autoint-train
  [ -x "$train" ] || fail "$train is missing"
  # (ldd's output is kept first: `ldd | grep -q` under pipefail fails when grep exits early.)
  local libs
  libs=$(ldd "$train")
  if grep -q 'not found' <<< "$libs"; then
    echo "$libs" >&2
    fail "$train has unresolved libraries"
  fi
  grep -qF "libautoint.so.0 => $prefix/" <<< "$libs" \
    || fail "$train does not load libautoint from its own prefix: $(grep libautoint <<< "$libs")"
  local help
  help=$(env -u LD_LIBRARY_PATH "$train" --help)
  grep -q -- '--config' <<< "$help" || fail "autoint-train --help does not list --config"
  for app in autoint-eval autoint-data autoint-bench autoint-recommend; do
    env -u LD_LIBRARY_PATH "$prefix/bin/$app" --help > /dev/null || fail "$app --help failed"
  done
  local config=$prefix/share/autoint/configs/quickstart.yaml
  [ -f "$config" ] || fail "$config is missing"
  (cd "$tmp" && env -u LD_LIBRARY_PATH OMP_NUM_THREADS=1 "$train" --config "$config" \
    --set train.epochs=1 --set data.synthetic.ratings=20000 --set train.progress=none \
    --output "$tmp/run" > "$tmp/train.log" 2>&1) || { cat "$tmp/train.log" >&2; fail "training failed"; }
  grep -q '"auc"' "$tmp/run/metrics.json" || fail "no AUC in $tmp/run/metrics.json"
  env -u LD_LIBRARY_PATH "$prefix/bin/autoint-eval" --run "$tmp/run" --device cpu > "$tmp/eval.log" \
    || fail "autoint-eval on the installed run failed"
  rm -rf "$tmp/run"
}

case $mode in
  prefix)
    cmake --install "$build" --prefix "$tmp/prefix" > /dev/null
    # Relocatable: the same tree must work after the prefix is moved.
    mv "$tmp/prefix" "$tmp/moved-prefix"
    run_installed "$tmp/moved-prefix"
    for f in include/autoint/version.h lib/cmake/autoint/autointConfig.cmake; do
      [ -f "$tmp/moved-prefix/$f" ] || fail "the install tree has no $f"
    done
    echo "installed apps run from a moved prefix"
    ;;
  deb)
    command -v dpkg-deb > /dev/null || fail "dpkg-deb is needed (Debian)"
    (cd "$tmp" && cpack --config "$build/CPackConfig.cmake" -G DEB -B "$tmp/out" > "$tmp/cpack.log" 2>&1) \
      || { cat "$tmp/cpack.log" >&2; fail "cpack -G DEB failed"; }
    deb=$(ls "$tmp"/out/autoint_*.deb)
    depends=$(dpkg-deb -f "$deb" Depends)
    depends_names=$(tr ',' '\n' <<< "$depends" | sed 's/^ *//; s/ .*//')
    echo "package: $(basename "$deb"), Depends: $depends"
    contents=$(dpkg-deb -c "$deb")
    for f in ./usr/include/autoint/nn/autoint.h ./usr/lib/cmake/autoint/autointConfig.cmake \
      ./usr/share/autoint/configs/quickstart.yaml ./usr/lib/libautoint.so.0; do
      grep -qF " $f" <<< "$contents" || fail "$deb does not hold $f"
    done
    dpkg-deb -x "$deb" "$tmp/root"
    # Every shared library the installed binaries link directly (their NEEDED entries) must
    # come from a package named in Depends; libautoint comes from this package. What those
    # libraries load in turn is their own packages' business.
    command -v objdump > /dev/null || fail "objdump (binutils) is needed"
    for bin in "$tmp"/root/usr/bin/autoint-* "$tmp"/root/usr/lib/libautoint.so.*.*; do
      for needed in $(objdump -p "$bin" | awk '$1 == "NEEDED" {print $2}'); do
        # "libfoo.so.1 => /path (0x...)", or "/lib64/ld-linux-x86-64.so.2 (0x...)" for the loader
        lib=$(ldd "$bin" | awk -v n="$needed" '$1 == n {print $3} $2 != "=>" && $1 ~ ("/" n "$") {print $1}')
        case $lib in "$tmp"/*) continue ;; "" | "not") fail "$(basename "$bin"): $needed not found" ;; esac
        owner=$(dpkg -S "$(readlink -f "$lib")" 2> /dev/null | head -1 | cut -d: -f1) || true
        [ -n "$owner" ] || owner=$(dpkg -S "$lib" 2> /dev/null | head -1 | cut -d: -f1) || true
        [ -n "$owner" ] || fail "$lib (needed by $(basename "$bin")) belongs to no package"
        grep -qx "$owner" <<< "$depends_names" \
          || fail "$(basename "$bin") needs $needed from package $owner, which Depends does not name"
      done
    done
    run_installed "$tmp/root/usr"
    echo "the .deb installs working apps; Depends covers every library they load"
    ;;
  *) fail "unknown mode $mode; expected prefix or deb" ;;
esac
