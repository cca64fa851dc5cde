// Seeded generator of MovieLens-1M-shaped data with planted, learnable rating structure
// (for tests, demos and benchmarks without the real files).
#include "autoint/movielens/synthetic.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <unordered_set>
#include <vector>

#include <fmt/format.h>

#include "autoint/movielens/demographics.h"

namespace autoint::data {
namespace {

// The standard distributions are implementation-defined, so the same seed would give
// different data under libstdc++ and libc++; only the engine's raw bits are portable.
class Random {
 public:
  explicit Random(uint64_t seed) : engine_(seed) {}

  // Uniform in [0, 1).
  double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }

  // Uniform in (0, 1): safe to take the log of.
  double uniform_open() { return (static_cast<double>(engine_() >> 11) + 0.5) * 0x1.0p-53; }

  // Uniform integer in [0, n), unbiased by rejecting the short last block.
  uint64_t below(uint64_t n) {
    const uint64_t threshold = (0 - n) % n;
    for (;;) {
      const uint64_t r = engine_();
      if (r >= threshold) {
        return r % n;
      }
    }
  }

  // Uniform integer in [lo, hi].
  int64_t between(int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(below(static_cast<uint64_t>(hi - lo) + 1));
  }

  bool chance(double p) { return uniform() < p; }

  // Standard normal by Box-Muller; the second value of each pair is kept for the next call.
  double normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    constexpr double kTwoPi = 6.283185307179586476925286766559;
    const double radius = std::sqrt(-2.0 * std::log(uniform_open()));
    const double angle = kTwoPi * uniform();
    spare_ = radius * std::sin(angle);
    has_spare_ = true;
    return radius * std::cos(angle);
  }

  // Index drawn with probability proportional to the increments of `cumulative`.
  size_t pick(const std::vector<double>& cumulative) {
    const double x = uniform() * cumulative.back();
    const auto it = std::upper_bound(cumulative.begin(), cumulative.end(), x);
    return std::min(static_cast<size_t>(it - cumulative.begin()), cumulative.size() - 1);
  }

 private:
  std::mt19937_64 engine_;
  bool has_spare_ = false;
  double spare_ = 0.0;
};

