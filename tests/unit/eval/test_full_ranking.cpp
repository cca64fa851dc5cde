// Full-ranking evaluation on a hand-made case: candidate exclusion, hand-computed
// baseline metrics, the model's metrics against an independent ranking, user sampling.
#include "autoint_catch.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

#include "autoint/config/config.h"
#include "autoint/eval/evaluate.h"
#include "autoint/eval/full_ranking.h"
#include "autoint/eval/metrics.h"
#include "autoint/experiment/pipeline.h"
#include "autoint/movielens/features.h"
#include "encoded_rows.h"
#include "full_ranking_support.h"

using namespace autoint;

namespace {

// Users 1 and 2, movies 1..6. Training part: user 1 rated 1+, 2+; user 2 rated 1+, 3+,
// 4-. Test: user 1 rated 3+ and 5-, user 2 rated 6+ (+ is a rating of 5, - of 2).
struct HandMade {
  data::MovieLens movielens;
  data::PreparedData data;
};

HandMade ranking_hand_made() {
  HandMade h;
  h.movielens.users = {{1, 'F', 25, 3, "10001"}, {2, 'M', 35, 7, "94110"}};
  for (int64_t id = 1; id <= 6; ++id)
    h.movielens.movies.push_back({id, "Movie " + std::to_string(id), {"Drama"}, 1990 + id});
  // Rows 0..4 are the training part (row 4 the validation split), rows 5..7 the test split.
  h.movielens.ratings = {{1, 1, 5, 978300000}, {1, 2, 5, 978300100}, {2, 1, 5, 978300200},
                         {2, 3, 5, 978300300}, {2, 4, 2, 978300400}, {1, 3, 5, 978300500},
                         {1, 5, 2, 978300600}, {2, 6, 5, 983400000}};
  const data::RawFeatures raw = data::featurize(h.movielens, 4.0);
  std::vector<int64_t> all(8);
  std::iota(all.begin(), all.end(), int64_t{0});
  h.data.vocabulary = data::Vocabulary::fit(raw, all);
  h.data.train = test::encode_rows(raw, h.data.vocabulary, {0, 1, 2, 3});
  h.data.validation = test::encode_rows(raw, h.data.vocabulary, {4});
  h.data.test = test::encode_rows(raw, h.data.vocabulary, {5, 6, 7});
  return h;
}

nn::AutoInt small_model(const data::Vocabulary& vocabulary) {
  torch::manual_seed(3);
  config::ModelConfig model;
  model.embed_dim = 4;
  model.num_layers = 1;
  model.dnn_hidden_units = {8};
  return nn::AutoInt(train::model_options(model, vocabulary.cardinalities()));
}

using test::baseline;

}  // namespace

TEST_CASE("full ranking excludes training-part movies and ranks the rest", "[full_ranking]") {
  const HandMade h = ranking_hand_made();
  nn::AutoInt model = small_model(h.data.vocabulary);
  train::FullRankingOptions options;
  options.k = 2;
  const auto r = train::evaluate_full_ranking(model, h.movielens, h.data, options);
  CHECK(r.users == 2);
  CHECK(r.candidates == 4 + 3);  // user 1: movies 3-6; user 2: movies 2, 5, 6
  CHECK(r.time == "user_last");
  options.time = "data_last";
  CHECK(train::evaluate_full_ranking(model, h.movielens, h.data, options).timestamp == 983400000);
  options.time = "now";
  CHECK_THROWS_AS(train::evaluate_full_ranking(model, h.movielens, h.data, options),
                  std::invalid_argument);
  options.time = "user_last";
  CHECK(model->is_training());  // the mode is restored

  // Popularity (training positives 2, 1, 1, 0, 0, 0; ties by movie id): user 1 ranks
  // 3, 4, 5, 6 (hit at 1), user 2 ranks 2, 5, 6 (its positive 6 is third).
  const auto& pop2 = baseline(r, "popularity");
  CHECK(pop2.hr == Approx(0.5));
  CHECK(pop2.recall == Approx(0.5));
  CHECK(pop2.ndcg == Approx(0.5));
  CHECK(pop2.precision == Approx(0.25));
  options.k = 3;
  // The result is kept: baseline() returns a reference into it.
  const auto r3 = train::evaluate_full_ranking(model, h.movielens, h.data, options);
  const auto& pop3 = baseline(r3, "popularity");
  CHECK(pop3.hr == Approx(1.0));
  CHECK(pop3.recall == Approx(1.0));
  CHECK(pop3.ndcg == Approx((1.0 + 1.0 / std::log2(4.0)) / 2));
  CHECK(pop3.precision == Approx(1.0 / 3));
}

