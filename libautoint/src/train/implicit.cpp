// Implicit-feedback epochs: positives of the training split, negatives sampled per epoch.
#include "autoint/train/implicit.h"

#include <unordered_map>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <torch/torch.h>

#include "autoint/error.h"

namespace autoint::train {

ImplicitEpochs::ImplicitEpochs(const data::PreparedData& data, const data::MovieLens& movielens,
                               const config::TrainConfig& train_config, bool rated_positives,
                               const torch::Device& device)
    : loss_(train_config.loss),
      per_positive_(train_config.negatives.per_positive),
      seed_(static_cast<uint64_t>(train_config.seed)) {
  if (loss_ != "bce" && loss_ != "bpr")
    throw ConfigError(fmt::format("train.loss must be bce or bpr (got \"{}\")", loss_));
  candidates_.emplace(data.vocabulary, movielens.movies, device);
  const data::TensorDataset& train = data.train;
  const bool rated = rated_positives;
  std::unordered_map<int64_t, int64_t> user_index;  // user id -> sampler user
  std::vector<int64_t> user_ids;                    // sampler user -> user id
  std::vector<std::vector<int64_t>> excluded;
  std::vector<double> counts(static_cast<std::size_t>(candidates_->movies()), 0.0);
  std::vector<int64_t> positive_rows, positive_users;
  const auto users = train.user_ids.to(torch::kCPU, torch::kInt64).contiguous();
  const auto movies = train.item_ids.to(torch::kCPU, torch::kInt64).contiguous();
  const auto labels = train.labels.to(torch::kCPU, torch::kFloat32).contiguous();
  for (int64_t i = 0; i < train.rows(); ++i) {
    const int64_t user = users.data_ptr<int64_t>()[i];
    const int64_t movie = movies.data_ptr<int64_t>()[i];
    const int64_t row = candidates_->row_of(movie);
    if (row < 0) {
      throw DataError(fmt::format(
          "implicit training: a rating of user {} names movie {}, which is not in the movies", user,
          movie));
    }
    auto [it, inserted] = user_index.try_emplace(user, static_cast<int64_t>(user_ids.size()));
    if (inserted) {
      user_ids.push_back(user);
      excluded.emplace_back();
    }
    excluded[static_cast<std::size_t>(it->second)].push_back(row);
    if (rated || labels.data_ptr<float>()[i] > 0.5F) {
      positive_rows.push_back(i);
      positive_users.push_back(it->second);
      counts[static_cast<std::size_t>(row)] += 1.0;
    }
  }
  data::NegativeSamplerOptions options;
  options.distribution = train_config.negatives.sampler;
  options.exponent = train_config.negatives.exponent;
  try {
    sampler_.emplace(candidates_->movies(), std::move(excluded), counts, options);
  } catch (const std::invalid_argument& e) {
    throw ConfigError(fmt::format("train.negatives: {}", e.what()));
  }
  std::vector<int64_t> skipped;
  for (int64_t u = 0; u < sampler_->users(); ++u) {
    const int64_t allowed = sampler_->allowed(u);
    if (allowed == 0) {
      skipped.push_back(user_ids[static_cast<std::size_t>(u)]);
    } else if (allowed < per_positive_) {
      throw DataError(fmt::format(
          "implicit training: user {} did not rate only {} of the {} movies, fewer than "
          "train.negatives.per_positive {}; lower train.negatives.per_positive",
          user_ids[static_cast<std::size_t>(u)], allowed, candidates_->movies(), per_positive_));
    }
  }
  if (!skipped.empty()) {
    notes_.push_back(fmt::format(
        "implicit training: {} user(s) rated every movie, so no negative can be drawn for them "
        "and their positives are left out of training: {}",
        skipped.size(), fmt::join(skipped, ", ")));
  }
  std::vector<int64_t> kept;
  for (std::size_t p = 0; p < positive_rows.size(); ++p) {
    if (sampler_->allowed(positive_users[p]) > 0) {
      kept.push_back(positive_rows[p]);
      positive_users_.push_back(positive_users[p]);
    }
  }
  if (kept.empty()) {
    throw DataError(fmt::format(
        "implicit training: the training split has no {} row with a movie left to sample as "
        "a negative",
        rated ? "rated" : "liked (rating >= data.label_threshold)"));
  }
  const auto index =
      torch::from_blob(kept.data(), {static_cast<int64_t>(kept.size())}, torch::kInt64);
  positive_features_ = train.features.to(torch::kCPU).index_select(0, index).to(device);
  if (train.has_history())
    positive_history_ = train.history.to(torch::kCPU).index_select(0, index).to(device);
}

data::TensorDataset ImplicitEpochs::epoch(int64_t epoch) const {
  std::vector<int64_t> negatives =
      sampler_->sample(positive_users_, per_positive_, data::epoch_seed(seed_, epoch));
  const torch::Device device = positive_features_.device();
  const int64_t groups = positives();
  const int64_t fields = positive_features_.size(1);
  const auto index =
      torch::from_blob(negatives.data(), {static_cast<int64_t>(negatives.size())}, torch::kInt64)
          .to(device);
  const torch::Tensor repeated = positive_features_.repeat_interleave(per_positive_, 0);
  const torch::Tensor negative_rows = candidates_->with_movies(repeated, index);
  data::TensorDataset out;
  out.features =
      torch::cat(
          {positive_features_.unsqueeze(1), negative_rows.view({groups, per_positive_, fields})}, 1)
          .reshape({groups, group_size() * fields});
  out.labels = torch::ones({groups}, torch::TensorOptions().dtype(torch::kFloat32).device(device));
  out.history = positive_history_;
  return out;
}

torch::Tensor ImplicitEpochs::loss(const torch::Tensor& logits) const {
  const torch::Tensor grouped = logits.view({-1, group_size()});
  if (loss_ == "bpr") {
    const torch::Tensor margin = grouped.narrow(1, 1, per_positive_) - grouped.narrow(1, 0, 1);
    return torch::softplus(margin).mean();  // -log sigmoid(positive - negative)
  }
  torch::Tensor target = torch::zeros_like(grouped);
  target.narrow(1, 0, 1).fill_(1.0);
  return torch::binary_cross_entropy_with_logits(grouped, target);
}

}  // namespace autoint::train
