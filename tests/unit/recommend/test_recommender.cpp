// The recommender on a small synthetic run: exclusions, ordering, scores equal to the
// model on hand-built rows, and its errors.
#include "autoint_catch.h"

#include <algorithm>
#include <filesystem>
#include <set>
#include <stdexcept>

#include "autoint/error.h"
#include "autoint/experiment/run_dir.h"
#include "autoint/movielens/features.h"
#include "autoint/recommend/recommender.h"
#include "tiny_run.h"

using namespace autoint;

namespace {

const std::string& run_dir() {
  return test::tiny_run_dir();
}

const recommend::Recommender& recommender() {
  static const auto r = recommend::Recommender::from_run(run_dir(), torch::kCPU);
  return r;
}

std::set<int64_t> rated_ids(const recommend::Recommender& r, int64_t user_id) {
  std::set<int64_t> ids;
  for (const auto& rating : r.data().ratings) {
    if (rating.user_id == user_id)
      ids.insert(rating.movie_id);
  }
  return ids;
}

// The model's probability for one (user, movie, time) row built the way training builds it.
float hand_score(nn::AutoInt& model, const data::Vocabulary& vocabulary, const data::User& user,
                 const data::Movie& movie, int64_t timestamp) {
  const auto ids = data::encode_row(vocabulary, data::raw_row(user, movie, timestamp));
  const auto row = torch::tensor(std::vector<int64_t>(ids.begin(), ids.end())).view({1, -1});
  torch::NoGradGuard no_grad;
  model->eval();
  return torch::sigmoid(model->forward(row)).item<float>();
}

}  // namespace

TEST_CASE("recommendations exclude rated movies, are sorted and sized", "[recommend]") {
  const auto& r = recommender();
  for (int64_t user_id : {int64_t{1}, int64_t{7}, int64_t{30}}) {
    INFO("user " << user_id);
    const auto rated = rated_ids(r, user_id);
    const auto unrated = static_cast<int64_t>(r.data().movies.size() - rated.size());
    REQUIRE(unrated > 0);
    for (int64_t top_n : {int64_t{1}, int64_t{10}, int64_t{1000}}) {
      INFO("top_n " << top_n);
      const auto recs = r.recommend(user_id, top_n);
      CHECK(static_cast<int64_t>(recs.size()) == std::min(top_n, unrated));
      std::set<int64_t> seen;
      for (std::size_t i = 0; i < recs.size(); ++i) {
        CHECK(rated.count(recs[i].movie_id) == 0);
        CHECK(seen.insert(recs[i].movie_id).second);
        CHECK(recs[i].score >= 0.0f);
        CHECK(recs[i].score <= 1.0f);
        if (i > 0) {
          CHECK(recs[i - 1].score >= recs[i].score);
          if (recs[i - 1].score == recs[i].score)
            CHECK(recs[i - 1].movie_id < recs[i].movie_id);
        }
      }
    }
    // The top 10 is the head of the full ranking.
    const auto all = r.recommend(user_id, 1000);
    const auto ten = r.recommend(user_id, 10);
    for (std::size_t i = 0; i < ten.size(); ++i) {
      CHECK(ten[i].movie_id == all[i].movie_id);
      CHECK(ten[i].score == all[i].score);
    }
  }
}

TEST_CASE("recommendation scores equal the model on hand-built rows", "[recommend]") {
  const auto& r = recommender();
  auto run = train::load_run(run_dir(), torch::kCPU);
  const int64_t user_id = 3;
  const auto& user = r.user(user_id);
  const auto recs = r.recommend(user_id, 5);
  REQUIRE(recs.size() >= 2);
  for (std::size_t i : {std::size_t{0}, recs.size() - 1}) {
    INFO("movie " << recs[i].movie_id);
    CHECK(recs[i].score == Approx(hand_score(run.model, run.vocabulary, user,
                                             r.movie(recs[i].movie_id), r.default_timestamp()))
                               .margin(1e-5));
  }
  // An explicit timestamp goes through the same mapping.
  const int64_t early = 946684800;  // 2000-01-01 UTC, inside the synthetic data's range
  const auto at_early = r.recommend(user_id, 3, early);
  REQUIRE(!at_early.empty());
  CHECK(at_early[0].score ==
        Approx(hand_score(run.model, run.vocabulary, user, r.movie(at_early[0].movie_id), early))
            .margin(1e-5));
}

TEST_CASE("recommend() defaults to the latest rating timestamp", "[recommend]") {
  const auto& r = recommender();
  int64_t latest = 0;
  for (const auto& rating : r.data().ratings)
    latest = std::max(latest, rating.timestamp);
  CHECK(r.default_timestamp() == latest);
  const auto by_default = r.recommend(5, 10);
  const auto explicit_latest = r.recommend(5, 10, latest);
  REQUIRE(by_default.size() == explicit_latest.size());
  for (std::size_t i = 0; i < by_default.size(); ++i) {
    CHECK(by_default[i].movie_id == explicit_latest[i].movie_id);
    CHECK(by_default[i].score == explicit_latest[i].score);
  }
  // Two timestamps outside the training years both encode as out-of-vocabulary: same result.
  const auto y2100 = r.recommend(5, 10, int64_t{4102444800});
  const auto y2200 = r.recommend(5, 10, int64_t{7258118400});
  REQUIRE(y2100.size() == y2200.size());
  for (std::size_t i = 0; i < y2100.size(); ++i) {
    CHECK(y2100[i].movie_id == y2200[i].movie_id);
    CHECK(y2100[i].score == y2200[i].score);
  }
}

