// Scoring a dataset with a model and computing the test metrics (seed and standard).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <torch/torch.h>

#include "autoint/data/dataset.h"
#include "autoint/eval/metrics.h"
#include "autoint/nn/autoint.h"

namespace autoint::train {

// Probabilities [rows] (CPU float32) for every row of `dataset`, scored in eval mode
// without gradients, batch by batch on the model's device. The model's mode is restored.
torch::Tensor predict(nn::AutoInt& model, const data::TensorDataset& dataset, int64_t batch_size);

struct EvalResult {
  double auc = 0.5;
  double logloss = 0;
  metrics::RankingMetrics ranking;
  int64_t k = 10;
  int64_t rows = 0;
  // The per-user ranking metrics were measured (false for a table without a user column:
  // ranking is then empty and metric_entries leaves it out).
  bool per_user = true;
};

// AUC, logloss and the per-user ranking metrics at k of the given probabilities (the latter
// only when the dataset has user ids).
EvalResult evaluate_scores(const data::TensorDataset& dataset, const torch::Tensor& probabilities,
                           int64_t k);

EvalResult evaluate(nn::AutoInt& model, const data::TensorDataset& dataset, int64_t batch_size,
                    int64_t k);

// The metrics as (key, value) pairs in report order, keys as metrics.json spells them:
// auc, logloss, seed_ndcg@k, seed_hr@k, ndcg@k, hr@k, recall@k, precision@k, users, test_rows
// (without the ranking metrics and users when result.per_user is false).
std::vector<std::pair<std::string, double>> metric_entries(const EvalResult& result);

}  // namespace autoint::train
