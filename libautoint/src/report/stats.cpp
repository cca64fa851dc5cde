// The exploratory figures of a data set in one pass over its ratings (plus the users and
// movies), so that the report for a million ratings takes well under a second.
#include "autoint/report/stats.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <set>
#include <unordered_map>
#include <utility>

#include <fmt/format.h>

#include "autoint/error.h"
#include "autoint/movielens/demographics.h"
#include "autoint/movielens/features.h"

namespace autoint::data {
namespace {

CountSummary summarize(std::vector<int64_t> counts) {
  CountSummary s;
  if (counts.empty())
    return s;
  std::sort(counts.begin(), counts.end());
  const size_t n = counts.size();
  s.min = counts.front();
  s.max = counts.back();
  s.median = n % 2 == 1 ? static_cast<double>(counts[n / 2])
                        : (static_cast<double>(counts[n / 2 - 1]) + counts[n / 2]) / 2.0;
  double sum = 0.0;
  for (const int64_t c : counts)
    sum += static_cast<double>(c);
  s.mean = sum / static_cast<double>(n);
  return s;
}

// Index k of the bin [2^k, 2^(k+1) - 1] holding count >= 1.
int bin_of(int64_t count) {
  int k = 0;
  while (count > 1) {
    count >>= 1;
    ++k;
  }
  return k;
}

std::vector<HistogramBin> log_histogram(const std::vector<int64_t>& counts) {
  std::vector<HistogramBin> bins;
  if (counts.empty())
    return bins;
  const auto [min_it, max_it] = std::minmax_element(counts.begin(), counts.end());
  if (*min_it == 0)
    bins.push_back({0, 0, 0});
  if (*max_it >= 1) {
    const int first = bin_of(std::max<int64_t>(*min_it, 1));
    const int last = bin_of(*max_it);
    for (int k = first; k <= last; ++k)
      bins.push_back({int64_t{1} << k, (int64_t{1} << (k + 1)) - 1, 0});
  }
  for (const int64_t c : counts) {
    const auto it = std::find_if(bins.begin(), bins.end(),
                                 [c](const HistogramBin& b) { return c >= b.lo && c <= b.hi; });
    ++it->items;
  }
  return bins;
}

// Groups in the order the README defines their codes, then unexpected codes ascending.
template <typename Code>
std::vector<GroupCount> group_list(const std::vector<Code>& known, const std::set<Code>& seen,
                                   const std::function<std::string(Code)>& code_text,
                                   const std::function<std::string(Code)>& name) {
  std::vector<GroupCount> groups;
  for (const Code c : known)
    groups.push_back({code_text(c), name(c), 0, 0, 0});
  for (const Code c : seen) {
    if (std::find(known.begin(), known.end(), c) == known.end())
      groups.push_back({code_text(c), name(c), 0, 0, 0});
  }
  return groups;
}

GroupCount& find_group(std::vector<GroupCount>& groups, const std::string& code) {
  return *std::find_if(groups.begin(), groups.end(),
                       [&](const GroupCount& g) { return g.code == code; });
}

}  // namespace

DatasetStats compute_stats(const MovieLens& data, double label_threshold) {
  DatasetStats s;
  s.label_threshold = label_threshold;
  s.users = static_cast<int64_t>(data.users.size());
  s.movies = static_cast<int64_t>(data.movies.size());
  s.ratings = static_cast<int64_t>(data.ratings.size());

  // Demographic groups: every README code, plus whatever else the users carry.
  std::set<char> genders;
  std::set<int64_t> ages;
  std::set<int64_t> occupations;
  for (const User& u : data.users) {
    genders.insert(u.gender);
    ages.insert(u.age);
    occupations.insert(u.occupation);
  }
  std::vector<int64_t> occupation_codes(kNumOccupations);
  for (int64_t c = 0; c < kNumOccupations; ++c)
    occupation_codes[static_cast<size_t>(c)] = c;
  const std::function<std::string(int64_t)> int_text = [](int64_t c) { return std::to_string(c); };
  s.genders = group_list<char>(
      {'F', 'M'}, genders, [](char c) { return std::string(1, c); }, gender_name);
  s.age_groups = group_list<int64_t>(age_group_codes(), ages, int_text, age_group_name);
  s.occupations = group_list<int64_t>(occupation_codes, occupations, int_text, occupation_name);

  // Per user: pointers to its three groups, so the rating loop does no lookups by name.
  struct UserGroups {
    GroupCount* gender;
    GroupCount* age;
    GroupCount* occupation;
  };
  std::unordered_map<int64_t, size_t> user_index;
  std::vector<UserGroups> user_groups;
  user_groups.reserve(data.users.size());
  for (size_t i = 0; i < data.users.size(); ++i) {
    const User& u = data.users[i];
    user_index.emplace(u.id, i);
    UserGroups g{&find_group(s.genders, std::string(1, u.gender)),
                 &find_group(s.age_groups, std::to_string(u.age)),
                 &find_group(s.occupations, std::to_string(u.occupation))};
    ++g.gender->users;
    ++g.age->users;
    ++g.occupation->users;
    user_groups.push_back(g);
  }

  // Genres: distinct per movie, so a genre listed twice still counts once.
  std::map<std::string, GenreCount> genre_map;
  std::unordered_map<int64_t, size_t> movie_index;
  std::vector<std::vector<GenreCount*>> movie_genres(data.movies.size());
  for (size_t i = 0; i < data.movies.size(); ++i) {
    const Movie& m = data.movies[i];
    movie_index.emplace(m.id, i);
    std::set<std::string> distinct(m.genres.begin(), m.genres.end());
    for (const std::string& genre : distinct) {
      GenreCount& g = genre_map[genre];
      g.genre = genre;
      ++g.movies;
      movie_genres[i].push_back(&g);  // std::map nodes never move
    }
  }

  std::vector<int64_t> per_user(data.users.size(), 0);
  std::vector<int64_t> per_movie(data.movies.size(), 0);
  std::map<std::pair<int64_t, int64_t>, int64_t> per_month;
  std::map<int64_t, YearCount> per_year;
  double rating_sum = 0.0;
  for (const Rating& r : data.ratings) {
    const auto u = user_index.find(r.user_id);
    const auto m = movie_index.find(r.movie_id);
    if (u == user_index.end() || m == movie_index.end() || r.rating < 1 || r.rating > 5) {
      throw DataError(fmt::format(
          "compute_stats: rating (user {}, movie {}, rating {}) expected a known user, a known "
          "movie and a rating in 1..5",
          r.user_id, r.movie_id, r.rating));
    }
    const bool positive = r.rating >= label_threshold;
    ++s.rating_counts[static_cast<size_t>(r.rating - 1)];
    rating_sum += r.rating;
    s.positives += positive;
    ++per_user[u->second];
    ++per_movie[m->second];
    for (GroupCount* g : {user_groups[u->second].gender, user_groups[u->second].age,
                          user_groups[u->second].occupation}) {
      ++g->ratings;
      g->positives += positive;
    }
    for (GenreCount* g : movie_genres[m->second]) {
      ++g->ratings;
      g->positives += positive;
    }
    const auto [year, month] = utc_year_month(r.timestamp);
    ++per_month[{year, month}];
    YearCount& y = per_year[year];
    y.year = year;
    ++y.ratings;
    y.positives += positive;
  }

  std::vector<int64_t> rated;
  for (const int64_t c : per_movie) {
    if (c > 0)
      rated.push_back(c);
  }
  s.rated_movies = static_cast<int64_t>(rated.size());
  const double cells = static_cast<double>(s.users) * static_cast<double>(s.rated_movies);
  s.sparsity = cells > 0 ? 1.0 - static_cast<double>(s.ratings) / cells : 1.0;
  if (s.ratings > 0) {
    s.mean_rating = rating_sum / static_cast<double>(s.ratings);
    s.positive_share = static_cast<double>(s.positives) / static_cast<double>(s.ratings);
  }

  s.ratings_per_user = summarize(per_user);
  s.ratings_per_movie = summarize(rated);
  s.user_histogram = log_histogram(per_user);
  s.movie_histogram = log_histogram(rated);
  s.movie_counts_by_rank = rated;
  std::sort(s.movie_counts_by_rank.begin(), s.movie_counts_by_rank.end(), std::greater<>());

  for (auto& [name, g] : genre_map)
    s.genres.push_back(g);
  std::stable_sort(s.genres.begin(), s.genres.end(),
                   [](const GenreCount& a, const GenreCount& b) { return a.movies > b.movies; });

  if (!per_month.empty()) {
    auto [year, month] = per_month.begin()->first;
    const auto last = per_month.rbegin()->first;
    for (;;) {
      const auto it = per_month.find({year, month});
      s.ratings_per_month.push_back({year, month, it == per_month.end() ? 0 : it->second});
      if (std::make_pair(year, month) == last)
        break;
      if (++month == 13) {
        month = 1;
        ++year;
      }
    }
  }
  for (const auto& [year, y] : per_year)
    s.ratings_per_year.push_back(y);
  return s;
}

double top_movies_rating_share(const DatasetStats& stats, double fraction) {
  const auto& counts = stats.movie_counts_by_rank;
  if (counts.empty() || stats.ratings == 0)
    return 0.0;
  // The epsilon keeps e.g. 0.2 * 10 (= 2.0000000000000004) from rounding up to 3.
  const double wanted = std::ceil(fraction * static_cast<double>(counts.size()) - 1e-9);
  const size_t n = std::clamp<size_t>(static_cast<size_t>(std::max(wanted, 1.0)), 1, counts.size());
  int64_t sum = 0;
  for (size_t i = 0; i < n; ++i)
    sum += counts[i];
  return static_cast<double>(sum) / static_cast<double>(stats.ratings);
}

}  // namespace autoint::data
