// Aggregate figures of a MovieLens-shaped data set (the exploratory data analysis):
// counts, distributions, long tails, genres, demographics and ratings over time.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "autoint/movielens/format.h"

namespace autoint::data {

// min / median / mean / max of a list of counts (all 0 for an empty list).
struct CountSummary {
  int64_t min = 0;
  double median = 0.0;  // the mean of the two middle values for an even count
  double mean = 0.0;
  int64_t max = 0;
};

// Items whose count lies in [lo, hi].
struct HistogramBin {
  int64_t lo = 0;
  int64_t hi = 0;
  int64_t items = 0;
};

// Users of one gender, age group or occupation, and the ratings they made.
struct GroupCount {
  std::string code;  // as in users.dat: "F", "25", "12"
  std::string name;  // "female", "25-34", "programmer"
  int64_t users = 0;
  int64_t ratings = 0;
  int64_t positives = 0;  // ratings >= the label threshold
};

// A movie counts once per genre it has; a rating counts once per genre of its movie.
struct GenreCount {
  std::string genre;
  int64_t movies = 0;
  int64_t ratings = 0;
  int64_t positives = 0;
};

struct MonthCount {
  int64_t year = 0;
  int64_t month = 0;  // 1-12, UTC
  int64_t ratings = 0;
};

struct YearCount {
  int64_t year = 0;  // UTC
  int64_t ratings = 0;
  int64_t positives = 0;
};

struct DatasetStats {
  double label_threshold = 4.0;

  int64_t users = 0;
  int64_t movies = 0;        // in movies.dat
  int64_t rated_movies = 0;  // with at least one rating
  int64_t ratings = 0;
  double sparsity = 0.0;  // 1 - ratings / (users * rated_movies); 1 when that product is 0
  double mean_rating = 0.0;

  std::array<int64_t, 5> rating_counts{};  // [r - 1] = ratings with value r

  // Per user over all users; per movie over rated movies only (movies.dat also lists
  // movies nobody rated, which would only pile up at 0).
  CountSummary ratings_per_user;
  CountSummary ratings_per_movie;
  // Log-spaced bins [2^k, 2^(k+1) - 1] from the bin of the minimum to that of the
  // maximum (plus a [0, 0] bin first when some count is 0); empty bins are kept.
  std::vector<HistogramBin> user_histogram;
  std::vector<HistogramBin> movie_histogram;
  // Ratings of each rated movie, most-rated first (the long tail, by rank).
  std::vector<int64_t> movie_counts_by_rank;

  std::vector<GenreCount> genres;  // most movies first, ties by name

  // In code order; every code the ML-1M README defines is listed (possibly with 0
  // users), then any other code found, ascending.
  std::vector<GroupCount> genders;
  std::vector<GroupCount> age_groups;
  std::vector<GroupCount> occupations;

  // Every month from the first to the last rating's, months without ratings included.
  std::vector<MonthCount> ratings_per_month;
  std::vector<YearCount> ratings_per_year;  // years with ratings only

  int64_t positives = 0;  // ratings >= label_threshold
  double positive_share = 0.0;
};

// Computes every aggregate. Throws DataError for a rating outside 1..5 or one that
// names a user or movie not in the data set.
DatasetStats compute_stats(const MovieLens& data, double label_threshold = 4.0);

// Share of all ratings that go to the `fraction` most-rated of the rated movies (at
// least one movie, rounded up); 0 when there are no ratings.
double top_movies_rating_share(const DatasetStats& stats, double fraction);

}  // namespace autoint::data
