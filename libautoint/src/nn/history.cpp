// History pooling: mean, target attention (DIN) or the items as fields of their own (BST).
#include "autoint/nn/history.h"

#include <fmt/format.h>

namespace autoint::nn {

const char* to_string(HistoryPooling pooling) {
  switch (pooling) {
    case HistoryPooling::mean:
      return "mean";
    case HistoryPooling::attention:
      return "attention";
    case HistoryPooling::tokens:
      return "tokens";
  }
  return "?";
}

bool parse_history_pooling(const std::string& text, HistoryPooling& pooling) {
  for (HistoryPooling p :
       {HistoryPooling::mean, HistoryPooling::attention, HistoryPooling::tokens}) {
    if (text == to_string(p)) {
      pooling = p;
      return true;
    }
  }
  return false;
}

HistoryPoolingLayerImpl::HistoryPoolingLayerImpl(HistoryOptions options_, int64_t embed_dim_)
    : options(options_), embed_dim(embed_dim_) {
  reset();
}

void HistoryPoolingLayerImpl::reset() {
  TORCH_CHECK(options.max_len() >= 1, "history max_len must be >= 1 (got ", options.max_len(), ")");
  TORCH_CHECK(options.attention_units() >= 1, "history attention_units must be >= 1 (got ",
              options.attention_units(), ")");
  if (options.pooling() == HistoryPooling::attention) {
    attention = register_module("attention", torch::nn::Sequential());
    torch::nn::Linear hidden(3 * embed_dim, options.attention_units());
    torch::nn::Linear out(options.attention_units(), 1);
    for (auto* linear : {&hidden, &out}) {
      torch::nn::init::xavier_uniform_((*linear)->weight);
      torch::nn::init::zeros_((*linear)->bias);
    }
    attention->push_back(hidden);
    attention->push_back(torch::nn::ReLU());
    attention->push_back(out);
  }
}

torch::Tensor HistoryPoolingLayerImpl::attention_scores(const torch::Tensor& items,
                                                        const torch::Tensor& target) const {
  // hidden(item, t) = relu(W_i item + W_t t + W_it (item * t) + b): the item part once per
  // history, the target part once per row, the product part as items @ (t * W_it^T).
  const auto& hidden = attention->ptr(0)->as<torch::nn::Linear>();
  const auto& out = attention->ptr(2)->as<torch::nn::Linear>();
  const int64_t d = embed_dim;
  const int64_t groups = items.size(0);
  const int64_t rows = target.size(0);
  const int64_t share = rows / groups;
  const torch::Tensor w = hidden->weight;                             // [units, 3d]
  const torch::Tensor by_item = items.matmul(w.narrow(1, 0, d).t());  // [G, L, u]
  const torch::Tensor by_target = torch::addmm(hidden->bias, target, w.narrow(1, d, d).t());
  const torch::Tensor product =
      target.unsqueeze(2) * w.narrow(1, 2 * d, d).t().unsqueeze(0);  // [B, d, u]
  const torch::Tensor mixed =
      items.unsqueeze(1).matmul(product.view({groups, share, d, -1}));  // [G, g, L, u]
  const torch::Tensor h =
      torch::relu(mixed + by_item.unsqueeze(1) + by_target.view({groups, share, 1, -1}));
  return torch::nn::functional::linear(h, out->weight, out->bias).view({rows, -1});  // [B, L]
}

torch::Tensor HistoryPoolingLayerImpl::weights(const torch::Tensor& items,
                                               const torch::Tensor& mask,
                                               const torch::Tensor& target) {
  const int64_t share = target.size(0) / items.size(0);
  const torch::Tensor row_mask = share == 1 ? mask : mask.repeat_interleave(share, 0);
  if (options.pooling() != HistoryPooling::attention)
    return row_mask / row_mask.sum(1, /*keepdim=*/true).clamp_min(1.0);
  const torch::Tensor scores = attention_scores(items, target);
  // Padding gets no weight; a row without history gets zeros (not a softmax over nothing).
  return torch::softmax(scores.masked_fill(row_mask.eq(0), -1e9), 1) * row_mask;
}

torch::Tensor HistoryPoolingLayerImpl::forward(const torch::Tensor& items,
                                               const torch::Tensor& mask,
                                               const torch::Tensor& target) {
  TORCH_CHECK(
      items.dim() == 3 && items.size(1) == options.max_len() && items.size(2) == embed_dim &&
          mask.dim() == 2 && mask.size(0) == items.size(0) && mask.size(1) == items.size(1) &&
          target.dim() == 2 && items.size(0) > 0 && target.size(0) % items.size(0) == 0,
      "history pooling expects items [G, ", options.max_len(), ", ", embed_dim, "], mask [G, ",
      options.max_len(), "] and target [B, ", embed_dim, "] with B a multiple of G (got ",
      items.sizes(), ", ", mask.sizes(), " and ", target.sizes(), ")");
  const int64_t share = target.size(0) / items.size(0);
  switch (options.pooling()) {
    case HistoryPooling::tokens: {
      const torch::Tensor tokens = items * mask.unsqueeze(2);
      return share == 1 ? tokens : tokens.repeat_interleave(share, 0);
    }
    case HistoryPooling::mean: {
      const torch::Tensor pooled =
          (items * mask.unsqueeze(2)).sum(1, /*keepdim=*/true) /
          mask.sum(1, /*keepdim=*/true).clamp_min(1.0).unsqueeze(2);  // [G, 1, d]
      return share == 1 ? pooled : pooled.repeat_interleave(share, 0);
    }
    case HistoryPooling::attention:
      break;
  }
  const torch::Tensor w = weights(items, mask, target);  // [B, L]
  return w.view({items.size(0), share, -1}).matmul(items).view({target.size(0), 1, -1});
}

void HistoryPoolingLayerImpl::pretty_print(std::ostream& stream) const {
  stream << fmt::format("autoint::nn::HistoryPooling({}, max_len={}{})",
                        to_string(options.pooling()), options.max_len(),
                        options.pooling() == HistoryPooling::attention
                            ? fmt::format(", units={}", options.attention_units())
                            : "");
}

}  // namespace autoint::nn
