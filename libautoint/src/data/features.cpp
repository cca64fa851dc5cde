// Field derivation from users, movies and ratings: the seed's and the paper's feature sets.
#include "autoint/data/features.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <unordered_map>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "autoint/error.h"

namespace autoint::data {
namespace {

// Where a field's raw value comes from: the user, the movie, the rating's UTC month, or
// the rating's timestamp itself (numeric).
enum class Source { user, movie, month, timestamp };

struct FieldDef {
  std::string name;
  FieldKind kind;
  Source source;
  // The raw text of the field (numeric fields have none).
  std::string (*text)(const User& user, const Movie& movie, int64_t timestamp);
};

std::string genre_at(const Movie& m, std::size_t i) {
  return i < m.genres.size() ? m.genres[i] : "none";
}

std::string joined_genres(const Movie& m) {
  std::string out;
  for (const auto& g : m.genres)
    out += (out.empty() ? "" : "|") + g;
  return out;
}

const std::vector<FieldDef>& seed_defs() {
  static const std::vector<FieldDef> defs{
      {"user_id", FieldKind::categorical, Source::user,
       [](const User& u, const Movie&, int64_t) { return std::to_string(u.id); }},
      {"gender", FieldKind::categorical, Source::user,
       [](const User& u, const Movie&, int64_t) { return std::string(1, u.gender); }},
      {"age", FieldKind::categorical, Source::user,
       [](const User& u, const Movie&, int64_t) { return std::to_string(u.age); }},
      {"occupation", FieldKind::categorical, Source::user,
       [](const User& u, const Movie&, int64_t) { return std::to_string(u.occupation); }},
      {"zipcode", FieldKind::categorical, Source::user,
       [](const User& u, const Movie&, int64_t) { return u.zipcode; }},
      {"movie_id", FieldKind::categorical, Source::movie,
       [](const User&, const Movie& m, int64_t) { return std::to_string(m.id); }},
      {"genre1", FieldKind::categorical, Source::movie,
       [](const User&, const Movie& m, int64_t) { return genre_at(m, 0); }},
      {"genre2", FieldKind::categorical, Source::movie,
       [](const User&, const Movie& m, int64_t) { return genre_at(m, 1); }},
      {"genre3", FieldKind::categorical, Source::movie,
       [](const User&, const Movie& m, int64_t) { return genre_at(m, 2); }},
      {"release_year", FieldKind::categorical, Source::movie,
       [](const User&, const Movie& m, int64_t) { return std::to_string(m.year); }},
      {"release_decade", FieldKind::categorical, Source::movie,
       [](const User&, const Movie& m, int64_t) { return std::to_string(m.year / 10 * 10); }},
      {"rating_year", FieldKind::categorical, Source::month,
       [](const User&, const Movie&, int64_t t) {
         return std::to_string(utc_year_month(t).first);
       }},
      {"rating_month", FieldKind::categorical, Source::month,
       [](const User&, const Movie&, int64_t t) {
         return std::to_string(utc_year_month(t).second);
       }},
  };
  return defs;
}

const std::vector<FieldDef>& paper_defs() {
  static const std::vector<FieldDef> defs = [] {
    const auto& seed = seed_defs();
    auto by_name = [&](const std::string& name) {
      return *std::find_if(seed.begin(), seed.end(),
                           [&](const FieldDef& d) { return d.name == name; });
    };
    return std::vector<FieldDef>{
        by_name("gender"),
        by_name("age"),
        by_name("occupation"),
        by_name("zipcode"),
        {"genres", FieldKind::multi_categorical, Source::movie,
         [](const User&, const Movie& m, int64_t) { return joined_genres(m); }},
        by_name("release_decade"),
        {"timestamp", FieldKind::numeric, Source::timestamp, nullptr},
    };
  }();
  return defs;
}

const std::vector<FieldDef>& defs_of(const std::string& feature_set) {
  if (feature_set == "seed")
    return seed_defs();
  if (feature_set == "paper")
    return paper_defs();
  throw std::invalid_argument(fmt::format("unknown feature set \"{}\" (expected {})", feature_set,
                                          fmt::join(feature_set_names(), " or ")));
}

std::string field_list(const std::vector<FieldDef>& defs) {
  std::vector<std::string> names;
  for (const auto& d : defs)
    names.push_back(d.name);
  return fmt::format("{}", fmt::join(names, ", "));
}

// Interns raw strings of one field into codes.
class Interner {
 public:
  explicit Interner(std::vector<std::string>& values) : values_(&values) {}
  int32_t code(const std::string& text) {
    auto [it, inserted] = index_.try_emplace(text, static_cast<int32_t>(values_->size()));
    if (inserted)
      values_->push_back(text);
    return it->second;
  }

