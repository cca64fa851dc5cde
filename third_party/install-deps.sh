#!/usr/bin/env bash
# Installs the Debian packages autoint builds, tests and runs against.
# Idempotent: packages already present are skipped; nothing is downloaded
# when everything is installed. Runs as root or through sudo.
set -euo pipefail

packages=(
  cmake ninja-build g++ pkg-config clang-format
  libtorch-dev            # LibTorch 1.13.1 (CPU) C++ API
  libopenblas0-pthread    # fast BLAS for libtorch (reference BLAS is ~20x slower)
  libfmt-dev              # fmt 9
  libyaml-cpp-dev         # yaml-cpp 0.7
  catch2                  # Catch2 2.13 (single header + CMake config)
  libcxxopts-dev          # cxxopts 3
  nlohmann-json3-dev      # nlohmann/json 3.11 (header-only; metrics.json, run manifests)
  libgloo-dev             # Gloo headers: c10d's ProcessGroupGloo (distributed training)
  chromium curl python3   # the autoint-serve tests: headless page rendering, API requests
  iproute2                # ss: the listen backlog in tests/serve/test_bounds.sh
)
if [ "${AUTOINT_WITH_SANITIZERS:-0}" = 1 ]; then
  # the asan and fuzz presets (docs/reliability.md); .ci/run sets this
  packages+=(clang-14 libclang-rt-14-dev) # clang++-14; ASan/UBSan/libFuzzer runtimes
fi
if [ "${AUTOINT_WITH_PEER:-0}" = 1 ]; then
  packages+=(python3-torch) # the speed peer, ../shared/bench/ref_autoint.py
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
