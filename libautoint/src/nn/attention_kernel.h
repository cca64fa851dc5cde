// Private to libautoint: the interface between attention.cpp (dispatch, autograd) and the
// fused CPU attention kernel, which is compiled once per vector width (attention_kernel_impl.h):
// a baseline build for any CPU of the target architecture and, on x86-64, an AVX2+FMA build.
// Declarations only: no inline code here may be compiled with AVX2 enabled and then shared.
#pragma once

#include <cstdint>

namespace autoint::nn::kernel {

struct Dims {
  int64_t batch;
  int64_t fields;
  int64_t heads;
  int64_t head_dim;
  int64_t padded;  // fields rounded up to a multiple of the kernel's `lanes`
  float scale;
};

// One build of the fused kernel.
struct KernelTable {
  // Field-indexed rows ([.., padded]) are padded to a multiple of this.
  int64_t lanes;
  // Forward for batch rows [begin, end). `attn` ([B, H, F, padded]) receives the attention
  // probabilities, padding zeroed, when backward will need them; otherwise it is null.
  // `scratch`: zeroed floats, head_dim * padded, plus fields * padded when `attn` is null.
  void (*forward_rows)(const float* proj, float* out, float* attn, const Dims& dims, int64_t begin,
                       int64_t end, float* scratch);
  // Backward for batch rows [begin, end); writes every element of those rows of `grad_proj`.
  // `scratch`: zeroed floats, head_dim * padded + fields * head_dim + fields * padded.
  void (*backward_rows)(const float* proj, const float* out, const float* attn,
                        const float* grad_out, float* grad_proj, const Dims& dims, int64_t begin,
                        int64_t end, float* scratch);
};

// 128-bit vectors: SSE2 on x86-64 (its baseline), NEON on AArch64.
extern const KernelTable kBaselineKernel;

#if defined(__x86_64__)
// 256-bit vectors with fused multiply-add; only for CPUs with AVX2 and FMA.
extern const KernelTable kAvx2Kernel;
#endif

}  // namespace autoint::nn::kernel
