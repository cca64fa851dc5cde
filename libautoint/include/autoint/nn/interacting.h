// The AutoInt interacting layer: multi-head self-attention over fields, residual, ReLU.
#pragma once

#include <cstdint>

#include <torch/torch.h>

#include "autoint/nn/attention.h"

namespace autoint::nn {

struct InteractingLayerOptions {
  InteractingLayerOptions(int64_t in_dim, int64_t attention_dim, int64_t num_heads = 2)
      : in_dim_(in_dim), attention_dim_(attention_dim), num_heads_(num_heads) {}
  TORCH_ARG(int64_t, in_dim);
  TORCH_ARG(int64_t, attention_dim);  // per head
  TORCH_ARG(int64_t, num_heads);
  TORCH_ARG(bool, use_residual) = true;
  TORCH_ARG(bool, scale_attention) = false;  // the seed does not scale by 1/sqrt(d)
  TORCH_ARG(bool, layer_norm) = false;
  TORCH_ARG(double, attention_dropout) = 0.0;
  TORCH_ARG(AttentionKernel, kernel) = AttentionKernel::automatic;
};

// x [B, F, in_dim] -> [B, F, num_heads * attention_dim]. Q, K, V and the residual
// projection share one weight [in_dim, 4 * H * D] (truncated-normal init, std 0.05),
// so one matrix product feeds the attention kernel.
class InteractingLayerImpl : public torch::nn::Cloneable<InteractingLayerImpl> {
 public:
  explicit InteractingLayerImpl(InteractingLayerOptions options);
  void reset() override;
  torch::Tensor forward(const torch::Tensor& x);
  void pretty_print(std::ostream& stream) const override;
  int64_t out_dim() const { return options.num_heads() * options.attention_dim(); }

  InteractingLayerOptions options;
  torch::Tensor weight;  // [in_dim, 4 * H * D] (3 * H * D without residual): Q | K | V | Res
  torch::nn::LayerNorm norm{nullptr};
};
TORCH_MODULE(InteractingLayer);

}  // namespace autoint::nn
