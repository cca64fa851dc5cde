// A split's TensorDataset made directly from featurised rows (for hand-made test cases).
#pragma once

#include <cstdint>
#include <vector>

#include <torch/torch.h>

#include "autoint/data/dataset.h"
#include "autoint/movielens/features.h"

namespace autoint::test {

// The rows `rows` of `raw` encoded with `vocabulary`, with their labels, ratings and ids.
inline data::TensorDataset encode_rows(const data::RawFeatures& raw,
                                       const data::Vocabulary& vocabulary,
                                       const std::vector<int64_t>& rows) {
  data::TensorDataset d;
  d.features = vocabulary.encode(raw, rows).ids;
  std::vector<float> labels, ratings;
  std::vector<int64_t> users, movies;
  for (int64_t r : rows) {
    const auto i = static_cast<std::size_t>(r);
    labels.push_back(raw.labels[i]);
    ratings.push_back(raw.ratings[i]);
    users.push_back(raw.user_ids[i]);
    movies.push_back(raw.movie_ids[i]);
  }
  d.labels = torch::tensor(labels, torch::kFloat32);
  d.ratings = torch::tensor(ratings, torch::kFloat32);
  d.user_ids = torch::tensor(users, torch::kInt64);
  d.item_ids = torch::tensor(movies, torch::kInt64);
  return d;
}

}  // namespace autoint::test