TEST_CASE("the recommender lists rated movies highest rating first, then most recent",
          "[recommend]") {
  const auto& r = recommender();
  const int64_t user_id = 2;
  const auto rated = r.rated_movies(user_id);
  CHECK(rated.size() == rated_ids(r, user_id).size());
  for (std::size_t i = 1; i < rated.size(); ++i)
    CHECK(rated[i - 1].second >= rated[i].second);
}

TEST_CASE("recommender errors name the bad value", "[recommend]") {
  const auto& r = recommender();
  try {
    r.recommend(999999, 10);
    FAIL("no error for an unknown user");
  } catch (const DataError& e) {
    CHECK(std::string(e.what()).find("unknown user id 999999") != std::string::npos);
    CHECK(std::string(e.what()).find("1..60") != std::string::npos);
  }
  CHECK_THROWS_AS(r.user(0), DataError);
  CHECK_THROWS_AS(r.rated_movies(-5), DataError);
  try {
    r.recommend(1, 0);
    FAIL("no error for top_n 0");
  } catch (const std::invalid_argument& e) {
    CHECK(std::string(e.what()).find("(got 0)") != std::string::npos);
  }
  CHECK_THROWS_AS(r.recommend(1, -3), std::invalid_argument);
}

TEST_CASE("a user who rated every movie gets no recommendations", "[recommend]") {
  data::MovieLens data;
  data.users = {{1, 'F', 25, 3, "12345"}, {2, 'M', 18, 4, "54321"}};
  data::Movie a;
  a.id = 10;
  a.title = "A (1999)";
  a.genres = {"Drama"};
  a.year = 1999;
  data::Movie b = a;
  b.id = 11;
  b.title = "B (1999)";
  data.movies = {a, b};
  data.ratings = {{1, 10, 5, 978300760}, {1, 11, 3, 978300761}, {2, 10, 4, 978300762}};
  const auto raw = data::featurize(data, 4.0);
  const auto vocabulary = data::Vocabulary::fit(raw, {0, 1, 2});
  torch::manual_seed(1);
  nn::AutoInt model(nn::AutoIntOptions(vocabulary.cardinalities()).embed_dim(4));
  const recommend::Recommender r(model, vocabulary, data, torch::kCPU);
  CHECK(r.recommend(1, 10).empty());
  const auto recs = r.recommend(2, 10);
  REQUIRE(recs.size() == 1);
  CHECK(recs[0].movie_id == 11);
  CHECK(r.default_timestamp() == 978300762);
  const auto rated = r.rated_movies(1);
  REQUIRE(rated.size() == 2);
  CHECK(rated[0].first.id == 10);
  CHECK(rated[0].second == 5);
}

TEST_CASE("recommend breaks score ties by lower movie id, also across the cut", "[recommend]") {
  // Movies 20..22 are never rated: their movie_id is out of vocabulary and their other fields
  // equal, so they score exactly alike for any user.
  data::MovieLens data;
  data.users = {{1, 'F', 25, 3, "12345"}, {2, 'M', 18, 4, "54321"}};
  data::Movie seen;
  seen.id = 10;
  seen.title = "Seen (1999)";
  seen.genres = {"Drama"};
  seen.year = 1999;
  data.movies = {seen};
  for (int64_t id : {22, 20, 21, 11}) {
    data::Movie m = seen;
    m.id = id;
    m.title = "Twin (1999)";
    data.movies.push_back(m);
  }
  data.movies.back().genres = {"Comedy"};  // movie 11 differs
  data.ratings = {{1, 10, 5, 978300760}, {2, 10, 2, 978300761}};
  const auto raw = data::featurize(data, 4.0);
  const auto vocabulary = data::Vocabulary::fit(raw, {0, 1});
  torch::manual_seed(3);
  nn::AutoInt model(nn::AutoIntOptions(vocabulary.cardinalities()).embed_dim(4));
  const recommend::Recommender r(model, vocabulary, data, torch::kCPU);
  const auto all = r.recommend(1, 10);
  REQUIRE(all.size() == 4);
  std::vector<int64_t> twins;
  for (const auto& rec : all) {
    if (rec.movie_id != 11)
      twins.push_back(rec.movie_id);
  }
  CHECK(twins == std::vector<int64_t>{20, 21, 22});
  float twin_score = 0;
  for (const auto& rec : all) {
    if (rec.movie_id == 20)
      twin_score = rec.score;
  }
  // Cut inside the tie: the lowest ids are kept whatever topk picked.
  for (int64_t k : {1, 2, 3}) {
    const auto top = r.recommend(1, k);
    REQUIRE(static_cast<int64_t>(top.size()) == k);
    std::vector<int64_t> kept;
    for (const auto& rec : top) {
      if (rec.score == twin_score)
        kept.push_back(rec.movie_id);
    }
    for (std::size_t i = 0; i < kept.size(); ++i)
      CHECK(kept[i] == 20 + static_cast<int64_t>(i));
  }
}