// Independent streams per stage keep e.g. the users unchanged when only `ratings` changes.
uint64_t stream_seed(uint64_t seed, uint64_t stream) {
  uint64_t z = seed + 0x9E3779B97F4A7C15ULL * (stream + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

template <size_t N>
std::vector<double> cumulative_of(const std::array<double, N>& weights) {
  std::vector<double> cumulative(N);
  double sum = 0.0;
  for (size_t i = 0; i < N; ++i) {
    sum += weights[i];
    cumulative[i] = sum;
  }
  return cumulative;
}

// ML-1M value domains, with the marginal frequencies of the real data so that the
// vocabularies and embedding tables look like the real ones.
constexpr std::array<double, kAgeCodes.size()> kAgeWeights = {222, 1103, 2096, 1193, 550, 496, 380};
constexpr std::array<double, kNumOccupations> kOccupationWeights = {
    711, 528, 267, 173, 759, 112, 236, 679, 17, 92, 195,
    129, 388, 142, 302, 144, 241, 502, 70,  72, 281};
constexpr double kMaleShare = 0.717;

constexpr int kGenres = 18;
const std::array<const char*, kGenres> kGenreNames = {
    "Action",      "Adventure", "Animation", "Children's", "Comedy", "Crime",
    "Documentary", "Drama",     "Fantasy",   "Film-Noir",  "Horror", "Musical",
    "Mystery",     "Romance",   "Sci-Fi",    "Thriller",   "War",    "Western"};
constexpr std::array<double, kGenres> kGenreWeights = {
    503, 283, 105, 251, 1200, 211, 127, 1603, 68, 44, 343, 114, 106, 471, 276, 492, 143, 68};

constexpr int64_t kFirstYear = 1919;
constexpr int64_t kLastYear = 2000;
constexpr int64_t kStart2000 = 946684800;  // 2000-01-01T00:00:00Z
constexpr int64_t kStart2001 = 978307200;  // 2001-01-01T00:00:00Z
constexpr int64_t kEnd = 1046476799;       // 2003-02-28T23:59:59Z
constexpr double kShareIn2000 = 0.9;       // ML-1M: 90% of the ratings are from 2000

// The planted rating model: rating = clip(round(kCenter + z)), where z sums the terms
// below. The scales put about 57% of the ratings at >= 4 (as ML-1M), with the
// user/movie-determined part clearly larger than the noise so that the label is learnable.
constexpr int kFactors = 8;
constexpr double kFactorScale = 0.42;           // per dimension, users and movies alike
constexpr double kGroupAffinityScale = 0.45;    // per (gender, age) group and genre
constexpr double kPersonalAffinityScale = 0.3;  // per user and genre, on top of the group's
constexpr double kUserBiasScale = 0.35;
constexpr double kMovieBiasScale = 0.45;
constexpr double kNoiseScale = 0.5;
constexpr double kCenter = 3.62;

// Popularity ~ 1 / (rank + offset)^exponent gives ML-1M-like long tails.
constexpr double kPopularityExponent = 0.95;
constexpr double kPopularityOffset = 15.0;
constexpr double kActivitySigma = 1.0;  // log-normal spread of ratings per user
// Clipping the log-normal keeps the heaviest user near ML-1M's (~14x the mean).
constexpr double kActivityClip = 2.8;

void validate(const SyntheticOptions& o) {
  if (o.users < 1) {
    throw std::invalid_argument(
        fmt::format("SyntheticOptions.users must be >= 1, got {}", o.users));
  }
  if (o.movies < 1) {
    throw std::invalid_argument(
        fmt::format("SyntheticOptions.movies must be >= 1, got {}", o.movies));
  }
  if (o.ratings < 1) {
    throw std::invalid_argument(
        fmt::format("SyntheticOptions.ratings must be >= 1, got {}", o.ratings));
  }
  // Divides instead of multiplying so that huge users x movies cannot overflow.
  const bool product_fits = o.users <= std::numeric_limits<int64_t>::max() / o.movies;
  if (product_fits && o.ratings > o.users * o.movies) {
    throw std::invalid_argument(
        fmt::format("SyntheticOptions.ratings must be <= users x movies = {} x {} = {}, got {}",
                    o.users, o.movies, o.users * o.movies, o.ratings));
  }
}

std::vector<std::string> make_zip_pool(Random& rng, int64_t users) {
  constexpr int64_t kZipCodes = 100000;
  const int64_t size = std::min(kZipCodes, std::max<int64_t>(1, users / 3));
  std::vector<std::string> pool;
  pool.reserve(static_cast<size_t>(size));
  std::unordered_set<int64_t> used;
  while (static_cast<int64_t>(pool.size()) < size) {
    const int64_t code = rng.between(0, kZipCodes - 1);
    if (used.insert(code).second) {
      pool.push_back(fmt::format("{:05d}", code));
    }
  }
  return pool;
}

std::vector<User> make_users(Random& rng, int64_t count) {
  const std::vector<std::string> zips = make_zip_pool(rng, count);
  const auto ages = cumulative_of(kAgeWeights);
  const auto occupations = cumulative_of(kOccupationWeights);
  std::vector<User> users(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) {
    User& u = users[static_cast<size_t>(i)];
    u.id = i + 1;
    u.gender = rng.chance(kMaleShare) ? 'M' : 'F';
    u.age = kAgeCodes[rng.pick(ages)];
    u.occupation = static_cast<int64_t>(rng.pick(occupations));
    u.zipcode = zips[rng.below(zips.size())];
  }
  return users;
}

std::vector<Movie> make_movies(Random& rng, int64_t count, std::vector<std::vector<int>>& genres) {
  const auto genre_cdf = cumulative_of(kGenreWeights);
  std::vector<Movie> movies(static_cast<size_t>(count));
  genres.assign(static_cast<size_t>(count), {});
  for (int64_t i = 0; i < count; ++i) {
    Movie& m = movies[static_cast<size_t>(i)];
    m.id = i + 1;
    // Release years skew recent, as in ML-1M (mostly the 1990s).
    int64_t year =
        kLastYear - static_cast<int64_t>(std::floor(-std::log(rng.uniform_open()) * 11.0));
    if (year < kFirstYear) {
      year = rng.between(kFirstYear, kLastYear);
    }
    m.year = year;
    m.title = fmt::format("Synthetic Movie {} ({})", m.id, year);
    const double p = rng.uniform();
    const int n_genres = p < 0.5 ? 1 : (p < 0.85 ? 2 : 3);
    std::vector<int>& g = genres[static_cast<size_t>(i)];
    while (static_cast<int>(g.size()) < n_genres) {
      const int pick = static_cast<int>(rng.pick(genre_cdf));
      if (std::find(g.begin(), g.end(), pick) == g.end()) {
        g.push_back(pick);
      }
    }
    // ML-1M lists a movie's genres alphabetically, which is the order of kGenreNames.
    std::sort(g.begin(), g.end());
    for (const int k : g) {
      m.genres.emplace_back(kGenreNames[static_cast<size_t>(k)]);
    }
  }
  return movies;
}

// Splits `total` ratings over users in proportion to `weights`, at most `movies` each and
// at least one each when there are enough ratings: water-filling by bisection on the
// scale, then largest remainders for the last few.
std::vector<int64_t> allocate_counts(const std::vector<double>& weights, int64_t total,
                                     int64_t movies) {
  const size_t users = weights.size();
  const int64_t base = total >= static_cast<int64_t>(users) ? 1 : 0;
  const int64_t cap = movies - base;
  const int64_t rest = total - base * static_cast<int64_t>(users);
  std::vector<int64_t> counts(users, base);
  if (rest == 0) {
    return counts;
  }
  const auto filled = [&](double scale) {
    double sum = 0.0;
    for (const double w : weights) {
      sum += std::min(static_cast<double>(cap), scale * w);
    }
    return sum;
  };
  const double min_weight = *std::min_element(weights.begin(), weights.end());
  double lo = 0.0;
  double hi = static_cast<double>(cap) / min_weight;
  for (int i = 0; i < 200 && lo < hi; ++i) {
    const double mid = 0.5 * (lo + hi);
    if (mid <= lo || mid >= hi) {
      break;
    }
    (filled(mid) <= static_cast<double>(rest) ? lo : hi) = mid;
  }
  std::vector<double> remainder(users);
  int64_t assigned = 0;
  for (size_t u = 0; u < users; ++u) {
    const double share = std::min(static_cast<double>(cap), lo * weights[u]);
    const auto whole = std::min(cap, static_cast<int64_t>(std::floor(share)));
    counts[u] += whole;
    remainder[u] = share - static_cast<double>(whole);
    assigned += whole;
  }
  std::vector<size_t> order(users);
  for (size_t u = 0; u < users; ++u) {
    order[u] = u;
  }
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return remainder[a] != remainder[b] ? remainder[a] > remainder[b] : a < b;
  });
  int64_t left = rest - assigned;
  while (left > 0) {
    for (const size_t u : order) {
      if (left == 0) {
        break;
      }
      if (counts[u] < movies) {
        ++counts[u];
        --left;
      }
    }
  }
  return counts;
}

