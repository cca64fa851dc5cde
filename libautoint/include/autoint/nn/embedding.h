// One embedding table shared by all categorical fields, addressed through field offsets.
#pragma once

#include <cstdint>
#include <vector>

#include <torch/torch.h>

namespace autoint::nn {

struct FieldEmbeddingOptions {
  FieldEmbeddingOptions(std::vector<int64_t> cardinalities, int64_t embed_dim)
      : cardinalities_(std::move(cardinalities)), embed_dim_(embed_dim) {}
  // Ids per field (each field's ids are 0 .. cardinality - 1).
  TORCH_ARG(std::vector<int64_t>, cardinalities);
  TORCH_ARG(int64_t, embed_dim);
};

// ids [B, F] (field-local, int64) -> embeddings [B, F, embed_dim]. The table
// [sum(cardinalities), embed_dim] is Glorot-uniform initialised (as Keras).
class FieldEmbeddingImpl : public torch::nn::Cloneable<FieldEmbeddingImpl> {
 public:
  explicit FieldEmbeddingImpl(FieldEmbeddingOptions options);
  void reset() override;
  torch::Tensor forward(const torch::Tensor& ids);
  void pretty_print(std::ostream& stream) const override;

  FieldEmbeddingOptions options;
  torch::Tensor weight;
  torch::Tensor offsets;  // [F] buffer: first row of each field in the table
};
TORCH_MODULE(FieldEmbedding);

// Fills `tensor` from N(0, std) truncated to +-2 std (redrawn), as Keras' TruncatedNormal.
void truncated_normal_(torch::Tensor tensor, double std);

}  // namespace autoint::nn
