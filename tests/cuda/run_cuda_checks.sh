#!/usr/bin/env bash
# On a machine with an NVIDIA GPU and a CUDA PyTorch 2.x (its LibTorch): unpack the
# Debian packages fetched by fetch_debs.sh, build autoint against that LibTorch, run
# the CUDA-tagged tests, then autoint-bench on CUDA and a short CUDA training run.
# Usage: tests/cuda/run_cuda_checks.sh [OUT_DIR]     (results: OUT_DIR/*.json, *.log)
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-${OUT:-/tmp/autoint-cuda}}
mkdir -p "$out"
prefix=$PWD/third_party/debs/prefix
mkdir -p "$prefix"
for deb in third_party/debs/*.deb; do dpkg -x "$deb" "$prefix"; done
torch_prefix=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda,
  "cxx11abi", torch._C._GLIBCXX_USE_CXX11_ABI, torch.cuda.get_device_name(0))' | tee "$out/torch.txt"
nvidia-smi --query-gpu=name,memory.total --format=csv | tee -a "$out/torch.txt"

# Without autoint-serve: the GPU checks are about the numerics (and its ctests need Chromium,
# which the GPU machine lacks).
cmake -S . -B build/cuda -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$torch_prefix;$prefix/usr;$prefix/usr/lib/x86_64-linux-gnu/cmake;$prefix/usr/share/cmake;$prefix/usr/lib/cmake" \
  -DCMAKE_CUDA_ARCHITECTURES=native -DAUTOINT_BUILD_SERVE=OFF 2>&1 | tail -5 | tee "$out/configure.log"
cmake --build build/cuda -j "$(nproc)" 2>&1 | tail -20 | tee "$out/build.log"
export LD_LIBRARY_PATH="$prefix/usr/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}"

# CUDA-tagged tests, then the whole suite on this build.
./build/cuda/tests/autoint_unit_tests "[cuda]" 2>&1 | tee "$out/cuda_tests.log"
ctest --test-dir build/cuda --output-on-failure -j 4 2>&1 | tail -15 | tee "$out/ctest.log"

# Throughput and an epoch on CUDA (synthetic data of ML-1M's shape), and the CPU beside it.
for batch in 2048 8192; do
  ./build/cuda/apps/autoint-bench --device cuda --batch "$batch" --steps 200 \
    --json "$out/bench_cuda_b$batch.json" 2>&1 | tee "$out/bench_cuda_b$batch.log"
done
./build/cuda/apps/autoint-bench --device cpu --threads 16 --throughput-only \
  --json "$out/bench_cpu16.json" 2>&1 | tee "$out/bench_cpu16.log"
# CPU and CUDA must agree on metrics within noise: the quick start on both.
for dev in cuda cpu; do
  ./build/cuda/apps/autoint-train --config configs/quickstart.yaml --device "$dev" \
    --set train.progress=lines --output "$out/quickstart_$dev" 2>&1 | tail -12 \
    | tee "$out/quickstart_$dev.log"
done
# Kill-and-resume on CUDA: a quick start killed in epoch 2 and resumed must finish, near
# the uninterrupted CUDA run above (bit-identity is claimed on the CPU only).
set +e
AUTOINT_TEST_FAULT=KILL:2:50 ./build/cuda/apps/autoint-train --config configs/quickstart.yaml \
  --device cuda --set train.progress=none --output "$out/resume_cuda" > "$out/resume_cuda.log" 2>&1
echo "killed run: exit $? (137 expected)" | tee -a "$out/resume_cuda.log"
set -e
./build/cuda/apps/autoint-train --resume "$out/resume_cuda" 2>&1 | tail -12 \
  | tee -a "$out/resume_cuda.log"
rm -rf "$out/resume_cuda/checkpoints"

# Distributed training over NCCL (docs/distributed.md): a world of one given by WORLD_SIZE
# trains through a c10d process group, so one GPU exercises the NCCL path; with two or more
# GPUs, --nproc 2 as well. Skipped (and said so) when this LibTorch has no ProcessGroupNCCL.
grep -E "distributed training backends|no c10d backend" "$out/configure.log" build/cuda/CMakeCache.txt \
  2>/dev/null | head -2 | tee "$out/nccl.log" || true
if grep -q "AUTOINT_NCCL_INCLUDE_DIR:PATH=/" build/cuda/CMakeCache.txt; then
  WORLD_SIZE=1 RANK=0 MASTER_ADDR=127.0.0.1 MASTER_PORT=29517 \
    ./build/cuda/apps/autoint-train --config configs/quickstart.yaml --device cuda \
    --set train.progress=lines --output "$out/nccl_1gpu" 2>&1 | tail -14 | tee -a "$out/nccl.log"
  if [ "$(nvidia-smi -L | wc -l)" -ge 2 ]; then
    ./build/cuda/apps/autoint-train --nproc 2 --config configs/quickstart.yaml --device cuda \
      --set train.progress=lines --output "$out/nccl_2gpu" 2>&1 | tail -14 | tee -a "$out/nccl.log"
  fi
else
  echo "no NCCL in this build (nccl.h or torch_cuda not found): NCCL run skipped" | tee -a "$out/nccl.log"
fi
