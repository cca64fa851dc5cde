// The fused attention kernel with 256-bit vectors and fused multiply-add. CMake compiles this
// file alone with -mavx2 -mfma -ffp-contract=fast on x86-64; attention.cpp calls it only after
// checking that the CPU has AVX2 and FMA.
#if defined(__x86_64__)

#if !defined(__AVX2__) || !defined(__FMA__)
#error \
    "attention_kernel_avx2.cpp must be compiled with -mavx2 -mfma (see libautoint/CMakeLists.txt)"
#endif

#define AUTOINT_ATTENTION_VEC_BYTES 32
#include "attention_kernel_impl.h"

namespace autoint::nn::kernel {

const KernelTable kAvx2Kernel = kernel_table();

}  // namespace autoint::nn::kernel

#endif  // defined(__x86_64__)
