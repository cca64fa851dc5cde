// The fused attention kernel with 128-bit vectors: runs on any CPU of the target architecture.
#define AUTOINT_ATTENTION_VEC_BYTES 16
#include "attention_kernel_impl.h"

namespace autoint::nn::kernel {

const KernelTable kBaselineKernel = kernel_table();

}  // namespace autoint::nn::kernel
