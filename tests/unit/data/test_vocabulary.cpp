// The vocabulary: fitted on training rows, OOV id, multi-valued widths, numeric
// normalisation, save/load.
#include "autoint_catch.h"

#include <numeric>

#include "autoint/data/vocabulary.h"
#include "autoint/error.h"
#include "autoint/movielens/features.h"
#include "test_support.h"
#include "tiny_movielens.h"

using namespace autoint::data;
using autoint::test::tiny;

TEST_CASE("vocabulary: fitted on training rows, 0 for unseen values", "[data][vocabulary]") {
  const auto raw = featurize(tiny(), 4.0);
  const auto vocab = Vocabulary::fit(raw, {0, 1});  // user 1 only
  CHECK(vocab.id(0, "1") == 1);
  CHECK(vocab.id(0, "2") == 0);  // user 2 is not in the training rows
  CHECK(vocab.id(1, "F") == 1);
  CHECK(vocab.id(1, "M") == 0);
  // movie ids "10" < "20" in sorted text order
  CHECK(vocab.id(5, "10") == 1);
  CHECK(vocab.id(5, "20") == 2);
  const auto cards = vocab.cardinalities();
  REQUIRE(cards.size() == kNumFields);
  CHECK(cards[0] == 2);  // OOV + user 1
  CHECK(cards[5] == 3);  // OOV + movies 10, 20
  const auto ids = vocab.encode(raw, {2, 0}).ids;
  REQUIRE(ids.sizes() == torch::IntArrayRef({2, kNumFields}));
  CHECK(ids[0][0].item<int64_t>() == 0);  // user 2 -> OOV
  CHECK(ids[1][0].item<int64_t>() == 1);
  CHECK(ids[0][5].item<int64_t>() == 0);  // movie 30 unseen
  CHECK(ids[1][5].item<int64_t>() == 1);
  const auto one = encode_row(vocab, raw_row(tiny().users[0], tiny().movies[1], 978307200));
  CHECK(one[0] == 1);
  CHECK(one[5] == 2);
  REQUIRE_THROWS_AS(vocab.id(13, "x"), std::out_of_range);
}

TEST_CASE("vocabulary save/load round trip and corrupt files", "[data][vocabulary]") {
  autoint::test::TempDir dir;
  const auto raw = featurize(tiny(), 4.0);
  const auto vocab = Vocabulary::fit(raw, {0, 1, 2, 3});
  const std::string path = (dir.path() / "vocabulary.txt").string();
  vocab.save(path);
  const auto back = Vocabulary::load(path);
  CHECK(back == vocab);
  CHECK(back.id(4, "55455-3424") == vocab.id(4, "55455-3424"));
  CHECK(torch::equal(back.encode(raw, {0, 1, 2, 3}).ids, vocab.encode(raw, {0, 1, 2, 3}).ids));

  autoint::test::write_file(dir.path() / "bad.txt", "autoint-vocabulary 3\n");
  REQUIRE_THROWS_WITH(Vocabulary::load((dir.path() / "bad.txt").string()),
                      Catch::Contains("bad.txt:1: expected the header"));
  autoint::test::write_file(dir.path() / "short.txt", "autoint-vocabulary 1\nfield user_id 3\n1\n");
  const std::vector<FieldSpec> version1{{"user_id", autoint::FieldKind::categorical}};
  REQUIRE_THROWS_WITH(Vocabulary::load((dir.path() / "short.txt").string(), version1),
                      Catch::Contains("short.txt:4: file ends early"));
  // A version-1 file has no field list: the caller must name the fields.
  REQUIRE_THROWS_WITH(Vocabulary::load((dir.path() / "short.txt").string()),
                      Catch::Contains("short.txt:1: a version-1 vocabulary has no field list"));
  autoint::test::write_file(dir.path() / "v1.txt", "autoint-vocabulary 1\nfield user_id 2\n7\n9\n");
  const auto v1 = Vocabulary::load((dir.path() / "v1.txt").string(), version1);
  CHECK((v1.fields() == version1));
  CHECK(v1.id(0, "9") == 2);
  REQUIRE_THROWS_AS(Vocabulary::load((dir.path() / "missing.txt").string()), autoint::RunError);
}

