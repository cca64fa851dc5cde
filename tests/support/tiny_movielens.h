// A four-rating MovieLens data set for the feature and vocabulary tests.
#pragma once

#include "autoint/movielens/format.h"

namespace autoint::test {

inline data::MovieLens tiny() {
  data::MovieLens d;
  d.users = {{1, 'F', 1, 10, "48067"}, {2, 'M', 56, 16, "55455-3424"}};
  d.movies = {{10, "Toy Story (1995)", {"Animation", "Children's", "Comedy", "Fantasy"}, 1995},
              {20, "Heat (1995)", {"Action"}, 1995},
              {30, "Metropolis (1926)", {"Drama", "Sci-Fi"}, 1926}};
  // 978300760 = 2000-12-31 22:12:40 UTC; 978307200 = 2001-01-01 00:00:00 UTC.
  d.ratings = {
      {1, 10, 5, 978300760}, {1, 20, 3, 978307200}, {2, 30, 4, 1046454590}, {2, 10, 1, 956703932}};
  return d;
}

}  // namespace autoint::test
