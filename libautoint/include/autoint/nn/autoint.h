// AutoInt (attention only) and AutoInt+ (attention + DNN, logits summed) for CTR prediction.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include <torch/torch.h>

#include "autoint/nn/attention.h"
#include "autoint/nn/defaults.h"
#include "autoint/nn/embedding.h"
#include "autoint/nn/history.h"
#include "autoint/nn/interacting.h"

namespace autoint::nn {

struct AutoIntOptions {
  explicit AutoIntOptions(std::vector<int64_t> cardinalities)
      : cardinalities_(std::move(cardinalities)) {}
  TORCH_ARG(std::vector<int64_t>, cardinalities);
  // Field kinds and multi-valued widths, as FieldEmbeddingOptions takes them (empty: all
  // fields categorical).
  TORCH_ARG(std::vector<FieldKind>, field_kinds) = {};
  TORCH_ARG(std::vector<int64_t>, field_widths) = {};
  // Defaults: nn/defaults.h (shared with config::ModelConfig).
  TORCH_ARG(int64_t, embed_dim) = defaults::kEmbedDim;
  TORCH_ARG(int64_t, num_layers) = defaults::kNumLayers;
  TORCH_ARG(int64_t, num_heads) = defaults::kNumHeads;
  TORCH_ARG(int64_t, attention_dim) = defaults::kAttentionDim;  // per head; 0 means embed_dim
  TORCH_ARG(bool, use_residual) = defaults::kUseResidual;
  TORCH_ARG(bool, scale_attention) = defaults::kScaleAttention;
  TORCH_ARG(bool, layer_norm) = defaults::kLayerNorm;
  TORCH_ARG(double, attention_dropout) = defaults::kAttentionDropout;
  TORCH_ARG(bool, use_dnn) = true;  // AutoInt+ when true
  TORCH_ARG(std::vector<int64_t>,
            dnn_hidden_units) = std::vector<int64_t>(defaults::kDnnHiddenUnits.begin(),
                                                     defaults::kDnnHiddenUnits.end());
  TORCH_ARG(double, dnn_dropout) = defaults::kDnnDropout;
  TORCH_ARG(AttentionKernel, kernel) = AttentionKernel::automatic;
  // Empty, or two field indices (a, b): the dot product of their embeddings is added to the
  // logit, the factorisation term of matrix factorisation and of DeepFM's FM part (an MLP
  // learns a dot product poorly: Rendle et al., RecSys 2020). No parameters of its own.
  TORCH_ARG(std::vector<int64_t>, dot_fields) = {};
  // 0: the dot product is over the two fields' embeddings of the shared table (embed_dim wide).
  // > 0: over embeddings of their own, dot_dim wide, that nothing else uses (NeuMF's GMF branch
  // beside its MLP: the factorisation can be wider than the attention); needs dot_fields, both
  // categorical.
  TORCH_ARG(int64_t, dot_dim) = 0;
  // A history input (nn/history.h): item ids of history.item_field, looked up in that field's
  // embedding rows and pooled into field `fields` (the index after the last data field; mean
  // and attention pooling), which dot_fields may name (with dot_dim > 0 the history's own
  // dot embeddings are mean-pooled: FISM's user side), or into fields `fields` ..
  // `fields + max_len - 1` (tokens). history.item_field -1: no history.
  TORCH_ARG(HistoryOptions, history) = {};
};

// ids [B, C] (and numeric [B, N] when there are numeric fields; see FieldEmbedding; and
// history [B, L] int64 when options.history is set: ids of the item field, 0 for padding;
// a row's length is its count of non-zero ids; or [B / g, L] when g consecutive rows share
// each history, as a positive and its negatives do) -> logits [B]. The attention branch ends in a
// bias-free linear layer on the flattened last interacting layer; the DNN branch (AutoInt+) runs on
// the flattened embeddings: Linear-ReLU-Dropout per hidden layer, then Linear to 1; with
// dot_fields, <e_a, e_b> is added (over the dot product's own embeddings when dot_dim > 0).
class AutoIntImpl : public torch::nn::Cloneable<AutoIntImpl> {
 public:
  explicit AutoIntImpl(AutoIntOptions options);
  void reset() override;
  torch::Tensor forward(const torch::Tensor& ids, const torch::Tensor& numeric = {},
                        const torch::Tensor& history = {});
  // Logits and the looked-up embeddings, for an L2 penalty on them: [B, F, d] (with a
  // history, its pooled field or tokens included), or, with dot_dim > 0, flattened and
  // followed by the dot product's own [B, F * d + 2 * dot_dim].
  std::pair<torch::Tensor, torch::Tensor> forward_with_embeddings(
      const torch::Tensor& ids, const torch::Tensor& numeric = {},
      const torch::Tensor& history = {});
  // With a history: each history item's share of the pooled history field [B, L] (attention:
  // the target attention's weights; mean and tokens: 1 / length), for explaining a score.
  torch::Tensor history_weights(const torch::Tensor& ids, const torch::Tensor& numeric,
                                const torch::Tensor& history);
  bool has_history() const { return options.history().item_field() >= 0; }
  // Fields of the interacting layers: the data's, and the history's 1 or max_len.
  int64_t interacting_fields() const;
  void pretty_print(std::ostream& stream) const override;

  // Selects the attention kernel of every interacting layer.
  void set_kernel(AttentionKernel kernel);

  AutoIntOptions options;
  FieldEmbedding embedding{nullptr};
  torch::nn::ModuleList attention_layers{nullptr};
  torch::nn::Linear attention_out{nullptr};
  torch::nn::Sequential dnn{nullptr};
  torch::nn::Linear dnn_out{nullptr};
  FieldEmbedding dot_embedding{nullptr};  // dot_dim > 0: the two dot fields' own embeddings
  int64_t dot_columns[2] = {0, 0};        // dot_dim > 0: the dot fields' id columns (-1: history)
  HistoryPoolingLayer history_pooling{nullptr};

 private:
  // The history's embeddings [B, L, d] and mask [B, L] (checked against the options).
  std::pair<torch::Tensor, torch::Tensor> history_items(const torch::Tensor& history,
                                                        int64_t rows) const;
};
TORCH_MODULE(AutoInt);

// Trainable parameter count, by the closed formula (tests compare it with the module).
int64_t expected_parameter_count(const AutoIntOptions& options);

// About how many bytes training the model with Adam takes on `batch_rows` rows per step: the
// parameters four times (weights, gradients, Adam's two moments) plus a best-epoch copy, and
// the activations autograd keeps (embeddings, each interacting layer's projections and
// attention weights, the DNN's hidden units; doubled for the gradients). An estimate to refuse
// models that cannot fit, not an accounting; double, so that absurd sizes do not overflow.
double estimated_training_bytes(const AutoIntOptions& options, int64_t batch_rows);

}  // namespace autoint::nn
