// The shared field embedding and the truncated-normal initialiser.
#include "autoint/nn/embedding.h"

#include <numeric>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace autoint::nn {

void truncated_normal_(torch::Tensor tensor, double std) {
  torch::NoGradGuard no_grad;
  tensor.normal_(0.0, std);
  // Redraw the samples beyond two standard deviations until none remain.
  for (;;) {
    auto outside = tensor.abs() > 2.0 * std;
    const int64_t count = outside.sum().item<int64_t>();
    if (count == 0)
      break;
    tensor.masked_scatter_(outside, torch::randn({count}, tensor.options()) * std);
  }
}

FieldEmbeddingImpl::FieldEmbeddingImpl(FieldEmbeddingOptions options_)
    : options(std::move(options_)) {
  reset();
}

void FieldEmbeddingImpl::reset() {
  const auto& cards = options.cardinalities();
  TORCH_CHECK(!cards.empty(), "FieldEmbedding needs at least one field (got none)");
  for (std::size_t f = 0; f < cards.size(); ++f) {
    TORCH_CHECK(cards[f] >= 1, "cardinality of field ", f, " must be >= 1 (got ", cards[f], ")");
  }
  TORCH_CHECK(options.embed_dim() >= 1, "embed_dim must be >= 1 (got ", options.embed_dim(), ")");
  const int64_t total = std::accumulate(cards.begin(), cards.end(), int64_t{0});
  weight = register_parameter("weight", torch::empty({total, options.embed_dim()}));
  torch::nn::init::xavier_uniform_(weight);
  std::vector<int64_t> starts(cards.size(), 0);
  std::partial_sum(cards.begin(), cards.end() - 1, starts.begin() + 1);
  offsets = register_buffer("offsets", torch::tensor(starts, torch::kInt64));
}

torch::Tensor FieldEmbeddingImpl::forward(const torch::Tensor& ids) {
  TORCH_CHECK(ids.dim() == 2 && ids.size(1) == offsets.size(0), "FieldEmbedding expects ids [B, ",
              offsets.size(0), "] (got ", ids.sizes(), ")");
  return torch::embedding(weight, ids + offsets);
}

void FieldEmbeddingImpl::pretty_print(std::ostream& stream) const {
  stream << fmt::format("autoint::nn::FieldEmbedding(fields={}, rows={}, embed_dim={})",
                        options.cardinalities().size(), weight.size(0), options.embed_dim());
}

}  // namespace autoint::nn
