// The MovieLens feature sets: the 13 fields, the paper's 7, labels and dropped fields.
#include "autoint_catch.h"

#include <numeric>

#include "autoint/error.h"
#include "autoint/movielens/features.h"
#include "test_support.h"
#include "tiny_movielens.h"

using namespace autoint::data;
using autoint::FieldKind;
using autoint::test::tiny;

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

TEST_CASE("a MovieLens feature set of one's own: any fields over the joined columns",
          "[data][features]") {
  // The seed's set is a schema over the joined columns, with the table reader's derivations.
  const TableSchema seed = movielens_schema("seed");
  REQUIRE(seed.fields.size() == kNumFields);
  CHECK(seed.fields[7].source_column() == "Genres");
  CHECK(seed.fields[7].derive == "element");
  CHECK(seed.fields[7].index == 1);
  CHECK(seed.fields[12].derive == "utc_month");
  CHECK(seed.label == "Rating");

  TableSchema mine = seed;
  TableField title;
  title.name = "title";
  title.column = "Title";
  TableField age;
  age.name = "age_number";
  age.column = "Age";
  age.kind = FieldKind::numeric;
  TableField genre;
  genre.name = "genre_b";
  genre.column = "Genres";
  genre.derive = "element";
  genre.index = 1;
  mine.fields = {title, age, genre};
  const RawFeatures raw = featurize(tiny(), mine);
  REQUIRE(raw.rows() == 4);
  const auto text = [&](std::size_t r, std::size_t f) {
    return raw.values[f][static_cast<std::size_t>(raw.codes[r * 3 + f])];
  };
  CHECK(text(0, 0) == "Toy Story (1995)");
  CHECK(text(0, 2) == "Children's");
  CHECK(text(1, 2) == "none");  // Heat has one genre
  CHECK(raw.numeric == std::vector<double>{1, 1, 56, 56});
  CHECK(raw.labels == std::vector<float>{1, 0, 1, 0});

  TableSchema bad = mine;
  bad.fields[0].column = "Budget";
  CHECK_THROWS_WITH(featurize(tiny(), bad),
                    Catch::Contains("\"Budget\" is not a MovieLens column"));
  bad = mine;
  bad.fields[1].column = "Gender";
  CHECK_THROWS_WITH(featurize(tiny(), bad),
                    Catch::Contains("column Gender does not hold integers (numeric)"));
  bad = mine;
  bad.fields[0].derive = "decade";
  CHECK_THROWS_WITH(featurize(tiny(), bad),
                    Catch::Contains("column Title does not hold integers (derive decade)"));
}
