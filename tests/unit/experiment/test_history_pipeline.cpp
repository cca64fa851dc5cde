// History inputs end to end: no leakage into the histories (the row's own item, validation and
// test positives), a positive's negatives share its history (so its length tells nothing), the
// config's errors, and a model that learns tastes only the history shows, served to a new
// visitor with "because you liked".
#include "autoint_catch.h"

#include <cmath>
#include <map>
#include <random>
#include <set>

#include "autoint/config/config.h"
#include "autoint/error.h"
#include "autoint/eval/full_ranking.h"
#include "autoint/eval/metrics.h"
#include "autoint/experiment/pipeline.h"
#include "autoint/recommend/recommender.h"
#include "autoint/train/implicit.h"
#include "autoint/train/trainer.h"
#include "full_ranking_support.h"

using namespace autoint;

namespace {

// 120 people, 40 movies in two genres; each person likes one genre (chosen at random, not by
// any person field) and dislikes the other, so only their history tells which.
data::MovieLens taste_data() {
  data::MovieLens m;
  std::mt19937_64 rng(11);
  for (int64_t u = 1; u <= 120; ++u)
    m.users.push_back({u, 'F', 25, 1, "10001"});
  for (int64_t id = 1; id <= 40; ++id)
    m.movies.push_back(
        {id, "Movie " + std::to_string(id), {id % 2 == 0 ? "Drama" : "Comedy"}, 1990});
  for (const auto& user : m.users) {
    const bool drama = rng() % 2 == 0;
    for (const auto& movie : m.movies) {
      if (rng() % 100 >= 60)
        continue;
      const bool likes = drama == (movie.genres.front() == "Drama");
      m.ratings.push_back(
          {user.id, movie.id, likes ? 5 : 1, 978300000 + static_cast<int64_t>(rng() % 100000)});
    }
  }
  return m;
}

config::Config history_config(std::vector<std::string> overrides) {
  overrides.insert(overrides.begin(),
                   {"data.source=synthetic", "data.history.field=movie_id",
                    "data.history.max_len=30", "train.objective=implicit",
                    "train.negatives.per_positive=4", "train.threads=1", "train.progress=none"});
  return config::parse_config("", "test.yaml", overrides);
}

// The encoded movie_id of each row (column 5 of the seed's fields) and its person.
std::vector<std::pair<int64_t, int64_t>> person_items(const data::TensorDataset& part) {
  std::vector<std::pair<int64_t, int64_t>> out;
  for (int64_t i = 0; i < part.rows(); ++i)
    out.emplace_back(part.user_ids[i].item<int64_t>(), part.features[i][5].item<int64_t>());
  return out;
}

std::set<int64_t> items_of(const torch::Tensor& history, int64_t row) {
  std::set<int64_t> out;
  for (int64_t j = 0; j < history.size(1); ++j) {
    if (history[row][j].item<int64_t>() > 0)
      out.insert(history[row][j].item<int64_t>());
  }
  return out;
}

}  // namespace

TEST_CASE("histories hold training positives only, never the row's own item", "[history]") {
  const data::MovieLens m = taste_data();
  const auto config = history_config({});
  const data::PreparedData data = train::prepare_data(m, config.data);
  REQUIRE(data.train.has_history());
  REQUIRE(data.test.has_history());
  std::map<int64_t, std::set<int64_t>> train_liked, part_liked, held_out;
  const auto mark = [](const data::TensorDataset& part, std::map<int64_t, std::set<int64_t>>& to,
                       bool liked_only) {
    const auto rows = person_items(part);
    for (std::size_t i = 0; i < rows.size(); ++i) {
      if (!liked_only || part.labels[static_cast<int64_t>(i)].item<float>() > 0.5F)
        to[rows[i].first].insert(rows[i].second);
    }
  };
  mark(data.train, train_liked, true);
  mark(data.train, part_liked, true);
  mark(data.validation, part_liked, true);
  mark(data.validation, held_out, false);
  mark(data.test, held_out, false);
  int64_t checked = 0;
  for (const auto* part : {&data.train, &data.validation}) {
    const auto rows = person_items(*part);
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const auto [person, item] = rows[i];
      for (int64_t h : items_of(part->history, static_cast<int64_t>(i))) {
        CHECK(h != item);                          // never the row's own item
        CHECK(train_liked[person].count(h) == 1);  // only the training split's positives
        // ... so no validation or test movie of this person (each pair is rated once here)
        if (held_out[person].count(h) != 0)
          CHECK(train_liked[person].count(h) == 1);
        ++checked;
      }
    }
  }
  const auto test_rows = person_items(data.test);
  for (std::size_t i = 0; i < test_rows.size(); ++i) {
    for (int64_t h : items_of(data.test.history, static_cast<int64_t>(i)))
      CHECK(part_liked[test_rows[i].first].count(h) == 1);  // the training part's positives
  }
  CHECK(checked > 1000);
}

TEST_CASE("a positive's negatives share its history: its length tells them apart at chance",
          "[history]") {
  const data::MovieLens m = taste_data();
  const auto config = history_config({});
  const data::PreparedData data = train::prepare_data(m, config.data);
  const train::ImplicitEpochs epochs(data, m, config.train, false, torch::kCPU);
  const data::TensorDataset groups = epochs.epoch(1);
  REQUIRE(groups.history.size(0) == groups.rows());  // one history per group, for all its rows
  // A scorer that sees only the history length: every row of a group gets the same score.
  const torch::Tensor length = groups.history.gt(0).sum(1).to(torch::kFloat32);
  const int64_t g = epochs.group_size();
  const torch::Tensor scores = length.repeat_interleave(g, 0);
  torch::Tensor labels = torch::zeros({groups.rows(), g});
  labels.select(1, 0).fill_(1.0);
  const double auc = metrics::auc(
      std::vector<float>(scores.data_ptr<float>(), scores.data_ptr<float>() + scores.numel()),
      std::vector<float>(labels.data_ptr<float>(), labels.data_ptr<float>() + labels.numel()));
  CHECK(auc <= 0.52);
  CHECK(auc >= 0.48);
}

