#!/usr/bin/python3
# Sustained OpenBLAS sgemm rate on the recommend forward's projection shapes, for the latency
# floor in docs/performance.md. Uses Debian's python3-torch (the peer's), which calls the same
# libopenblas as LibTorch. Usage: OPENBLAS_NUM_THREADS=N /usr/bin/python3 docs/scripts/gemm_rate.py
import time

import torch

torch.set_num_threads(1)  # OpenBLAS threads come from OPENBLAS_NUM_THREADS
rows = 3706 * 13  # ML-1M's movies x the seed's 13 fields
out = []


def rate(a, b, calls):
    for _ in range(3):
        a @ b
    start = time.perf_counter()
    for _ in range(calls):
        a @ b
    seconds = (time.perf_counter() - start) / calls
    return 2 * a.shape[0] * a.shape[1] * b.shape[1] / seconds / 1e9, seconds * 1e3


for k in (16, 32):
    gflops, ms = rate(torch.randn(rows, k), torch.randn(k, 128), 50)
    out.append(f"[{rows}, {k}] x [{k}, 128]: {gflops:.1f} GFLOP/s ({ms:.2f} ms)")
gflops, _ = rate(torch.randn(1024, 1024), torch.randn(1024, 1024), 20)
out.append(f"1024^3: {gflops:.1f} GFLOP/s")
print("; ".join(out))