TEST_CASE("full ranking scores the model exactly as an independent ranking does",
          "[full_ranking]") {
  const HandMade h = ranking_hand_made();
  nn::AutoInt model = small_model(h.data.vocabulary);
  model->eval();
  train::FullRankingOptions options;
  options.k = 2;
  options.baselines = false;
  const auto r = train::evaluate_full_ranking(model, h.movielens, h.data, options);
  CHECK(r.baselines.empty());

  // Independently: user 1's candidates 3..6, user 2's 2, 5, 6, each scored through raw_row
  // at the user's latest rating (user 1: 978300600, user 2: 983400000, two months later, so the
  // time fields differ).
  const std::vector<std::vector<int64_t>> candidates{{3, 4, 5, 6}, {2, 5, 6}};
  const std::vector<int64_t> positive{3, 6};
  std::vector<int64_t> user_ids;
  std::vector<float> scores, labels;
  torch::NoGradGuard no_grad;
  for (std::size_t u = 0; u < 2; ++u) {
    for (int64_t movie : candidates[u]) {
      auto ids = data::encode_row(
          h.data.vocabulary, data::raw_row(h.movielens.users[u],
                                           h.movielens.movies[static_cast<std::size_t>(movie - 1)],
                                           u == 0 ? 978300600 : 983400000));
      const auto row = torch::from_blob(ids.data(), {1, data::kNumFields}, torch::kInt64).clone();
      user_ids.push_back(h.movielens.users[u].id);
      scores.push_back(model->forward(row).item<float>());
      labels.push_back(movie == positive[u] ? 1.0F : 0.0F);
    }
  }
  const auto expected = metrics::ranking_metrics(user_ids, scores, labels, 2);
  CHECK(r.model.hr == Approx(expected.hr).margin(1e-12));
  CHECK(r.model.ndcg == Approx(expected.ndcg).margin(1e-12));
  CHECK(r.model.recall == Approx(expected.recall).margin(1e-12));
  CHECK(r.model.precision == Approx(expected.precision).margin(1e-12));
  CHECK_FALSE(model->is_training());
}

TEST_CASE("full ranking samples users with a seed", "[full_ranking]") {
  const HandMade h = ranking_hand_made();
  nn::AutoInt model = small_model(h.data.vocabulary);
  train::FullRankingOptions options;
  options.max_users = 1;
  options.seed = 5;
  const auto a = train::evaluate_full_ranking(model, h.movielens, h.data, options);
  const auto b = train::evaluate_full_ranking(model, h.movielens, h.data, options);
  CHECK(a.users == 1);
  CHECK((a.candidates == 4 || a.candidates == 3));
  CHECK(a.candidates == b.candidates);
  options.max_users = -1;
  CHECK_THROWS_AS(train::evaluate_full_ranking(model, h.movielens, h.data, options),
                  std::invalid_argument);
}

TEST_CASE("full ranking's blocked scoring equals scoring each user on its own", "[full_ranking]") {
  const HandMade h = ranking_hand_made();
  nn::AutoInt model = small_model(h.data.vocabulary);
  model->eval();
  const data::CandidateRows candidates(h.data.vocabulary, h.movielens.movies, torch::kCPU);
  const std::vector<const data::User*> users{&h.movielens.users[0], &h.movielens.users[1],
                                             &h.movielens.users[0]};
  const std::vector<int64_t> when{978300600, 983400000, 990000000};
  // Rows of 2 users per forward pass, then of a part of one user's.
  for (int64_t batch_rows : {int64_t{12}, int64_t{4}}) {
    const auto scores = train::score_all_movies(model, candidates, users, when, batch_rows);
    REQUIRE(scores.sizes() == torch::IntArrayRef({3, 6}));
    torch::NoGradGuard no_grad;
    const auto all = torch::arange(6, torch::kInt64);
    for (std::size_t u = 0; u < users.size(); ++u) {
      const auto own = model->forward(candidates.rows(all, *users[u], when[u]));
      CHECK(torch::allclose(scores[static_cast<int64_t>(u)], own, 1e-5, 1e-6));
    }
  }
}