TEST_CASE("vocabulary of multi-valued and numeric fields", "[data][vocabulary]") {
  FeatureOptions options;
  options.feature_set = "paper";
  const auto raw = featurize(tiny(), options);      // rows: Toy Story, Heat, Metropolis, Toy Story
  const auto vocab = Vocabulary::fit(raw, {1, 2});  // Heat and Metropolis only
  CHECK_FALSE(is_seed_vocabulary(vocab));
  // genres seen in training: Action, Drama, Sci-Fi -> ids 1, 2, 3; width 2 (Metropolis).
  CHECK(vocab.id(4, "Action") == 1);
  CHECK(vocab.id(4, "Sci-Fi") == 3);
  CHECK(vocab.id(4, "Comedy") == 0);
  CHECK((vocab.widths() == std::vector<int64_t>{1, 1, 1, 1, 2, 1, 0}));
  CHECK((vocab.cardinalities() == std::vector<int64_t>{3, 3, 3, 3, 4, 3, 1}));
  CHECK_THROWS_AS(vocab.id(6, "1"), std::out_of_range);  // numeric: no ids
  const auto encoded = vocab.encode(raw, {0, 2, 3});
  REQUIRE(encoded.ids.sizes() == torch::IntArrayRef({3, 7}));
  REQUIRE(encoded.numeric.sizes() == torch::IntArrayRef({3, 1}));
  // Toy Story's four genres are unseen (0) and cut to width 2; Metropolis: Drama, Sci-Fi.
  CHECK(encoded.ids[0][4].item<int64_t>() == 0);
  CHECK(encoded.ids[0][5].item<int64_t>() == 0);
  CHECK(encoded.ids[1][4].item<int64_t>() == 2);
  CHECK(encoded.ids[1][5].item<int64_t>() == 3);
  // Standardised with the training rows' mean and (population) standard deviation.
  const double mean = (978307200.0 + 1046454590.0) / 2;
  const double std = (1046454590.0 - 978307200.0) / 2;
  CHECK(encoded.numeric[1][0].item<float>() == Approx((1046454590.0 - mean) / std));
  CHECK(encoded.numeric[2][0].item<float>() == Approx((956703932.0 - mean) / std));
  CHECK_THROWS_AS(vocab.encode(featurize(tiny(), 4.0), {0}), std::invalid_argument);
  CHECK_THROWS_AS(encode_row(vocab, raw_row(tiny().users[0], tiny().movies[0], 0)),
                  std::logic_error);

  autoint::test::TempDir dir;
  const std::string path = (dir.path() / "vocabulary.txt").string();
  vocab.save(path);
  const auto back = Vocabulary::load(path);
  CHECK(back == vocab);
  CHECK(torch::equal(back.encode(raw, {0, 1, 2, 3}).ids, vocab.encode(raw, {0, 1, 2, 3}).ids));
  CHECK(torch::equal(back.encode(raw, {0, 1, 2, 3}).numeric,
                     vocab.encode(raw, {0, 1, 2, 3}).numeric));
  autoint::test::write_file(dir.path() / "bad.txt",
                            "autoint-vocabulary 2\nfields 1\nfield timestamp numeric 5 0\n");
  CHECK_THROWS_WITH(
      Vocabulary::load((dir.path() / "bad.txt").string()),
      Catch::Contains("bad.txt:3: expected \"field timestamp numeric <mean> <std>\""));
  autoint::test::write_file(dir.path() / "kind.txt",
                            "autoint-vocabulary 2\nfields 1\nfield genres bag 2 2\n");
  CHECK_THROWS_WITH(Vocabulary::load((dir.path() / "kind.txt").string()),
                    Catch::Contains("kind.txt:3: expected field 1 of 1:"));
}

TEST_CASE("a multi-valued field is capped at max_width and the widest row is named",
          "[data][vocabulary]") {
  FeatureOptions options;
  options.feature_set = "paper";
  auto data = tiny();
  // One movie with 5,000 genres (as one malformed movies.dat line would give).
  for (int i = 0; i < 5000; ++i)
    data.movies[0].genres.push_back("g" + std::to_string(i));
  const auto raw = featurize(data, options);
  std::vector<int64_t> all(static_cast<std::size_t>(raw.rows()));
  std::iota(all.begin(), all.end(), 0);
  std::vector<std::string> notes;
  const auto vocab = Vocabulary::fit(raw, all, 32, &notes);
  CHECK(vocab.widths()[4] == 32);
  REQUIRE(notes.size() == 1);
  CHECK_THAT(notes[0], Catch::Contains("field genres has 500") &&
                           Catch::Contains("values in its widest row (user ") &&
                           Catch::Contains(", movie 10); each row keeps the first 32"));
  const auto encoded = vocab.encode(raw, all);
  CHECK(encoded.ids.size(1) == 4 + 32 + 1);
  // Under the cap nothing changes and nothing is noted.
  std::vector<std::string> none;
  CHECK(Vocabulary::fit(featurize(tiny(), options), {0, 1, 2, 3}, 32, &none).widths()[4] == 4);
  CHECK(none.empty());
}
