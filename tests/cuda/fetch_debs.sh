#!/usr/bin/env bash
# Run HERE (a Debian machine with package access): downloads the Debian packages that a
# GPU machine without Debian's repositories needs to build autoint, into
# third_party/debs/ (git-ignored). tests/cuda/run_cuda_checks.sh unpacks them there.
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p third_party/debs
cd third_party/debs
apt-get download libfmt-dev libfmt9 libyaml-cpp-dev libyaml-cpp0.7 libcxxopts-dev catch2 \
  nlohmann-json3-dev
ls -1 *.deb
