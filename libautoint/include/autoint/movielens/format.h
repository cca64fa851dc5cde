// MovieLens-1M in memory: the three `::`-separated files, read strictly, and written back.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "autoint/data/fingerprint.h"

namespace autoint::data {

struct User {
  int64_t id = 0;
  char gender = 'M';       // 'M' or 'F'
  int64_t age = 0;         // age code: 1, 18, 25, 35, 45, 50, 56
  int64_t occupation = 0;  // 0..20
  std::string zipcode;     // as written, e.g. "55455-3424"
};

struct Movie {
  int64_t id = 0;
  std::string title;                // raw bytes as in the file (Latin-1 in ML-1M)
  std::vector<std::string> genres;  // in file order, e.g. {"Animation", "Children's"}
  int64_t year = 0;                 // the (YYYY) at the end of the title; 0 if absent
};

struct Rating {
  int64_t user_id = 0;
  int64_t movie_id = 0;
  int32_t rating = 0;     // 1..5
  int64_t timestamp = 0;  // unix seconds, UTC
};

struct MovieLens {
  std::vector<User> users;
  std::vector<Movie> movies;
  std::vector<Rating> ratings;
};

// Reads users.dat, movies.dat and ratings.dat from `dir`. Throws DataError naming
// the file, the 1-based line number, the offending text and what was expected for:
// a missing or unreadable file, a wrong field count, a non-numeric or out-of-range
// id/age/occupation/rating/timestamp, a gender other than M/F, a duplicate user or
// movie id, and a rating that names an unknown user or movie.
MovieLens read_movielens(const std::string& dir);

// The parsers behind read_movielens, one per file, on the file's whole content. `origin`
// names the content in messages (read_movielens passes the path). Same checks and
// DataError messages as read_movielens; parse_ratings checks ids against `users` and `movies`.
std::vector<User> parse_users(std::string_view content, const std::string& origin);
std::vector<Movie> parse_movies(std::string_view content, const std::string& origin);
std::vector<Rating> parse_ratings(std::string_view content, const std::string& origin,
                                  const std::vector<User>& users, const std::vector<Movie>& movies);

// Writes the three files in the ML-1M format (`::`-separated, '\n' line ends,
// titles written byte for byte). Creates `dir` if needed. Throws DataError on I/O failure.
void write_movielens(const MovieLens& data, const std::string& dir);

// The data fingerprint (data/fingerprint.h) of a MovieLens data set: the sizes and an FNV-1a
// 64-bit hash of every field of every user, movie and rating, in order (so it does not depend
// on the files' line endings or on whether the data came from files or the synthetic
// generator).
DataFingerprint fingerprint(const MovieLens& data);

// Converts Latin-1 bytes to UTF-8 (for display; the stored titles keep their bytes).
std::string latin1_to_utf8(const std::string& latin1);

}  // namespace autoint::data
