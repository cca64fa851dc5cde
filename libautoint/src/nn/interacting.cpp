// The interacting layer: one fused projection, then the attention core.
#include "autoint/nn/interacting.h"

#include <cmath>

#include <fmt/format.h>

#include "autoint/nn/embedding.h"

namespace autoint::nn {

InteractingLayerImpl::InteractingLayerImpl(InteractingLayerOptions options_)
    : options(std::move(options_)) {
  reset();
}

void InteractingLayerImpl::reset() {
  TORCH_CHECK(options.in_dim() >= 1, "in_dim must be >= 1 (got ", options.in_dim(), ")");
  TORCH_CHECK(options.attention_dim() >= 1, "attention_dim must be >= 1 (got ",
              options.attention_dim(), ")");
  TORCH_CHECK(options.num_heads() >= 1, "num_heads must be >= 1 (got ", options.num_heads(), ")");
  TORCH_CHECK(options.attention_dropout() >= 0 && options.attention_dropout() < 1,
              "attention_dropout must be in [0, 1) (got ", options.attention_dropout(), ")");
  const int64_t blocks = options.use_residual() ? 4 : 3;
  weight = register_parameter("weight", torch::empty({options.in_dim(), blocks * out_dim()}));
  truncated_normal_(weight, 0.05);
  if (options.layer_norm()) {
    norm = register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({out_dim()})));
  }
}

torch::Tensor InteractingLayerImpl::forward(const torch::Tensor& x) {
  TORCH_CHECK(x.dim() == 3 && x.size(2) == options.in_dim(), "InteractingLayer expects [B, F, ",
              options.in_dim(), "] (got ", x.sizes(), ")");
  auto projected = x.matmul(weight);
  if (!options.use_residual()) {
    // The attention core always adds a residual block; without one it adds zeros.
    projected = torch::cat({projected, torch::zeros_like(projected.narrow(2, 0, out_dim()))}, 2);
  }
  const double scale = options.scale_attention()
                           ? 1.0 / std::sqrt(static_cast<double>(options.attention_dim()))
                           : 1.0;
  torch::Tensor out;
  if (options.attention_dropout() > 0 && is_training()) {
    out = attention_core_plain(projected, options.num_heads(), options.attention_dim(), scale,
                               options.attention_dropout(), true);
  } else {
    out = attention_core(projected, options.num_heads(), options.attention_dim(), scale,
                         options.kernel());
  }
  return norm ? norm->forward(out) : out;
}

void InteractingLayerImpl::pretty_print(std::ostream& stream) const {
  stream << fmt::format(
      "autoint::nn::InteractingLayer(in={}, heads={}, attention_dim={}, residual={}, "
      "scaled={}, layer_norm={}, attention_dropout={})",
      options.in_dim(), options.num_heads(), options.attention_dim(), options.use_residual(),
      options.scale_attention(), options.layer_norm(), options.attention_dropout());
}

}  // namespace autoint::nn