// Chooses `n` distinct movies with probability skewed by popularity. Sparse choices
// use rejection on a popularity CDF; dense ones (where rejection would stall on the
// exhausted popular movies) use Efraimidis-Spirakis keys over all movies.
void choose_movies(Random& rng, int64_t n, const std::vector<double>& popularity,
                   const std::vector<double>& cdf, std::vector<int64_t>& stamp, int64_t user,
                   std::vector<size_t>& chosen, std::vector<std::pair<double, size_t>>& keys) {
  const size_t movies = popularity.size();
  chosen.clear();
  if (static_cast<size_t>(n) * 8 <= movies) {
    while (static_cast<int64_t>(chosen.size()) < n) {
      const size_t m = rng.pick(cdf);
      if (stamp[m] != user) {
        stamp[m] = user;
        chosen.push_back(m);
      }
    }
  } else {
    keys.resize(movies);
    for (size_t m = 0; m < movies; ++m) {
      keys[m] = {-std::log(rng.uniform_open()) / popularity[m], m};
    }
    const auto nth = keys.begin() + n;
    if (nth != keys.end()) {
      std::nth_element(keys.begin(), nth, keys.end());
    }
    for (auto it = keys.begin(); it != nth; ++it) {
      chosen.push_back(it->second);
    }
  }
  std::sort(chosen.begin(), chosen.end());
}

// Each user rates in a few sessions: a start time (mostly in 2000) plus log-normal gaps.
int64_t rating_time(Random& rng, int64_t start, double spread) {
  const auto offset = static_cast<int64_t>(-std::log(rng.uniform_open()) * spread);
  const int64_t span = kEnd - start + 1;
  return start + offset % span;
}

}  // namespace