TEST_CASE("history settings that cannot work are config errors naming the keys", "[history]") {
  CHECK_THROWS_WITH(history_config({"data.history.max_len=0"}),
                    Catch::Contains("data.history.max_len"));
  CHECK_THROWS_WITH(history_config({"data.history.order=random"}),
                    Catch::Contains("data.history.order"));
  CHECK_THROWS_WITH(
      config::parse_config("", "t.yaml",
                           {"data.source=synthetic", "model.dot_fields=[history, movie_id]"}),
      Catch::Contains("data.history.field is empty"));
  CHECK_THROWS_WITH(
      config::parse_config("", "t.yaml", {"data.source=synthetic", "train.user_dropout=0.5"}),
      Catch::Contains("train.user_dropout 0.5 needs a history input"));
  CHECK_THROWS_WITH(
      history_config({"model.history_pooling=tokens", "model.dot_fields=[history, movie_id]"}),
      Catch::Contains("tokens keeps the history as 30 fields"));
  CHECK_THROWS_WITH(
      config::parse_config("", "t.yaml",
                           {"data.source=table", "data.table.train=x.csv", "data.table.label=y",
                            "data.table.fields=[{name: a}]", "data.history.field=a"}),
      Catch::Contains("data.source table does not have"));
  const data::MovieLens m = taste_data();
  const auto unknown = history_config({"data.history.field=movie"});
  CHECK_THROWS_WITH(train::prepare_data(m, unknown.data),
                    Catch::Contains("data.history.field: no field \"movie\""));
  const auto numeric = history_config(
      {"data.features=paper", "data.history.field=timestamp", "train.objective=rating"});
  CHECK_THROWS_WITH(train::prepare_data(m, numeric.data),
                    Catch::Contains("categorical field (got a numeric field)"));
}

TEST_CASE("a history-aware model learns tastes only the history shows, for new visitors too",
          "[history]") {
  const data::MovieLens m = taste_data();
  for (const char* pooling : {"mean", "attention", "tokens"}) {
    INFO(pooling);
    auto config = history_config(
        {std::string("model.history_pooling=") + pooling, "train.user_dropout=1", "train.epochs=12",
         "train.batch_size=250", "train.learning_rate=0.01", "model.embed_dim=8",
         "model.num_layers=1", "model.dnn_hidden_units=[16]", "model.dropout=0"});
    const data::PreparedData data = train::prepare_data(m, config.data);
    train::seed_everything(config.train);
    nn::AutoInt model(train::model_options(config.model, data.vocabulary, config.data.history));
    util::Log log(nullptr, "");
    train::fit(model, data, train::fit_options(config), torch::kCPU, log, util::ProgressMode::none,
               train::FitControl{"", false, &m});
    train::FullRankingOptions options;
    options.k = 5;
    const auto result = train::evaluate_full_ranking(model, m, data, options);
    const double popularity = test::baseline(result, "popularity").ndcg;
    // No person field says who likes what (and user ids were always dropped): the history did.
    CHECK(result.model.ndcg > popularity + 0.1);

    // A new visitor who liked three dramas gets dramas, each explained by liked movies.
    recommend::Recommender r(model, data.vocabulary, m, torch::kCPU,
                             train::serving_histories(m, data.vocabulary, config.data));
    std::vector<std::string> notes;
    const auto list = r.recommend_liked({2, 4, 6}, 5, &notes);
    REQUIRE(list.size() == 5);
    int64_t dramas = 0;
    for (const auto& rec : list) {
      dramas += rec.movie_id % 2 == 0 ? 1 : 0;
      CHECK(rec.movie_id != 2);  // the liked movies are not recommended back
      CHECK(rec.because.size() <= 2);
      for (const auto& [movie, drop] : rec.because) {
        CHECK((movie == 2 || movie == 4 || movie == 6));
        CHECK(drop > 0);
      }
    }
    CHECK(dramas >= 4);
    CHECK(notes.empty());
    // The named movie really moves the score: without it the logit drops by what is reported.
    const auto logit = [](double p) { return std::log(p / (1 - p)); };
    for (const auto& rec : list) {
      for (const auto& [movie, drop] : rec.because) {
        std::vector<int64_t> rest;
        for (int64_t id : {2, 4, 6}) {
          if (id != movie)
            rest.push_back(id);
        }
        double without = -1;
        for (const auto& other : r.recommend_liked(rest, 40)) {
          if (other.movie_id == rec.movie_id)
            without = other.score;
        }
        REQUIRE(without > 0);
        CHECK(logit(rec.score) - logit(without) == Approx(drop).margin(1e-3));
      }
    }
    CHECK_THROWS_WITH(r.recommend_liked({2, 999}, 5), Catch::Contains("unknown movie id 999"));
    CHECK_THROWS_WITH(r.recommend_liked({2, 2}, 5), Catch::Contains("movie 2 is listed twice"));
    const auto popular = r.recommend_liked({}, 3, &notes);
    CHECK(popular.size() == 3);
    REQUIRE(notes.size() == 1);
    CHECK_THAT(notes[0], Catch::Contains("ranked by popularity"));
    // A known person is explained by their own liked movies.
    const auto own = r.recommend(1, 3);
    REQUIRE(!own.empty());
  }
}
