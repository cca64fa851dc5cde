// Checks on the real MovieLens-1M; runs only when AUTOINT_ML1M_DIR names its directory.
#include "autoint_catch.h"

#include <cstdlib>
#include <numeric>

#include "autoint/data/dataset.h"
#include "autoint/data/features.h"
#include "autoint/data/movielens.h"

using namespace autoint::data;

TEST_CASE("real ML-1M: counts, label share and field cardinalities", "[data][ml1m]") {
  const char* dir = std::getenv("AUTOINT_ML1M_DIR");
  if (dir == nullptr || *dir == '\0') {
    WARN("skipped: set AUTOINT_ML1M_DIR to the ml-1m directory to run this test");
    return;
  }
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
  // Distinct values per field (the peer's CARD) plus the out-of-vocabulary id.
  const std::vector<int64_t> distinct{6040, 2, 7, 21, 3439, 3706, 18, 19, 19, 81, 9, 4, 12};
  for (std::size_t f = 0; f < distinct.size(); ++f) {
    INFO(field_names()[f]);
    CHECK(cards[f] == distinct[f] + 1);
  }
}
