// Baseline scorers: hand-computed popularity and movie-mean scores, random determinism,
// and the movie mean beating chance on synthetic data.
#include "autoint_catch.h"

#include <cmath>
#include <stdexcept>
#include <vector>

#include "autoint/config/config.h"
#include "autoint/eval/baselines.h"
#include "autoint/experiment/pipeline.h"

using namespace autoint;

namespace {

data::TensorDataset make_dataset(const std::vector<int64_t>& movies,
                                 const std::vector<float>& labels,
                                 std::vector<float> ratings = {}) {
  if (ratings.empty())
    ratings.assign(movies.size(), 3.0F);
  const auto rows = static_cast<int64_t>(movies.size());
  data::TensorDataset d;
  d.features = torch::zeros({rows, 13}, torch::kInt64);
  d.labels = torch::tensor(labels, torch::kFloat32);
  d.user_ids = torch::arange(rows, torch::kInt64) % 2;
  d.item_ids = torch::tensor(movies, torch::kInt64);
  d.ratings = torch::tensor(ratings, torch::kFloat32);
  return d;
}

// Training part: movie 1 has 2 of 3 positive (ratings 5, 4, 1), movie 2 1 of 2 (2, 4),
// movie 3 2 of 2 (5, 5): 5 of 7 positive, ratings sum 26; the test split holds movies
// 1, 2, 3 and the unseen 4.
data::PreparedData hand_made() {
  data::PreparedData p;
  p.train = make_dataset({1, 1, 1, 2}, {1, 1, 0, 0}, {5, 4, 1, 2});
  p.validation = make_dataset({2, 3, 3}, {1, 1, 1}, {4, 5, 5});
  p.test = make_dataset({1, 2, 3, 4}, {1, 0, 1, 0});
  return p;
}

std::vector<float> values(const torch::Tensor& t) {
  const auto c = t.contiguous();
  return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

}  // namespace

TEST_CASE("popularity scores are smoothed positive counts over the training part", "[baselines]") {
  const auto p = values(train::baseline_scores(hand_made(), "popularity", 0));
  // (positives + 1) / (max_positives + 2) with max_positives = 2.
  const std::vector<double> expected = {3.0 / 4, 2.0 / 4, 3.0 / 4, 1.0 / 4};
  REQUIRE(p.size() == expected.size());
  for (size_t i = 0; i < p.size(); ++i)
    CHECK(p[i] == Approx(expected[i]).margin(1e-6));
}

TEST_CASE("movie_mean shrinks each movie's mean rating towards the global mean", "[baselines]") {
  const auto p = values(train::baseline_scores(hand_made(), "movie_mean", 0));
  const double g = 26.0 / 7;
  const double m = train::movie_mean_prior_weight;
  auto scaled = [](double mean) { return (mean - 1) / 4; };
  const std::vector<double> expected = {scaled((10 + m * g) / (3 + m)),
                                        scaled((6 + m * g) / (2 + m)),
                                        scaled((10 + m * g) / (2 + m)), scaled(g)};
  REQUIRE(p.size() == expected.size());
  for (size_t i = 0; i < p.size(); ++i)
    CHECK(p[i] == Approx(expected[i]).margin(1e-6));
}

TEST_CASE("movie_positive_rate shrinks each movie's positive rate towards the global rate",
          "[baselines]") {
  const auto p = values(train::baseline_scores(hand_made(), "movie_positive_rate", 0));
  const double g = 5.0 / 7;
  const double m = train::movie_mean_prior_weight;
  CHECK(m == 10.0);
  const std::vector<double> expected = {(2 + m * g) / (3 + m), (1 + m * g) / (2 + m),
                                        (2 + m * g) / (2 + m), g};
  REQUIRE(p.size() == expected.size());
  for (size_t i = 0; i < p.size(); ++i)
    CHECK(p[i] == Approx(expected[i]).margin(1e-6));
}

TEST_CASE("random scores are deterministic for a seed and lie in 0 <= s < 1", "[baselines]") {
  data::PreparedData p = hand_made();
  std::vector<int64_t> movies(1000, 1);
  p.test = make_dataset(movies, std::vector<float>(1000, 0));
  const auto a = values(train::baseline_scores(p, "random", 42));
  const auto b = values(train::baseline_scores(p, "random", 42));
  const auto c = values(train::baseline_scores(p, "random", 43));
  CHECK(a == b);
  CHECK(a != c);
  for (float x : a) {
    CHECK(x >= 0.0F);
    CHECK(x < 1.0F);
  }
}

TEST_CASE("an unknown baseline name is rejected by name", "[baselines]") {
  REQUIRE_THROWS_AS(train::baseline_scores(hand_made(), "oracle", 0), std::invalid_argument);
  REQUIRE_THROWS_WITH(train::baseline_scores(hand_made(), "oracle", 0), Catch::Contains("oracle"));
}

TEST_CASE("movie_mean beats random on synthetic data", "[baselines]") {
  const auto config = config::parse_config(
      "data:\n  source: synthetic\n", "test.yaml",
      {"data.synthetic.users=150", "data.synthetic.movies=80", "data.synthetic.ratings=6000"});
  const auto data = train::prepare_data(train::load_movielens(config.data), config.data);
  const auto results = train::evaluate_baselines(data, 10, 7);
  REQUIRE(results.size() == 4);
  CHECK(results[0].name == "random");
  CHECK(results[1].name == "popularity");
  CHECK(results[2].name == "movie_mean");
  CHECK(results[3].name == "movie_positive_rate");
  for (const auto& r : results) {
    CHECK(r.result.rows == data.test.rows());
    CHECK(r.result.k == 10);
    WARN(r.name << " auc " << r.result.auc);
  }
  CHECK(results[2].result.auc > results[0].result.auc);
  CHECK(results[3].result.auc > results[0].result.auc);
}

TEST_CASE("item_knn and ease weights match a hand-checked matrix", "[baselines]") {
  // 3 users x 3 movies: {0, 1}, {0, 2}, {0, 1, 2}. X'X = [[3, 2, 2], [2, 2, 1], [2, 1, 2]].
  const auto x = torch::tensor({1.0F, 1.0F, 0.0F, 1.0F, 0.0F, 1.0F, 1.0F, 1.0F, 1.0F}).view({3, 3});
  // Cosine: s01 = s02 = 2 / sqrt(3 * 2), s12 = 1 / 2. With k = 1 each column keeps its
  // largest entry (column 0 has a tie, both kept).
  const double c = 2.0 / std::sqrt(6.0);
  const auto knn = train::item_knn_weights(x, 1);
  const auto expected_knn =
      torch::tensor({0.0, c, c, c, 0.0, 0.0, c, 0.0, 0.0}, torch::kFloat32).view({3, 3});
  CHECK(torch::allclose(knn, expected_knn, 1e-5, 1e-6));
  const auto all = train::item_knn_weights(x, 5);
  CHECK(all[1][2].item<float>() == Approx(0.5).epsilon(1e-5));
  // EASE, lambda 1: P = (X'X + I)^-1 = [[.5, -.25, -.25], [-.25, .5, 0], [-.25, 0, .5]],
  // B_ij = -P_ij / P_jj off the diagonal.
  const auto ease = train::ease_weights(x, 1.0);
  const auto expected_ease =
      torch::tensor({0.0, 0.5, 0.5, 0.5, 0.0, 0.0, 0.5, 0.0, 0.0}, torch::kFloat32).view({3, 3});
  CHECK(torch::allclose(ease, expected_ease, 1e-5, 1e-6));
  CHECK_THROWS_AS(train::item_knn_weights(x, 0), std::invalid_argument);
  CHECK_THROWS_AS(train::ease_weights(x, 0.0), std::invalid_argument);
  CHECK_THROWS_AS(train::ease_weights(torch::zeros({3}), 1.0), std::invalid_argument);
}
