// Full-ranking top-k evaluation: for each test user, every movie the user did not rate in
// the training part is scored and ranked, and the top k are measured against the user's
// test positives, as a recommender is used (the seed's protocol only re-ranks test rows).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <torch/torch.h>

#include "autoint/config/config.h"
#include "autoint/data/prepared.h"
#include "autoint/movielens/candidates.h"
#include "autoint/movielens/format.h"
#include "autoint/nn/autoint.h"

namespace autoint::train {

// Defaults: the config's eval section (config::EvalConfig), their one declaration.
struct FullRankingOptions {
  int64_t k = config::EvalConfig{}.top_k;
  int64_t batch_rows =
      4096;               // rows per forward pass: whole users, at least one (see performance.md)
  int64_t max_users = 0;  // evaluate a seeded sample of this many users; 0: all
  uint64_t seed = 0;      // the user sample and the random baseline
  // The time fields of a user's scored rows: "user_last", the user's latest rating
  // timestamp (the split is random, so the test ratings fall in the user's active period),
  // or "data_last", the latest rating in the data (what autoint-recommend uses by default:
  // "now" for a live recommender). `timestamp`, when set, overrides both.
  std::string time = config::EvalConfig{}.full_ranking_time;
  std::optional<int64_t> timestamp;
  bool baselines = true;  // also rank with every baseline (eval/baselines.h)
  // "test": candidates exclude what the user rated in data.train and data.validation, and
  // relevant are the user's data.test positives; "validation" (model selection while
  // training): candidates exclude data.train's, relevant are data.validation's positives.
  std::string split = "test";
  // The item_knn and ease baselines are fitted on the training part's interactions: rows
  // with label 1, or every rated row when this is true (data.positives rated).
  bool rated_interactions = false;
  int64_t knn_neighbours = config::EvalConfig{}.knn_neighbours;
  double ease_lambda = config::EvalConfig{}.ease_lambda;
};

// Standard top-k metrics averaged over the evaluated users.
struct FullRankingMetrics {
  double hr = 0;         // 1 if any of the top k is a test positive
  double ndcg = 0;       // binary gains, IDCG over min(|positives|, k) positions
  double recall = 0;     // |top-k ∩ positives| / |positives|
  double precision = 0;  // |top-k ∩ positives| / k
};

struct FullRankingResult {
  int64_t k = 10;
  int64_t users = 0;       // test users with at least one positive that were evaluated
  int64_t candidates = 0;  // (user, movie) pairs ranked, per scorer
  std::string time;        // "user_last", "data_last" or "fixed"
  int64_t timestamp = 0;   // the one used for every user, unless time is user_last
  double seconds = 0;      // scoring and ranking, the model's and the baselines' together
  FullRankingMetrics model;
  std::vector<std::pair<std::string, FullRankingMetrics>> baselines;  // baseline_names() order
};

// Candidates of a user: all of movielens.movies except those the user rated in the
// training part (see options.split); positives: the user's held-out rows with label 1.
// Users are those with a held-out positive (a seeded sample of max_users of them when it
// is > 0). Ties are broken by ascending movie id. The model is scored in eval mode without
// gradients on its device; its mode is restored. With options.baselines every per-movie
// baseline and the item_knn and ease scorers, fitted on the same training part, rank the
// same candidates.
FullRankingResult evaluate_full_ranking(nn::AutoInt& model, const data::MovieLens& movielens,
                                        const data::PreparedData& data,
                                        const FullRankingOptions& options);

// The model's logits [users.size(), candidates.movies()] (CPU float32) for every template
// row of `candidates` with the user and time fields of users[i] at timestamps[i]: the rows
// of several users go through the model together, batch_rows at a time. Equal to scoring
// each user's candidates.rows() on its own (the recommender's path). A history-aware model
// takes `histories` [users.size(), max_len] (each user's, the same for all their movies).
torch::Tensor score_all_movies(nn::AutoInt& model, const data::CandidateRows& candidates,
                               const std::vector<const data::User*>& users,
                               const std::vector<int64_t>& timestamps, int64_t batch_rows,
                               const torch::Tensor& histories = {});

}  // namespace autoint::train
