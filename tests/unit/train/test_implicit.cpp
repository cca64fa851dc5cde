// Implicit-feedback training: the epoch groups (negatives' fields, never a rated movie,
// reproducible), the BCE and BPR losses against hand-computed values, bad inputs, and an
// end-to-end run on planted preferences that beats popularity in full ranking.
#include "autoint_catch.h"

#include <cmath>
#include <map>
#include <numeric>
#include <random>
#include <set>
#include <sstream>
#include <vector>

#include "autoint/config/config.h"
#include "autoint/error.h"
#include "autoint/eval/full_ranking.h"
#include "autoint/experiment/pipeline.h"
#include "autoint/movielens/features.h"
#include "autoint/train/implicit.h"
#include "autoint/train/trainer.h"
#include "encoded_rows.h"

using namespace autoint;

namespace {

// Movies 1..6; every rating is in the training split. User 1 rated all six (liked),
// user 2 liked 1 and disliked 2, user 3 liked 3 and 4 and disliked 5.
struct Case {
  data::MovieLens movielens;
  data::PreparedData data;
};

Case implicit_case() {
  Case c;
  c.movielens.users = {
      {1, 'F', 25, 3, "10001"}, {2, 'M', 35, 7, "94110"}, {3, 'F', 18, 4, "60601"}};
  for (int64_t id = 1; id <= 6; ++id)
    c.movielens.movies.push_back({id, "Movie " + std::to_string(id), {"Drama"}, 1990 + id});
  for (int64_t m = 1; m <= 6; ++m)
    c.movielens.ratings.push_back({1, m, 5, 978300000 + m});
  c.movielens.ratings.push_back({2, 1, 5, 978400000});
  c.movielens.ratings.push_back({2, 2, 2, 978400100});
  c.movielens.ratings.push_back({3, 3, 4, 978500000});
  c.movielens.ratings.push_back({3, 4, 5, 983500000});
  c.movielens.ratings.push_back({3, 5, 1, 983500100});
  const data::RawFeatures raw = data::featurize(c.movielens, 4.0);
  std::vector<int64_t> all(static_cast<std::size_t>(raw.rows()));
  std::iota(all.begin(), all.end(), int64_t{0});
  c.data.vocabulary = data::Vocabulary::fit(raw, all);
  c.data.train = test::encode_rows(raw, c.data.vocabulary, all);
  c.data.validation = test::encode_rows(raw, c.data.vocabulary, {});
  c.data.test = test::encode_rows(raw, c.data.vocabulary, {});
  return c;
}

config::Config implicit_config(std::vector<std::string> overrides) {
  overrides.insert(overrides.begin(), {"train.objective=implicit", "data.source=synthetic"});
  return config::parse_config("", "test.yaml", overrides);
}

// The implicit epochs of `c` with a config of the given overrides.
train::ImplicitEpochs implicit_epochs(const Case& c, const std::vector<std::string>& overrides) {
  const config::Config config = implicit_config(overrides);
  return train::ImplicitEpochs(c.data, c.movielens, config.train, config.data.positives == "rated",
                               torch::kCPU);
}

}  // namespace

TEST_CASE("implicit epochs pair each positive with unrated movies at its user and time",
          "[implicit]") {
  const Case c = implicit_case();
  const train::ImplicitEpochs epochs = implicit_epochs(c, {"train.negatives.per_positive=3"});
  // User 1 rated every movie: left out, and said so.
  REQUIRE(epochs.notes().size() == 1);
  CHECK(epochs.notes().front().find("rated every movie") != std::string::npos);
  CHECK(epochs.notes().front().find(": 1") != std::string::npos);
  CHECK(epochs.positives() == 3);  // user 2's movie 1, user 3's movies 3 and 4
  CHECK(epochs.group_size() == 4);

  const data::TensorDataset groups = epochs.epoch(1);
  REQUIRE(groups.features.sizes() == torch::IntArrayRef({3, 4 * data::kNumFields}));
  const auto rows = groups.features.reshape({3, 4, data::kNumFields});
  // The encoded movie ids each user rated (every one known to the vocabulary, so never 0).
  const auto encoded = c.data.train.features;
  std::map<int64_t, std::set<int64_t>> rated;  // encoded user id -> encoded movie ids
  for (int64_t i = 0; i < encoded.size(0); ++i)
    rated[encoded[i][0].item<int64_t>()].insert(encoded[i][5].item<int64_t>());
  for (int64_t g = 0; g < 3; ++g) {
    const auto positive = rows[g][0];
    const int64_t user = positive[0].item<int64_t>();
    for (int64_t n = 1; n < 4; ++n) {
      const auto negative = rows[g][n];
      // The positive's user fields (0-4) and time fields (11-12) ...
      CHECK(torch::equal(negative.narrow(0, 0, 5), positive.narrow(0, 0, 5)));
      CHECK(torch::equal(negative.narrow(0, 11, 2), positive.narrow(0, 11, 2)));
      // ... and a movie the user did not rate, liked or not.
      CHECK(rated[user].count(negative[5].item<int64_t>()) == 0);
    }
  }
  CHECK(torch::equal(groups.features, epochs.epoch(1).features));  // the same every time
  CHECK_FALSE(torch::equal(groups.features, epochs.epoch(2).features));

  // data.positives rated: every rated row is a positive (user 2: 2, user 3: 3).
  const train::ImplicitEpochs rated_epochs =
      implicit_epochs(c, {"train.negatives.per_positive=2", "data.positives=rated"});
  CHECK(rated_epochs.positives() == 5);
}

