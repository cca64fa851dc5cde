// Non-learned reference scorers (random, popularity, movie mean) evaluated with the model's
// exact test protocol, so a trained model's metrics can be judged against them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "autoint/train/evaluate.h"
#include "autoint/train/pipeline.h"

namespace autoint::train {

// Pseudo-count of movie_mean's shrinkage: a movie's positive rate counts as much as
// this many ratings at the global rate, so rarely rated movies are not scored 0 or 1.
inline constexpr double movie_mean_prior_weight = 10.0;

struct BaselineResult {
  std::string name;
  EvalResult result;
};

// The names evaluate_baselines reports, in its order.
std::vector<std::string> baseline_names();

// Probabilities [test rows] (CPU float32) of one baseline for data.test, fitted on the
// training part (data.train + data.validation), grouped by raw movie id:
// - "random": uniform in [0, 1) from std::mt19937_64(seed), (x >> 40) * 2^-24.
// - "popularity": (positives + 1) / (max_positives + 2), positives = the movie's positive
//   labels. Only a ranking score squashed into (0, 1); its logloss (like random's) is
//   not meaningful, its AUC and ranking metrics are.
// - "movie_mean": the movie's positive rate shrunk towards the global positive rate,
//   (positives + m * global_rate) / (count + m), m = movie_mean_prior_weight; unseen
//   movies get the global rate. PreparedData holds binary labels, not ratings, so this
//   is the positive rate, not seed-protocol.md's mean rating.
// The seed is used only by "random". An unknown name throws std::invalid_argument.
torch::Tensor baseline_scores(const PreparedData& data, const std::string& name, uint64_t seed);

// Every baseline evaluated on data.test with evaluate_scores at cut-off k.
std::vector<BaselineResult> evaluate_baselines(const PreparedData& data, int64_t k, uint64_t seed);

}  // namespace autoint::train
