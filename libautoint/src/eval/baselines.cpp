// Non-learned baselines: per-movie label counts over the training part, scored on the test split.
#include "autoint/eval/baselines.h"

#include <algorithm>
#include <memory>
#include <random>
#include <stdexcept>
#include <unordered_map>

namespace autoint::train {

namespace {

struct MovieCounts {
  int64_t positives = 0;
  int64_t count = 0;
  double rating_sum = 0;
};

struct TrainingCounts {
  std::unordered_map<int64_t, MovieCounts> movies;
  MovieCounts all;
};

void add_counts(const data::TensorDataset& dataset, TrainingCounts& counts) {
  if (dataset.rows() == 0)
    return;
  const torch::Tensor ids = dataset.item_ids.to(torch::kCPU, torch::kInt64).contiguous();
  const torch::Tensor labels = dataset.labels.to(torch::kCPU, torch::kFloat32).contiguous();
  const torch::Tensor ratings = dataset.ratings.to(torch::kCPU, torch::kFloat32).contiguous();
  const int64_t* id = ids.data_ptr<int64_t>();
  const float* label = labels.data_ptr<float>();
  const float* rating = ratings.data_ptr<float>();
  for (int64_t i = 0; i < ids.numel(); ++i) {
    for (MovieCounts* c : {&counts.movies[id[i]], &counts.all}) {
      c->positives += label[i] > 0.5F ? 1 : 0;
      ++c->count;
      c->rating_sum += rating[i];
    }
  }
}

TrainingCounts training_counts(const data::PreparedData& data) {
  TrainingCounts counts;
  counts.movies.reserve(4096);
  add_counts(data.train, counts);
  add_counts(data.validation, counts);
  return counts;
}

// The own conversion (top 24 bits) rather than std::uniform_real_distribution, whose
// output is implementation-defined: the same seed gives the same scores everywhere.
double uniform(std::mt19937_64& rng) {
  return static_cast<double>(static_cast<float>(rng() >> 40) * 0x1p-24F);
}

// The named scorer over counts fitted once (shared by every scorer made from them).
MovieScorer make_scorer(std::shared_ptr<const TrainingCounts> counts, const std::string& name,
                        uint64_t seed) {
  if (name == "random") {
    auto rng = std::make_shared<std::mt19937_64>(seed);
    return [rng](int64_t) { return uniform(*rng); };
  }
  if (name != "popularity" && name != "movie_mean" && name != "movie_positive_rate")
    throw std::invalid_argument("unknown baseline '" + name +
                                "' (expected random, popularity, movie_mean or "
                                "movie_positive_rate)");
  auto find = [counts](int64_t movie_id) -> const MovieCounts* {
    const auto it = counts->movies.find(movie_id);
    return it == counts->movies.end() ? nullptr : &it->second;
  };
  if (name == "popularity") {
    int64_t max_positives = 0;
    for (const auto& [id, movie] : counts->movies)
      max_positives = std::max(max_positives, movie.positives);
    const double denominator = static_cast<double>(max_positives) + 2.0;
    return [find, denominator](int64_t movie_id) {
      const MovieCounts* movie = find(movie_id);
      return (static_cast<double>(movie ? movie->positives : 0) + 1.0) / denominator;
    };
  }
  const double m = movie_mean_prior_weight;
  const auto all_count = static_cast<double>(counts->all.count);
  if (name == "movie_mean") {
    // An empty training part has no mean to shrink towards; 3 is the scale's middle.
    const double global_mean = counts->all.count > 0 ? counts->all.rating_sum / all_count : 3.0;
    return [find, m, global_mean](int64_t movie_id) {
      const MovieCounts* movie = find(movie_id);
      const double mean =
          movie ? (movie->rating_sum + m * global_mean) / (static_cast<double>(movie->count) + m)
                : global_mean;
      return (mean - 1.0) / 4.0;
    };
  }
  // An empty training part has no rate to shrink towards; 0.5 is the uninformed guess.
  const double global_rate =
      counts->all.count > 0 ? static_cast<double>(counts->all.positives) / all_count : 0.5;
  return [find, m, global_rate](int64_t movie_id) {
    const MovieCounts* movie = find(movie_id);
    if (!movie)
      return global_rate;
    return (static_cast<double>(movie->positives) + m * global_rate) /
           (static_cast<double>(movie->count) + m);
  };
}

// Each test row's score by `score` of its movie, in row order.
torch::Tensor test_scores(const data::PreparedData& data, const MovieScorer& score) {
  const int64_t rows = data.test.rows();
  torch::Tensor out = torch::empty({rows}, torch::kFloat32);
  if (rows == 0)
    return out;
  const torch::Tensor ids = data.test.item_ids.to(torch::kCPU, torch::kInt64).contiguous();
  const int64_t* id = ids.data_ptr<int64_t>();
  float* p = out.data_ptr<float>();
  for (int64_t i = 0; i < rows; ++i)
    p[i] = static_cast<float>(score(id[i]));
  return out;
}

}  // namespace

std::vector<std::string> baseline_names() {
  return {"random", "popularity", "movie_mean", "movie_positive_rate"};
}

MovieScorer baseline_scorer(const data::PreparedData& data, const std::string& name,
                            uint64_t seed) {
  return make_scorer(std::make_shared<const TrainingCounts>(training_counts(data)), name, seed);
}

std::vector<std::pair<std::string, MovieScorer>> baseline_scorers(const data::PreparedData& data,
                                                                  uint64_t seed) {
  const auto counts = std::make_shared<const TrainingCounts>(training_counts(data));
  std::vector<std::pair<std::string, MovieScorer>> out;
  for (const auto& name : baseline_names())
    out.emplace_back(name, make_scorer(counts, name, seed));
  return out;
}

torch::Tensor baseline_scores(const data::PreparedData& data, const std::string& name,
                              uint64_t seed) {
  return test_scores(data, baseline_scorer(data, name, seed));
}

std::vector<BaselineResult> evaluate_baselines(const data::PreparedData& data, int64_t k,
                                               uint64_t seed) {
  std::vector<BaselineResult> results;
  for (const auto& [name, scorer] : baseline_scorers(data, seed))
    results.push_back({name, evaluate_scores(data.test, test_scores(data, scorer), k)});
  return results;
}

namespace {

void check_interactions(const torch::Tensor& x, const char* who) {
  if (x.dim() != 2 || x.size(1) < 1) {
    throw std::invalid_argument(std::string(who) +
                                ": expected an interaction matrix [users, items >= 1]");
  }
}

}  // namespace

torch::Tensor item_knn_weights(const torch::Tensor& interactions, int64_t k) {
  check_interactions(interactions, "item_knn_weights");
  if (k < 1)
    throw std::invalid_argument("item_knn_weights: k must be >= 1 (got " + std::to_string(k) + ")");
  const torch::Tensor x = interactions.to(torch::kFloat64);
  torch::Tensor gram = x.t().mm(x);
  const torch::Tensor norm = gram.diagonal().sqrt();
  torch::Tensor sim = gram / (norm.unsqueeze(1) * norm.unsqueeze(0) + 1e-9);
  sim.fill_diagonal_(0.0);
  const int64_t items = sim.size(0);
  if (k < items) {
    // The k-th largest of each column; entries below it are dropped.
    const torch::Tensor threshold = std::get<0>(sim.topk(k, /*dim=*/0)).select(0, k - 1);
    sim = sim.masked_fill(sim < threshold.unsqueeze(0), 0.0);
  }
  return sim.to(torch::kFloat32);
}

torch::Tensor ease_weights(const torch::Tensor& interactions, double lambda) {
  check_interactions(interactions, "ease_weights");
  if (!(lambda > 0))
    throw std::invalid_argument("ease_weights: lambda must be > 0 (got " + std::to_string(lambda) +
                                ")");
  const torch::Tensor x = interactions.to(torch::kFloat64);
  torch::Tensor gram = x.t().mm(x);
  gram.diagonal().add_(lambda);
  const torch::Tensor p = torch::inverse(gram);
  torch::Tensor b = -p / p.diagonal().unsqueeze(0);
  b.fill_diagonal_(0.0);
  return b.to(torch::kFloat32);
}

}  // namespace autoint::train
