// The 13 fields, labels and the vocabulary (fit on training rows, OOV id, save/load).
#include "autoint_catch.h"

#include <numeric>

#include "autoint/data/features.h"
#include "autoint/error.h"
#include "test_support.h"

using namespace autoint::data;

namespace {

MovieLens tiny() {
  MovieLens d;
  d.users = {{1, 'F', 1, 10, "48067"}, {2, 'M', 56, 16, "55455-3424"}};
  d.movies = {{10, "Toy Story (1995)", {"Animation", "Children's", "Comedy", "Fantasy"}, 1995},
              {20, "Heat (1995)", {"Action"}, 1995},
              {30, "Metropolis (1926)", {"Drama", "Sci-Fi"}, 1926}};
  // 978300760 = 2000-12-31 22:12:40 UTC; 978307200 = 2001-01-01 00:00:00 UTC.
  d.ratings = {
      {1, 10, 5, 978300760}, {1, 20, 3, 978307200}, {2, 30, 4, 1046454590}, {2, 10, 1, 956703932}};
  return d;
}

}  // namespace

TEST_CASE("UTC year and month of timestamps", "[data][features]") {
  CHECK((utc_year_month(0) == std::pair<int64_t, int64_t>(1970, 1)));
  CHECK((utc_year_month(978307199) == std::pair<int64_t, int64_t>(2000, 12)));
  CHECK((utc_year_month(978307200) == std::pair<int64_t, int64_t>(2001, 1)));
  CHECK((utc_year_month(951782400) == std::pair<int64_t, int64_t>(2000, 2)));  // 2000-02-29
  CHECK((utc_year_month(1046454590) == std::pair<int64_t, int64_t>(2003, 2)));
}

TEST_CASE("raw rows follow seed-protocol.md's 13 fields", "[data][features]") {
  const auto d = tiny();
  const RawRow row = raw_row(d.users[1], d.movies[2], 1046454590);
  const RawRow expected{"2",      "M",    "56",   "16",   "55455-3424", "30", "Drama",
                        "Sci-Fi", "none", "1926", "1920", "2003",       "2"};
  CHECK(row == expected);
  CHECK(field_names()[0] == "user_id");
  CHECK(field_names()[12] == "rating_month");
  // Only the first three genres are used.
  CHECK(raw_row(d.users[0], d.movies[0], 0)[8] == "Comedy");
}

TEST_CASE("featurize labels rating >= threshold and keeps ids", "[data][features]") {
  const auto raw = featurize(tiny(), 4.0);
  REQUIRE(raw.rows() == 4);
  CHECK((raw.labels == std::vector<float>{1, 0, 1, 0}));
  CHECK((featurize(tiny(), 3.0).labels == std::vector<float>{1, 1, 1, 0}));
  CHECK((raw.user_ids == std::vector<int64_t>{1, 1, 2, 2}));
  CHECK((raw.movie_ids == std::vector<int64_t>{10, 20, 30, 10}));
  // Row 2's rating_year is 2003, row 1's rating_month is January.
  CHECK(raw.values[11][raw.codes[2 * kNumFields + 11]] == "2003");
  CHECK(raw.values[12][raw.codes[1 * kNumFields + 12]] == "1");
}

TEST_CASE("vocabulary: fitted on training rows, 0 for unseen values", "[data][features]") {
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

TEST_CASE("vocabulary save/load round trip and corrupt files", "[data][features]") {
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
  REQUIRE_THROWS_WITH(Vocabulary::load((dir.path() / "short.txt").string()),
                      Catch::Contains("short.txt:4: file ends early"));
  REQUIRE_THROWS_AS(Vocabulary::load((dir.path() / "missing.txt").string()), autoint::RunError);
}

TEST_CASE("the paper's feature set: 7 fields, rating 3 dropped", "[data][features]") {
  FeatureOptions options;
  options.feature_set = "paper";
  options.label_threshold = 4;
  options.drop_ratings = {3};
  const auto raw = featurize(tiny(), options);
  std::vector<std::string> names;
  for (const auto& f : raw.fields)
    names.push_back(f.name);
  CHECK((names == std::vector<std::string>{"gender", "age", "occupation", "zipcode", "genres",
                                           "release_decade", "timestamp"}));
  CHECK(raw.fields[4].kind == autoint::FieldKind::multi_categorical);
  CHECK(raw.fields[6].kind == autoint::FieldKind::numeric);
  REQUIRE(raw.rows() == 3);  // the rating 3 row (user 1, movie 20) is gone
  CHECK((raw.movie_ids == std::vector<int64_t>{10, 30, 10}));
  CHECK((raw.labels == std::vector<float>{1, 1, 0}));
  CHECK((raw.numeric == std::vector<double>{978300760, 1046454590, 956703932}));
  const auto text = [&](int64_t row, int64_t field) {
    return raw.values[field][raw.codes[row * 7 + field]];
  };
  CHECK(text(0, 4) == "Animation|Children's|Comedy|Fantasy");  // every genre, not three
  CHECK(text(1, 4) == "Drama|Sci-Fi");
  CHECK(text(1, 5) == "1920");
  CHECK(text(1, 3) == "55455-3424");
  CHECK(feature_set_fields("paper").size() == 7);
  CHECK(feature_set_fields("seed").size() == kNumFields);
  CHECK_THROWS_AS(feature_set_fields("criteo"), std::invalid_argument);
}

TEST_CASE("dropping fields, and what may not be dropped", "[data][features]") {
  FeatureOptions options;
  options.feature_set = "paper";
  options.drop_fields = {"timestamp", "zipcode"};
  const auto raw = featurize(tiny(), options);
  REQUIRE(raw.fields.size() == 5);
  CHECK(raw.numeric_fields() == 0);
  CHECK(raw.numeric.empty());
  options.drop_fields = {"user_id"};
  CHECK_THROWS_WITH(featurize(tiny(), options),
                    Catch::Contains("\"user_id\" is not a field of the paper feature set") &&
                        Catch::Contains("gender, age"));
  options.drop_fields = {"gender",         "age",      "occupation", "zipcode", "genres",
                         "release_decade", "timestamp"};
  CHECK_THROWS_WITH(featurize(tiny(), options), Catch::Contains("every field"));
}

TEST_CASE("vocabulary of multi-valued and numeric fields", "[data][features]") {
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
          "[data][features]") {
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
