// A person's history (the items they liked) as an input of AutoInt: item ids of the same field,
// and the same embedding rows, as the row's target item, pooled into one field or kept as
// fields of their own.
#pragma once

#include <cstdint>
#include <string>

#include <torch/torch.h>

namespace autoint::nn {

// How a history [B, L] of item embeddings enters the interacting layers and the DNN:
// mean: their mean over the non-padding ids, one extra field;
// attention: target attention (DIN, Zhou et al. KDD 2018): each history item is weighted by a
//   small MLP of (item, target, item * target), softmax over the non-padding items, and the
//   weighted sum is one extra field;
// tokens: the L history embeddings are L extra fields (BST, Chen et al. 2019), padding ids as
//   zero vectors, so the interacting layers attend between the history items and every field.
enum class HistoryPooling { mean, attention, tokens };

const char* to_string(HistoryPooling pooling);
// The pooling named by to_string's text; false if `text` names none.
bool parse_history_pooling(const std::string& text, HistoryPooling& pooling);

struct HistoryOptions {
  // The categorical field whose ids (and embedding rows) the history holds; -1: no history.
  TORCH_ARG(int64_t, item_field) = -1;
  // L: the history's columns (ids 1.., right-padded with 0).
  TORCH_ARG(int64_t, max_len) = 0;
  TORCH_ARG(HistoryPooling, pooling) = HistoryPooling::mean;
  // attention: the hidden units of the weighting MLP.
  TORCH_ARG(int64_t, attention_units) = 32;
};

// The fields a history adds to the interacting layers: 0 without one (item_field -1), 1 for
// mean and attention pooling, max_len for tokens.
inline int64_t history_fields(const HistoryOptions& options) {
  if (options.item_field() < 0)
    return 0;
  return options.pooling() == HistoryPooling::tokens ? options.max_len() : 1;
}

// Pools history embeddings: forward(items [G, L, d], mask [G, L] (1 for an id, 0 for padding),
// target [B, d]) -> [B, 1, d] (mean, attention) or [B, L, d] (tokens), where each history
// serves g = B / G consecutive rows (g = 1: one history per row; implicit training's groups
// and full ranking share one among many rows, so its embeddings are looked up and its
// target-independent parts computed once). A row without history gets zeros. weights() gives
// each item's share [B, L] (attention: its weight; mean and tokens: 1 / length), for
// explaining a score.
class HistoryPoolingLayerImpl : public torch::nn::Cloneable<HistoryPoolingLayerImpl> {
 public:
  HistoryPoolingLayerImpl(HistoryOptions options, int64_t embed_dim);
  void reset() override;
  torch::Tensor forward(const torch::Tensor& items, const torch::Tensor& mask,
                        const torch::Tensor& target);
  torch::Tensor weights(const torch::Tensor& items, const torch::Tensor& mask,
                        const torch::Tensor& target);
  void pretty_print(std::ostream& stream) const override;
  HistoryOptions options;
  int64_t embed_dim;
  torch::nn::Sequential attention{nullptr};  // attention pooling: [3d] -> units -> 1

 private:
  // attention: the MLP of (item, target, item * target) per row and item, [B, L], computed
  // without repeating the shared histories.
  torch::Tensor attention_scores(const torch::Tensor& items, const torch::Tensor& target) const;
};
TORCH_MODULE(HistoryPoolingLayer);

}  // namespace autoint::nn
