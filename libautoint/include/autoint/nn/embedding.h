// One embedding table shared by all fields, addressed through field offsets.
#pragma once

#include <cstdint>
#include <vector>

#include <torch/torch.h>

#include "autoint/field_kind.h"

namespace autoint::nn {

struct FieldEmbeddingOptions {
  FieldEmbeddingOptions(std::vector<int64_t> cardinalities, int64_t embed_dim)
      : cardinalities_(std::move(cardinalities)), embed_dim_(embed_dim) {}
  // Ids per field (each field's ids are 0 .. cardinality - 1; a numeric field has 1).
  TORCH_ARG(std::vector<int64_t>, cardinalities);
  TORCH_ARG(int64_t, embed_dim);
  // Kind of each field; empty means every field is categorical.
  TORCH_ARG(std::vector<FieldKind>, kinds) = {};
  // Id columns of each multi-valued field (its padded list length); entries for other
  // kinds are ignored. Empty when there is no multi-valued field.
  TORCH_ARG(std::vector<int64_t>, widths) = {};
};

// ids [B, C] (field-local, int64 or int32) and numeric [B, N] (float32) -> embeddings [B, F,
// embed_dim], one per field in order. C counts one column per categorical field and
// `width` columns per multi-valued one; N counts the numeric fields. A categorical field
// looks its id up; a multi-valued field averages the embeddings of its non-zero ids (id 0
// is padding; a row with none gets zeros); a numeric field is value x its one table row.
// The table [sum(cardinalities), embed_dim] is Glorot-uniform initialised (as Keras).
class FieldEmbeddingImpl : public torch::nn::Cloneable<FieldEmbeddingImpl> {
 public:
  explicit FieldEmbeddingImpl(FieldEmbeddingOptions options);
  void reset() override;
  // `numeric` may be undefined when there is no numeric field.
  torch::Tensor forward(const torch::Tensor& ids, const torch::Tensor& numeric = {});
  void pretty_print(std::ostream& stream) const override;

  int64_t fields() const { return static_cast<int64_t>(options.cardinalities().size()); }
  FieldKind kind(int64_t field) const;
  int64_t id_columns() const { return id_columns_; }
  // The first id column of a categorical or multi-valued field in `ids`; -1 for a numeric one.
  int64_t id_column(int64_t field) const {
    return first_columns_.at(static_cast<std::size_t>(field));
  }
  int64_t numeric_columns() const { return numeric_columns_; }
  // The first table row of a field's ids.
  int64_t start(int64_t field) const { return starts_.at(static_cast<std::size_t>(field)); }

  FieldEmbeddingOptions options;
  torch::Tensor weight;
  torch::Tensor offsets;  // [F] buffer: first row of each field in the table

 private:
  bool all_categorical_ = true;
  int64_t id_columns_ = 0;
  int64_t numeric_columns_ = 0;
  std::vector<int64_t> starts_;         // offsets, on the host
  std::vector<int64_t> first_columns_;  // id_column of each field
};
TORCH_MODULE(FieldEmbedding);

// Fills `tensor` from N(0, std) truncated to +-2 std (redrawn), as Keras' TruncatedNormal.
void truncated_normal_(torch::Tensor tensor, double std);

}  // namespace autoint::nn