 private:
  std::vector<std::string>* values_;
  std::unordered_map<std::string, int32_t> index_;
};

}  // namespace

const std::array<std::string, kNumFields>& field_names() {
  static const std::array<std::string, kNumFields> names = [] {
    std::array<std::string, kNumFields> out;
    for (std::size_t f = 0; f < out.size(); ++f)
      out[f] = seed_defs()[f].name;
    return out;
  }();
  return names;
}

const std::vector<std::string>& feature_set_names() {
  static const std::vector<std::string> names{"seed", "paper"};
  return names;
}

std::vector<FieldSpec> feature_set_fields(const std::string& feature_set) {
  std::vector<FieldSpec> out;
  for (const auto& d : defs_of(feature_set))
    out.push_back({d.name, d.kind});
  return out;
}

std::pair<int64_t, int64_t> utc_year_month(int64_t timestamp) {
  // Howard Hinnant's civil_from_days: exact for the proleptic Gregorian calendar.
  int64_t days = timestamp >= 0 ? timestamp / 86400 : (timestamp - 86399) / 86400;
  days += 719468;
  const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const int64_t doe = days - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t month = mp < 10 ? mp + 3 : mp - 9;
  const int64_t year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  return {year, month};
}

RawRow raw_row(const User& user, const Movie& movie, int64_t timestamp) {
  RawRow row;
  for (std::size_t f = 0; f < row.size(); ++f)
    row[f] = seed_defs()[f].text(user, movie, timestamp);
  return row;
}

RawFeatures featurize(const MovieLens& data, double label_threshold) {
  FeatureOptions options;
  options.label_threshold = label_threshold;
  return featurize(data, options);
}

RawFeatures featurize(const MovieLens& data, const FeatureOptions& options) {
  const auto& all = defs_of(options.feature_set);
  for (const auto& name : options.drop_fields) {
    if (std::none_of(all.begin(), all.end(), [&](const FieldDef& d) { return d.name == name; })) {
      throw std::invalid_argument(fmt::format("\"{}\" is not a field of the {} feature set ({})",
                                              name, options.feature_set, field_list(all)));
    }
  }
  std::vector<FieldDef> defs;
  for (const auto& d : all) {
    if (std::find(options.drop_fields.begin(), options.drop_fields.end(), d.name) ==
        options.drop_fields.end())
      defs.push_back(d);
  }
  if (defs.empty()) {
    throw std::invalid_argument(
        fmt::format("every field of the {} feature set is dropped", options.feature_set));
  }
  const std::size_t fields = defs.size();
  RawFeatures raw;
  for (const auto& d : defs)
    raw.fields.push_back({d.name, d.kind});
  raw.values.resize(fields);
  std::vector<Interner> interners;
  interners.reserve(fields);
  for (auto& values : raw.values)
    interners.emplace_back(values);

  // Users and movies are featurised once each, time fields once per UTC month; rating
  // rows copy their codes. Each cache row holds codes for every field (only the fields of
  // its source are filled).
  const User no_user;
  const Movie no_movie;
  auto codes_of = [&](Source source, const User& u, const Movie& m, int64_t t) {
    std::vector<int32_t> codes(fields, 0);
    for (std::size_t f = 0; f < fields; ++f) {
      if (defs[f].source == source)
        codes[f] = interners[f].code(defs[f].text(u, m, t));
    }
    return codes;
  };
  std::unordered_map<int64_t, std::vector<int32_t>> user_codes;
  for (const auto& user : data.users)
    user_codes.emplace(user.id, codes_of(Source::user, user, no_movie, 0));
  std::unordered_map<int64_t, std::vector<int32_t>> movie_codes;
  for (const auto& movie : data.movies)
    movie_codes.emplace(movie.id, codes_of(Source::movie, no_user, movie, 0));
  std::unordered_map<int64_t, std::vector<int32_t>> month_codes;

  std::vector<std::size_t> numeric_fields;
  for (std::size_t f = 0; f < fields; ++f) {
    if (defs[f].source == Source::timestamp)
      numeric_fields.push_back(f);
  }
  const std::size_t n = data.ratings.size();
  raw.codes.reserve(n * fields);
  raw.numeric.reserve(n * numeric_fields.size());
  raw.labels.reserve(n);
  raw.user_ids.reserve(n);
  raw.movie_ids.reserve(n);
  raw.ratings.reserve(n);
  for (std::size_t r = 0; r < n; ++r) {
    const Rating& rating = data.ratings[r];
    const auto u = user_codes.find(rating.user_id);
    const auto m = movie_codes.find(rating.movie_id);
    if (u == user_codes.end() || m == movie_codes.end()) {
      throw DataError(
          fmt::format("rating {} names user {} and movie {}, one of which is not in "
                      "users.dat/movies.dat",
                      r + 1, rating.user_id, rating.movie_id));
    }
    if (std::find(options.drop_ratings.begin(), options.drop_ratings.end(), rating.rating) !=
        options.drop_ratings.end())
      continue;
    const auto [year, month] = utc_year_month(rating.timestamp);
    auto t = month_codes.find(year * 12 + month);
    if (t == month_codes.end()) {
      t = month_codes
              .emplace(year * 12 + month,
                       codes_of(Source::month, no_user, no_movie, rating.timestamp))
              .first;
    }
    for (std::size_t f = 0; f < fields; ++f) {
      switch (defs[f].source) {
        case Source::user:
          raw.codes.push_back(u->second[f]);
          break;
        case Source::movie:
          raw.codes.push_back(m->second[f]);
          break;
        case Source::month:
          raw.codes.push_back(t->second[f]);
          break;
        case Source::timestamp:
          raw.codes.push_back(0);
          raw.numeric.push_back(static_cast<double>(rating.timestamp));
          break;
      }
    }
    raw.labels.push_back(rating.rating >= options.label_threshold ? 1.0f : 0.0f);
    raw.user_ids.push_back(rating.user_id);
    raw.movie_ids.push_back(rating.movie_id);
    raw.ratings.push_back(static_cast<float>(rating.rating));
  }
  return raw;
}

bool is_seed_vocabulary(const Vocabulary& vocabulary) {
  return vocabulary.fields() == feature_set_fields("seed");
}

std::array<int64_t, kNumFields> encode_row(const Vocabulary& vocabulary, const RawRow& row) {
  if (!is_seed_vocabulary(vocabulary)) {
    throw std::logic_error(
        "encoding a raw row needs a vocabulary of the seed's feature set (data.features: seed)");
  }
  std::array<int64_t, kNumFields> ids{};
  for (int64_t f = 0; f < kNumFields; ++f)
    ids[static_cast<std::size_t>(f)] = vocabulary.id(f, row[static_cast<std::size_t>(f)]);
  return ids;
}

}  // namespace autoint::data
