// Checks on the real MovieLens-1M; ctest runs them (unit.ml1m) only when AUTOINT_ML1M_DIR
// names its directory, and reports a skip otherwise.
#include "autoint_catch.h"

#include <cstdlib>
#include <numeric>

#include "autoint/data/dataset.h"
#include "autoint/movielens/features.h"
#include "autoint/movielens/format.h"

using namespace autoint::data;

TEST_CASE("real ML-1M: counts, label share and field cardinalities", "[.][data][ml1m]") {
  // ctest runs this (unit.ml1m) only when AUTOINT_ML1M_DIR is set, else reports a skip.
  const char* dir = std::getenv("AUTOINT_ML1M_DIR");
  REQUIRE(dir != nullptr);
  REQUIRE(*dir != '\0');
  const MovieLens data = read_movielens(dir);
  CHECK(data.users.size() == 6040);
  CHECK(data.movies.size() == 3883);
  CHECK(data.ratings.size() == 1000209);
  const RawFeatures raw = featurize(data, 4.0);
  const double positives = std::accumulate(raw.labels.begin(), raw.labels.end(), 0.0);
  CHECK(positives / raw.rows() == Approx(0.575).margin(0.001));

  std::vector<int64_t> all(static_cast<std::size_t>(raw.rows()));
  std::iota(all.begin(), all.end(), 0);
  const auto cards = Vocabulary::fit(raw, all).cardinalities();
  // Distinct values per field over the rated movies, plus the out-of-vocabulary id. (Not the
  // peer's CARD, a benchmark shape: ML-1M's second and third genres take 17 and 15 genres plus
  // "none", and its release years 1919-2000 span 10 decades.)
  const std::vector<int64_t> distinct{6040, 2, 7, 21, 3439, 3706, 18, 18, 16, 81, 10, 4, 12};
  for (std::size_t f = 0; f < distinct.size(); ++f) {
    INFO(field_names()[f]);
    CHECK(cards[f] == distinct[f] + 1);
  }
}