TEST_CASE("implicit training refuses more negatives than a user has unrated movies", "[implicit]") {
  const Case c = implicit_case();
  // User 3 did not rate 3 of the 6 movies.
  REQUIRE_THROWS_WITH(implicit_epochs(c, {"train.negatives.per_positive=4"}),
                      Catch::Matchers::Contains("user 3") &&
                          Catch::Matchers::Contains("train.negatives.per_positive 4"));
}

TEST_CASE("the implicit losses match hand-computed values", "[implicit]") {
  const Case c = implicit_case();
  const auto softplus = [](double x) { return std::log1p(std::exp(x)); };
  // Two groups of a positive and two negatives.
  const auto logits = torch::tensor({2.0F, -1.0F, 0.5F, 0.0F, 1.0F, -3.0F});
  const train::ImplicitEpochs bce = implicit_epochs(c, {"train.negatives.per_positive=2"});
  // BCE: -log sigmoid(x) = softplus(-x) for a positive, softplus(x) for a negative.
  const double expected_bce = (softplus(-2.0) + softplus(-1.0) + softplus(0.5) + softplus(-0.0) +
                               softplus(1.0) + softplus(-3.0)) /
                              6.0;
  CHECK(bce.loss(logits).item<double>() == Approx(expected_bce).epsilon(1e-6));
  const train::ImplicitEpochs bpr =
      implicit_epochs(c, {"train.negatives.per_positive=2", "train.loss=bpr"});
  // BPR: -log sigmoid(positive - negative) = softplus(negative - positive), per pair.
  const double expected_bpr =
      (softplus(-1.0 - 2.0) + softplus(0.5 - 2.0) + softplus(1.0 - 0.0) + softplus(-3.0 - 0.0)) /
      4.0;
  CHECK(bpr.loss(logits).item<double>() == Approx(expected_bpr).epsilon(1e-6));
}

TEST_CASE("implicit settings that cannot work are config errors naming the keys", "[implicit]") {
  CHECK_THROWS_WITH(implicit_config({"train.objective=rating", "train.loss=bpr"}),
                    Catch::Matchers::Contains("train.loss bpr") &&
                        Catch::Matchers::Contains("train.objective implicit"));
  CHECK_THROWS_WITH(implicit_config({"train.monitor=ndcg", "data.validation_fraction=0"}),
                    Catch::Matchers::Contains("train.monitor ndcg") &&
                        Catch::Matchers::Contains("data.validation_fraction"));
  CHECK_THROWS_WITH(implicit_config({"train.negatives.per_positive=0"}),
                    Catch::Matchers::Contains("train.negatives.per_positive"));
  CHECK_THROWS_WITH(implicit_config({"data.features=paper"}),
                    Catch::Matchers::Contains("data.features seed"));
  CHECK_THROWS_WITH(implicit_config({"data.positives=all"}),
                    Catch::Matchers::Contains("data.positives"));
}

TEST_CASE("an implicit model learns planted preferences that popularity cannot see", "[implicit]") {
  // Women like Drama and dislike Comedy, men the reverse; both genres are equally popular,
  // so "most popular" ranks at chance while the model can read gender x genre.
  data::MovieLens m;
  for (int64_t u = 1; u <= 200; ++u)
    m.users.push_back({u, u % 2 == 0 ? 'F' : 'M', 25, u % 21, "1000" + std::to_string(u % 10)});
  for (int64_t id = 1; id <= 40; ++id)
    m.movies.push_back(
        {id, "Movie " + std::to_string(id), {id % 2 == 0 ? "Drama" : "Comedy"}, 1990});
  std::mt19937_64 rng(5);
  for (const auto& user : m.users) {
    for (const auto& movie : m.movies) {
      if (rng() % 100 >= 50)
        continue;
      const bool likes = (user.gender == 'F') == (movie.genres.front() == "Drama");
      m.ratings.push_back(
          {user.id, movie.id, likes ? 5 : 1, 978300000 + static_cast<int64_t>(rng() % 1000)});
    }
  }
  config::Config config = config::parse_config(
      "", "test.yaml",
      {"data.source=synthetic", "train.objective=implicit", "train.negatives.per_positive=4",
       "train.epochs=15", "train.batch_size=250", "train.learning_rate=0.01", "train.threads=1",
       "train.monitor=ndcg", "model.embed_dim=8", "model.num_layers=1",
       "model.dnn_hidden_units=[16]", "model.dropout=0", "train.progress=none"});
  const data::PreparedData data = train::prepare_data(m, config.data);
  train::seed_everything(config.train);
  nn::AutoInt model(train::model_options(config.model, data.vocabulary));
  util::Log log(nullptr, "");
  const auto fit = train::fit(model, data, train::fit_options(config), torch::kCPU, log,
                              util::ProgressMode::none, train::FitControl{"", false, &m});
  REQUIRE(!fit.history.empty());
  CHECK(!std::isnan(fit.history.front().validation_ndcg));
  train::FullRankingOptions options;
  options.k = 5;
  const auto result = train::evaluate_full_ranking(model, m, data, options);
  double popularity = -1;
  for (const auto& [name, metrics] : result.baselines) {
    if (name == "popularity")
      popularity = metrics.ndcg;
  }
  REQUIRE(popularity >= 0);
  // Within the liked genre the test positives are a random half, so even a perfect model
  // stays far below 1; chance (and popularity) is about half of it.
  CHECK(result.model.ndcg > popularity + 0.1);
}
