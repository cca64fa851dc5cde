// A seeded generator of MovieLens-1M-shaped data with structure a model can learn.
#pragma once

#include <cstdint>

#include "autoint/movielens/format.h"

namespace autoint::data {

struct SyntheticOptions {
  int64_t users = 1000;
  int64_t movies = 400;
  int64_t ratings = 100000;  // total rating rows; each (user, movie) pair at most once
  uint64_t seed = 42;
};

// Generates users, movies and ratings in the ML-1M value domains (age codes, 21
// occupations, the 18 ML-1M genres, titles ending in "(YYYY)", timestamps in
// 2000-2003). Ratings come from planted structure: latent user and movie factors,
// per-user genre affinities, user and movie biases and noise, so that
// rating >= 4 is predictable from the 13 fields. Deterministic for a given
// options value. Throws std::invalid_argument (naming the option) if
// users or movies < 1, ratings < 1, or ratings > users * movies.
MovieLens generate_synthetic(const SyntheticOptions& options);

}  // namespace autoint::data
