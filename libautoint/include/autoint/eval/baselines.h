// Non-learned reference scorers (random, popularity, movie mean) evaluated with the model's
// exact test protocol, so a trained model's metrics can be judged against them.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <torch/torch.h>

#include "autoint/data/prepared.h"
#include "autoint/eval/evaluate.h"

namespace autoint::train {

// Pseudo-count of the per-movie scorers' shrinkage: the global mean (or rate) counts as
// much as this many ratings of the movie, so rarely rated movies are not scored extremes.
inline constexpr double movie_mean_prior_weight = 10.0;

struct BaselineResult {
  std::string name;
  EvalResult result;
};

// The names evaluate_baselines reports, in its order.
std::vector<std::string> baseline_names();

// A baseline's score of a movie id; "random" draws the next value of its stream per call.
using MovieScorer = std::function<double(int64_t movie_id)>;

// The scorer behind baseline_scores (see there), for scoring any movie, e.g. in the
// full-ranking protocol. It owns what it fitted and does not refer to `data` afterwards.
MovieScorer baseline_scorer(const data::PreparedData& data, const std::string& name, uint64_t seed);

// Every baseline's scorer, in baseline_names() order, fitted on one pass over the training part.
std::vector<std::pair<std::string, MovieScorer>> baseline_scorers(const data::PreparedData& data,
                                                                  uint64_t seed);

// Probabilities [test rows] (CPU float32) of one baseline for data.test, fitted on the
// training part (data.train + data.validation), grouped by raw movie id:
// - "random": uniform in [0, 1) from std::mt19937_64(seed), (x >> 40) * 2^-24.
// - "popularity": (positives + 1) / (max_positives + 2), positives = the movie's positive
//   labels. Only a ranking score squashed into (0, 1); its logloss (like random's) is
//   not meaningful, its AUC and ranking metrics are.
// - "movie_mean": the movie's mean rating shrunk towards the global mean rating,
//   (sum + m * global_mean) / (count + m), m = movie_mean_prior_weight, mapped from the
//   1-5 scale to [0, 1] by (mean - 1) / 4; unseen movies get the global mean. A ranking
//   score: its logloss is not meaningful.
// - "movie_positive_rate": the movie's positive-label rate shrunk the same way towards
//   the global rate, (positives + m * global_rate) / (count + m): a calibrated
//   probability, so its logloss is comparable with the model's.
// The seed is used only by "random". An unknown name throws std::invalid_argument.
torch::Tensor baseline_scores(const data::PreparedData& data, const std::string& name,
                              uint64_t seed);

// Item-item scorers of the full-ranking protocol, fitted on a binary user x item
// interaction matrix X [users, items] (float32, CPU); a user's scores are x_u W.
// - item_knn_weights: cosine similarity S = (X'X)_ij / (|x_i| |x_j| + 1e-9), diagonal 0,
//   keeping in each column j only the k largest entries (ties at the k-th value kept).
// - ease_weights: EASE (Steck 2019), B = -P / diag(P) column-wise with diagonal 0,
//   P = (X'X + lambda I)^-1, in float64.
// Both return [items, items] float32. Throw std::invalid_argument for k < 1 or lambda <= 0.
torch::Tensor item_knn_weights(const torch::Tensor& interactions, int64_t k);
torch::Tensor ease_weights(const torch::Tensor& interactions, double lambda);

// Every baseline evaluated on data.test with evaluate_scores at cut-off k.
std::vector<BaselineResult> evaluate_baselines(const data::PreparedData& data, int64_t k,
                                               uint64_t seed);

}  // namespace autoint::train
