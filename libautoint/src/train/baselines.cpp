// Non-learned baselines: per-movie label counts over the training part, scored on the test split.
#include "autoint/train/baselines.h"

#include <algorithm>
#include <random>
#include <stdexcept>
#include <unordered_map>

namespace autoint::train {

namespace {

struct MovieCounts {
  int64_t positives = 0;
  int64_t count = 0;
};

struct TrainingCounts {
  std::unordered_map<int64_t, MovieCounts> movies;
  int64_t positives = 0;
  int64_t count = 0;
};

void add_counts(const data::TensorDataset& dataset, TrainingCounts& counts) {
  if (dataset.rows() == 0)
    return;
  const torch::Tensor ids = dataset.movie_ids.to(torch::kCPU, torch::kInt64).contiguous();
  const torch::Tensor labels = dataset.labels.to(torch::kCPU, torch::kFloat32).contiguous();
  const int64_t* id = ids.data_ptr<int64_t>();
  const float* label = labels.data_ptr<float>();
  for (int64_t i = 0; i < ids.numel(); ++i) {
    const int64_t positive = label[i] > 0.5F ? 1 : 0;
    auto& movie = counts.movies[id[i]];
    movie.positives += positive;
    ++movie.count;
    counts.positives += positive;
    ++counts.count;
  }
}

TrainingCounts training_counts(const PreparedData& data) {
  TrainingCounts counts;
  counts.movies.reserve(4096);
  add_counts(data.train, counts);
  add_counts(data.validation, counts);
  return counts;
}

// Applies `score(movie counts or nullptr)` to each test row's movie.
template <class Score>
torch::Tensor score_test_rows(const PreparedData& data, const TrainingCounts& counts, Score score) {
  const int64_t rows = data.test.rows();
  torch::Tensor out = torch::empty({rows}, torch::kFloat32);
  if (rows == 0)
    return out;
  const torch::Tensor ids = data.test.movie_ids.to(torch::kCPU, torch::kInt64).contiguous();
  const int64_t* id = ids.data_ptr<int64_t>();
  float* p = out.data_ptr<float>();
  for (int64_t i = 0; i < rows; ++i) {
    const auto it = counts.movies.find(id[i]);
    p[i] = static_cast<float>(score(it == counts.movies.end() ? nullptr : &it->second));
  }
  return out;
}

torch::Tensor random_scores(int64_t rows, uint64_t seed) {
  // Own conversion (top 24 bits) rather than std::uniform_real_distribution, whose
  // output is implementation-defined: the same seed gives the same scores everywhere.
  std::mt19937_64 rng(seed);
  torch::Tensor out = torch::empty({rows}, torch::kFloat32);
  float* p = out.data_ptr<float>();
  for (int64_t i = 0; i < rows; ++i)
    p[i] = static_cast<float>(rng() >> 40) * 0x1p-24F;
  return out;
}

}  // namespace

std::vector<std::string> baseline_names() {
  return {"random", "popularity", "movie_mean"};
}

torch::Tensor baseline_scores(const PreparedData& data, const std::string& name, uint64_t seed) {
  if (name == "random")
    return random_scores(data.test.rows(), seed);
  if (name != "popularity" && name != "movie_mean")
    throw std::invalid_argument("unknown baseline '" + name +
                                "' (expected random, popularity or movie_mean)");
  const TrainingCounts counts = training_counts(data);
  if (name == "popularity") {
    int64_t max_positives = 0;
    for (const auto& [id, movie] : counts.movies)
      max_positives = std::max(max_positives, movie.positives);
    const double denominator = static_cast<double>(max_positives) + 2.0;
    return score_test_rows(data, counts, [&](const MovieCounts* movie) {
      return (static_cast<double>(movie ? movie->positives : 0) + 1.0) / denominator;
    });
  }
  // An empty training part has no rate to shrink towards; 0.5 is the uninformed guess.
  const double global_rate =
      counts.count > 0 ? static_cast<double>(counts.positives) / static_cast<double>(counts.count)
                       : 0.5;
  const double m = movie_mean_prior_weight;
  return score_test_rows(data, counts, [&](const MovieCounts* movie) {
    if (!movie)
      return global_rate;
    return (static_cast<double>(movie->positives) + m * global_rate) /
           (static_cast<double>(movie->count) + m);
  });
}

std::vector<BaselineResult> evaluate_baselines(const PreparedData& data, int64_t k, uint64_t seed) {
  std::vector<BaselineResult> results;
  for (const auto& name : baseline_names())
    results.push_back({name, evaluate_scores(data.test, baseline_scores(data, name, seed), k)});
  return results;
}

}  // namespace autoint::train