TEST_CASE("full ranking of the validation split excludes only the training split",
          "[full_ranking]") {
  HandMade h = ranking_hand_made();
  nn::AutoInt model = small_model(h.data.vocabulary);
  // Validation: user 1's test positive (movie 3) moved there.
  h.data.validation = h.data.test;
  train::FullRankingOptions options;
  options.split = "validation";
  options.baselines = false;
  const auto r = train::evaluate_full_ranking(model, h.movielens, h.data, options);
  // User 1 (positive 3): candidates 3..6; user 2 (positive 6): 2, 4, 5, 6 (movie 4 was only
  // in the old validation split, which is no longer part of training here).
  CHECK(r.users == 2);
  CHECK(r.candidates == 4 + 4);
  options.split = "train";
  CHECK_THROWS_AS(train::evaluate_full_ranking(model, h.movielens, h.data, options),
                  std::invalid_argument);
}

TEST_CASE("full ranking reports the item-item baselines beside the per-movie ones",
          "[full_ranking]") {
  const HandMade h = ranking_hand_made();
  nn::AutoInt model = small_model(h.data.vocabulary);
  train::FullRankingOptions options;
  options.k = 2;
  options.knn_neighbours = 1;
  options.ease_lambda = 1.0;
  const auto r = train::evaluate_full_ranking(model, h.movielens, h.data, options);
  std::vector<std::string> names;
  for (const auto& [name, m] : r.baselines)
    names.push_back(name);
  CHECK(names == std::vector<std::string>{"random", "popularity", "movie_mean",
                                          "movie_positive_rate", "item_knn", "ease"});
  // Liked training rows: user 1 {1, 2}, user 2 {1, 3}. Cosine with k = 1: s12 = s13 = 1/sqrt2
  // and nothing else, so user 1 scores 3 at 1/sqrt2 and user 2 scores 2 at 1/sqrt2: user 1's
  // top 2 (3, then 4 by id) hits its positive 3; user 2's (2, 5) misses its positive 6.
  const auto& knn = baseline(r, "item_knn");
  CHECK(knn.hr == Approx(0.5));
  CHECK(knn.ndcg == Approx(0.5));
}

TEST_CASE("model.dot_fields resolve by name against the vocabulary", "[full_ranking]") {
  const HandMade h = ranking_hand_made();
  config::ModelConfig model;
  model.dot_fields = {"movie_id", "user_id"};
  const auto options = train::model_options(model, h.data.vocabulary);
  CHECK((options.dot_fields() == std::vector<int64_t>{5, 0}));
  nn::AutoInt m(options);
  CHECK(m->forward(h.data.train.features).sizes() == torch::IntArrayRef({4}));
  model.dot_fields = {"user_id", "film"};
  CHECK_THROWS_WITH(train::model_options(model, h.data.vocabulary),
                    Catch::Contains("model.dot_fields: no field \"film\" (the fields are user_id, "
                                    "gender,"));
  CHECK_THROWS_WITH(train::model_options(model, h.data.vocabulary.cardinalities()),
                    Catch::Contains("only field cardinalities were given"));
}

TEST_CASE("NaN scores are an error in evaluation, not a result", "[full_ranking]") {
  // Before: logloss nan and AUC 0.5000 were reported with exit code 0.
  const HandMade h = ranking_hand_made();
  nn::AutoInt model = small_model(h.data.vocabulary);
  {
    torch::NoGradGuard no_grad;
    model->attention_out->weight.fill_(std::numeric_limits<float>::quiet_NaN());
  }
  CHECK_THROWS_WITH(train::evaluate(model, h.data.test, 16, 2),
                    Catch::Contains("the model scored 3 of 3 rows as NaN (the first: row 0)"));
  train::FullRankingOptions options;
  options.baselines = false;
  CHECK_THROWS_WITH(train::evaluate_full_ranking(model, h.movielens, h.data, options),
                    Catch::Contains("scored a movie as NaN for user 1"));
}
