// The attention core of an interacting layer, from the fused Q|K|V|Res projection to
// relu(multi-head self-attention + residual): a plain LibTorch path and a fused CPU kernel.
#pragma once

#include <cstdint>

#include <torch/torch.h>

namespace autoint::nn {

// Which implementation computes the attention core.
enum class AttentionKernel {
  plain,  // LibTorch ops (view/transpose/matmul/softmax); any device, the reference
  fused,  // hand-written CPU forward and backward for small field counts, parallel over the batch
  automatic,  // fused on CPU when possible, plain otherwise (CUDA, attention dropout)
};

// projected: [B, F, 4 * H * D] float32, the input times the fused weight. Its last
// dimension holds four blocks in the order Q, K, V, Res, each H * D wide, and head h
// of a block occupies columns [h * D, (h + 1) * D) of that block.
// Returns [B, F, H * D]: out[b, i, h*D:(h+1)*D] =
//   relu( sum_j softmax_j(scale * <Q_h[b,i], K_h[b,j]>) * V_h[b,j] + Res_h[b,i] ).
// Differentiable with respect to `projected` for both kernels; both agree to
// float32 rounding. `fused` requires a CPU tensor (throws std::invalid_argument otherwise).
torch::Tensor attention_core(const torch::Tensor& projected, int64_t num_heads, int64_t head_dim,
                             double scale, AttentionKernel kernel);

// The plain path with dropout applied to the attention weights (training only).
torch::Tensor attention_core_plain(const torch::Tensor& projected, int64_t num_heads,
                                   int64_t head_dim, double scale, double attention_dropout,
                                   bool training);

}  // namespace autoint::nn
