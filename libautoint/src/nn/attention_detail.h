// Internals of the fused attention kernel, for its tests: which of its builds (instruction
// sets) runs. A private header of the library (not installed).
#pragma once

namespace autoint::nn::detail {

// The builds of the fused CPU attention kernel.
enum class AttentionIsa {
  baseline,  // 128-bit vectors: SSE2 on x86-64, NEON on AArch64; runs anywhere
  avx2,      // 256-bit vectors with fused multiply-add: x86-64 CPUs with AVX2 and FMA
};

// "baseline" or "avx2".
const char* attention_isa_name(AttentionIsa isa);

// Whether this build of the library and this CPU can run `isa`.
bool attention_isa_supported(AttentionIsa isa);

// The build the fused kernel uses. Chosen once per process, at the first call: avx2 where
// supported, else baseline. The environment variable AUTOINT_ATTENTION_ISA=baseline forces
// the baseline (=avx2 requires it, =auto is the default); any other value makes this throw
// std::invalid_argument. The two builds round differently (FMA, summation order), so on one
// machine the choice is fixed for reproducible results.
AttentionIsa attention_isa();

// Makes the fused kernel use `isa` from now on (a backward pass uses the build of its
// forward pass). Throws std::invalid_argument if `isa` is not supported here.
void set_attention_isa(AttentionIsa isa);

}  // namespace autoint::nn::detail
