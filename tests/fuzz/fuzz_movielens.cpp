// libFuzzer target: the MovieLens .dat parsers (users, movies, ratings) on arbitrary bytes.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "autoint/error.h"
#include "autoint/movielens/format.h"

namespace {

// Splits the input at NUL bytes into users.dat, movies.dat and ratings.dat, so one input
// can reach the cross-file checks (ratings naming unknown users or movies); NUL cannot
// appear in a well-formed file anyway.
std::vector<std::string_view> split_parts(std::string_view input) {
  std::vector<std::string_view> parts;
  while (parts.size() < 2) {
    const size_t nul = input.find('\0');
    if (nul == std::string_view::npos) {
      break;
    }
    parts.push_back(input.substr(0, nul));
    input.remove_prefix(nul + 1);
  }
  parts.push_back(input);
  parts.resize(3);
  return parts;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace autoint::data;
  const auto parts = split_parts(std::string_view(reinterpret_cast<const char*>(data), size));
  MovieLens ml;
  // DataError is the parsers' documented answer to bad input; anything else (another
  // exception, a crash, UB, a leak) is a bug and ends the run.
  try {
    ml.users = parse_users(parts[0], "users.dat");
  } catch (const autoint::DataError&) {
  }
  try {
    ml.movies = parse_movies(parts[1], "movies.dat");
  } catch (const autoint::DataError&) {
  }
  try {
    ml.ratings = parse_ratings(parts[2], "ratings.dat", ml.users, ml.movies);
  } catch (const autoint::DataError&) {
  }
  for (const Movie& movie : ml.movies) {
    (void)latin1_to_utf8(movie.title);
  }
  return 0;
}