MovieLens generate_synthetic(const SyntheticOptions& options) {
  validate(options);
  const auto n_users = static_cast<size_t>(options.users);
  const auto n_movies = static_cast<size_t>(options.movies);

  MovieLens data;
  Random user_rng(stream_seed(options.seed, 0));
  data.users = make_users(user_rng, options.users);
  Random movie_rng(stream_seed(options.seed, 1));
  std::vector<std::vector<int>> movie_genres;
  data.movies = make_movies(movie_rng, options.movies, movie_genres);

  // Planted structure.
  Random latent_rng(stream_seed(options.seed, 2));
  std::vector<double> user_factors(n_users * kFactors);
  for (double& x : user_factors) {
    x = kFactorScale * latent_rng.normal();
  }
  std::vector<double> movie_factors(n_movies * kFactors);
  for (double& x : movie_factors) {
    x = kFactorScale * latent_rng.normal();
  }
  // Genre tastes shared by users of the same gender and age code, so that those two
  // fields carry signal of their own.
  std::array<std::array<double, kGenres>, 2 * kAgeCodes.size()> group_affinity{};
  for (auto& row : group_affinity) {
    for (double& x : row) {
      x = kGroupAffinityScale * latent_rng.normal();
    }
  }
  std::vector<double> affinity(n_users * kGenres);
  std::vector<double> user_bias(n_users);
  for (size_t u = 0; u < n_users; ++u) {
    const User& user = data.users[u];
    const size_t age_index = static_cast<size_t>(
        std::find(kAgeCodes.begin(), kAgeCodes.end(), user.age) - kAgeCodes.begin());
    const auto& group = group_affinity[(user.gender == 'M' ? 0 : kAgeCodes.size()) + age_index];
    for (int g = 0; g < kGenres; ++g) {
      affinity[u * kGenres + static_cast<size_t>(g)] =
          group[static_cast<size_t>(g)] + kPersonalAffinityScale * latent_rng.normal();
    }
    user_bias[u] = kUserBiasScale * latent_rng.normal();
  }
  std::vector<double> movie_bias(n_movies);
  for (double& b : movie_bias) {
    b = kMovieBiasScale * latent_rng.normal();
  }

  // Who rates what: Zipf-like movie popularity over a random ranking, log-normal activity.
  Random select_rng(stream_seed(options.seed, 3));
  std::vector<size_t> rank(n_movies);
  for (size_t m = 0; m < n_movies; ++m) {
    rank[m] = m;
  }
  for (size_t m = n_movies; m > 1; --m) {
    std::swap(rank[m - 1], rank[select_rng.below(m)]);
  }
  std::vector<double> popularity(n_movies);
  std::vector<double> cdf(n_movies);
  double total_popularity = 0.0;
  for (size_t m = 0; m < n_movies; ++m) {
    popularity[m] =
        std::pow(static_cast<double>(rank[m]) + kPopularityOffset, -kPopularityExponent);
    total_popularity += popularity[m];
    cdf[m] = total_popularity;
  }
  std::vector<double> activity(n_users);
  for (double& a : activity) {
    a = std::exp(kActivitySigma * std::clamp(select_rng.normal(), -kActivityClip, kActivityClip));
  }
  const std::vector<int64_t> counts = allocate_counts(activity, options.ratings, options.movies);

  Random rating_rng(stream_seed(options.seed, 4));
  data.ratings.reserve(static_cast<size_t>(options.ratings));
  std::vector<int64_t> stamp(n_movies, -1);
  std::vector<size_t> chosen;
  std::vector<std::pair<double, size_t>> keys;
  for (size_t u = 0; u < n_users; ++u) {
    if (counts[u] == 0) {
      continue;
    }
    choose_movies(select_rng, counts[u], popularity, cdf, stamp, static_cast<int64_t>(u), chosen,
                  keys);
    const int64_t start = rating_rng.chance(kShareIn2000)
                              ? rating_rng.between(kStart2000, kStart2001 - 1)
                              : rating_rng.between(kStart2001, kEnd);
    // Median gap of a day, but some users keep rating for months.
    const double spread = 86400.0 * std::exp(1.5 * rating_rng.normal());
    const double* pu = &user_factors[u * kFactors];
    const double* au = &affinity[u * kGenres];
    for (const size_t m : chosen) {
      const double* qm = &movie_factors[m * kFactors];
      double z = user_bias[u] + movie_bias[m];
      for (int k = 0; k < kFactors; ++k) {
        z += pu[k] * qm[k];
      }
      const auto& genres = movie_genres[m];
      double taste = 0.0;
      for (const int g : genres) {
        taste += au[g];
      }
      z += taste / static_cast<double>(genres.size());
      z += kNoiseScale * rating_rng.normal();
      const double rounded = std::floor(kCenter + z + 0.5);
      Rating r;
      r.user_id = data.users[u].id;
      r.movie_id = data.movies[m].id;
      r.rating = static_cast<int32_t>(std::clamp(rounded, 1.0, 5.0));
      r.timestamp = rating_time(rating_rng, start, spread);
      data.ratings.push_back(r);
    }
  }
  return data;
}

}  // namespace autoint::data
