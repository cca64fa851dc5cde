// What a run was trained on, recorded in its manifest so that evaluating or recommending with
// other data is noticed: sizes and a hash of the content (movielens/format.h and
// data/table/reader.h compute one for their kind of data).
#pragma once

#include <cstdint>
#include <string>

namespace autoint::data {

struct DataFingerprint {
  int64_t users = 0;
  int64_t movies = 0;
  int64_t ratings = 0;
  std::string fnv1a64;  // 16 hex digits
  bool operator==(const DataFingerprint& other) const {
    return users == other.users && movies == other.movies && ratings == other.ratings &&
           fnv1a64 == other.fnv1a64;
  }
  bool operator!=(const DataFingerprint& other) const { return !(*this == other); }
  // "6040 users, 3706 movies, 1000209 ratings, fnv1a64 0123456789abcdef"
  std::string str() const {
    return std::to_string(users) + " users, " + std::to_string(movies) + " movies, " +
           std::to_string(ratings) + " ratings, fnv1a64 " + fnv1a64;
  }
};

}  // namespace autoint::data
