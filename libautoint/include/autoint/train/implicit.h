// Implicit-feedback training data (train.objective implicit): the training split's
// interactions, each grouped with negatives sampled afresh every epoch.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <torch/types.h>

#include "autoint/config/config.h"
#include "autoint/data/dataset.h"
#include "autoint/data/prepared.h"
#include "autoint/movielens/candidates.h"
#include "autoint/movielens/format.h"
#include "autoint/train/negatives.h"

namespace autoint::train {

class ImplicitEpochs {
 public:
  // The positives are data.train's rows with label 1, or all of them with `rated_positives`
  // (data.positives rated); a user's negatives are drawn from the movies of `movielens` the
  // user did not rate in data.train (train.negatives, train.loss, train.seed). A user who
  // rated every movie is left out of training and named in `notes`; a user with fewer unrated
  // movies than train.negatives.per_positive is a DataError naming the user. Rows live on
  // `device`.
  ImplicitEpochs(const data::PreparedData& data, const data::MovieLens& movielens,
                 const config::TrainConfig& train, bool rated_positives,
                 const torch::Device& device);

  int64_t group_size() const { return 1 + per_positive_; }
  int64_t positives() const { return positive_features_.size(0); }
  const std::vector<std::string>& notes() const { return notes_; }

  // Epoch `epoch`'s (1-based) training groups, one per positive: features
  // [positives, group_size * fields] (the positive's row, then its negatives' rows: the
  // same user and time fields, the sampled movies' fields) and labels [positives] of 1; with
  // a history (data.history), history [positives, max_len]: the positive's, which its
  // negatives share (the trainer repeats it for each row of the group).
  // The draws come from data::epoch_seed(train.seed, epoch): an epoch's groups are the
  // same however often they are built.
  data::TensorDataset epoch(int64_t epoch) const;

  // The training loss of `logits` [groups * group_size] in epoch()'s row order, as
  // train.loss says: bce over every row (positives 1, negatives 0), or bpr,
  // mean(-log sigmoid(positive - negative)) over each group's pairs.
  torch::Tensor loss(const torch::Tensor& logits) const;

 private:
  std::string loss_;
  int64_t per_positive_;
  uint64_t seed_;
  std::optional<data::CandidateRows> candidates_;
  std::optional<data::NegativeSampler> sampler_;
  torch::Tensor positive_features_;      // [positives, fields] on the device
  torch::Tensor positive_history_;       // [positives, max_len] on the device, or undefined
  std::vector<int64_t> positive_users_;  // sampler user index of each positive
  std::vector<std::string> notes_;
};

}  // namespace autoint::train
