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
  const auto& kinds = options.kinds();
  TORCH_CHECK(kinds.empty() || kinds.size() == cards.size(), "FieldEmbedding has ", cards.size(),
              " cardinalities but ", kinds.size(), " kinds");
  all_categorical_ = true;
  id_columns_ = 0;
  numeric_columns_ = 0;
  first_columns_.assign(cards.size(), -1);
  for (int64_t f = 0; f < fields(); ++f) {
    if (kind(f) != FieldKind::numeric)
      first_columns_[static_cast<std::size_t>(f)] = id_columns_;
    switch (kind(f)) {
      case FieldKind::categorical:
        ++id_columns_;
        break;
      case FieldKind::multi_categorical: {
        const auto& widths = options.widths();
        TORCH_CHECK(static_cast<int64_t>(widths.size()) == fields() && widths[f] >= 1,
                    "multi-valued field ", f,
                    " needs a width >= 1 in FieldEmbeddingOptions::widths");
        id_columns_ += widths[f];
        all_categorical_ = false;
        break;
      }
      case FieldKind::numeric:
        TORCH_CHECK(cards[f] == 1, "numeric field ", f, " must have cardinality 1 (got ", cards[f],
                    ")");
        ++numeric_columns_;
        all_categorical_ = false;
        break;
    }
  }
  const int64_t total = std::accumulate(cards.begin(), cards.end(), int64_t{0});
  weight = register_parameter("weight", torch::empty({total, options.embed_dim()}));
  torch::nn::init::xavier_uniform_(weight);
  std::vector<int64_t> starts(cards.size(), 0);
  std::partial_sum(cards.begin(), cards.end() - 1, starts.begin() + 1);
  offsets = register_buffer("offsets", torch::tensor(starts, torch::kInt64));
  starts_ = starts;
}

FieldKind FieldEmbeddingImpl::kind(int64_t field) const {
  const auto& kinds = options.kinds();
  return kinds.empty() ? FieldKind::categorical : kinds[static_cast<std::size_t>(field)];
}

torch::Tensor FieldEmbeddingImpl::forward(const torch::Tensor& given_ids,
                                          const torch::Tensor& numeric) {
  TORCH_CHECK(given_ids.dim() == 2 && given_ids.size(1) == id_columns_,
              "FieldEmbedding expects ids [B, ", id_columns_, "] (got ", given_ids.sizes(), ")");
  TORCH_CHECK(given_ids.scalar_type() == torch::kInt64 || given_ids.scalar_type() == torch::kInt32,
              "FieldEmbedding expects int64 or int32 ids (got ", given_ids.scalar_type(), ")");
  // int32 ids (a table's, half the memory) are widened per batch; int64 ones are used as given.
  const torch::Tensor ids =
      given_ids.scalar_type() == torch::kInt64 ? given_ids : given_ids.to(torch::kInt64);
  if (all_categorical_)
    return torch::embedding(weight, ids + offsets);
  const int64_t rows = ids.size(0);
  TORCH_CHECK(
      numeric_columns_ == 0 || (numeric.defined() && numeric.dim() == 2 &&
                                numeric.size(0) == rows && numeric.size(1) == numeric_columns_),
      "FieldEmbedding expects numeric values [", rows, ", ", numeric_columns_, "] (got ",
      numeric.defined() ? numeric.sizes() : torch::IntArrayRef{}, ")");
  std::vector<torch::Tensor> parts;
  parts.reserve(static_cast<std::size_t>(fields()));
  int64_t numeric_column = 0;
  for (int64_t f = 0; f < fields(); ++f) {
    const int64_t start = starts_[static_cast<std::size_t>(f)];
    const int64_t column = first_columns_[static_cast<std::size_t>(f)];
    switch (kind(f)) {
      case FieldKind::categorical:
        parts.push_back(torch::embedding(weight, ids.select(1, column) + start));
        break;
      case FieldKind::multi_categorical: {
        const int64_t width = options.widths()[static_cast<std::size_t>(f)];
        const torch::Tensor list = ids.narrow(1, column, width);
        const torch::Tensor mask = list.gt(0).to(weight.scalar_type());  // [B, w]
        const torch::Tensor sum =
            torch::embedding(weight, list + start).mul(mask.unsqueeze(2)).sum(1);  // [B, d]
        parts.push_back(sum / mask.sum(1, /*keepdim=*/true).clamp_min(1.0));
        break;
      }
      case FieldKind::numeric:
        parts.push_back(numeric.select(1, numeric_column).unsqueeze(1).to(weight.scalar_type()) *
                        weight[start]);
        ++numeric_column;
        break;
    }
  }
  return torch::stack(parts, 1);
}

void FieldEmbeddingImpl::pretty_print(std::ostream& stream) const {
  stream << fmt::format("autoint::nn::FieldEmbedding(fields={}, rows={}, embed_dim={})", fields(),
                        weight.size(0), options.embed_dim());
}

}  // namespace autoint::nn
