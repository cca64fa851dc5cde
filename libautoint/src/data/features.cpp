// Field derivation from users, movies and ratings, and the label-encoding vocabulary.
#include "autoint/data/features.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <numeric>
#include <sstream>
#include <stdexcept>
#include <unordered_map>

#include <ATen/Parallel.h>
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

// The values of a multi-valued field's text ("a|b|c"); none for "".
std::vector<std::string> split_values(const std::string& text) {
  std::vector<std::string> out;
  if (text.empty())
    return out;
  std::size_t begin = 0;
  for (;;) {
    const std::size_t end = text.find('|', begin);
    out.push_back(text.substr(begin, end - begin));
    if (end == std::string::npos)
      return out;
    begin = end + 1;
  }
}

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

Vocabulary Vocabulary::fit(const RawFeatures& raw, const std::vector<int64_t>& rows,
                           int64_t max_width, std::vector<std::string>* notes,
                           const std::vector<int64_t>& min_counts) {
  if (max_width < 1)
    throw std::invalid_argument(fmt::format("max_width must be >= 1 (got {})", max_width));
  if (!min_counts.empty() && min_counts.size() != raw.fields.size()) {
    throw std::invalid_argument(fmt::format("min_counts has {} entries for {} fields",
                                            min_counts.size(), raw.fields.size()));
  }
  Vocabulary vocab;
  const auto fields = static_cast<int64_t>(raw.fields.size());
  vocab.fields_ = raw.fields;
  vocab.values_.resize(raw.fields.size());
  vocab.widths_.assign(raw.fields.size(), 0);
  vocab.means_.assign(raw.fields.size(), 0.0);
  vocab.stds_.assign(raw.fields.size(), 1.0);
  const int64_t numeric_stride = raw.numeric_fields();
  // One pass over the rows for every field's value counts, first rows and numeric sums, and
  // one for the squared deviations: a row's codes (and numbers) are adjacent, so each row is
  // fetched once, not once per field (the rows are a shuffled split). Missing numbers (NaN,
  // from tables) are left out, and encoded as the mean.
  const auto fcount = static_cast<std::size_t>(fields);
  std::vector<std::vector<int64_t>> seen_count(fcount);
  std::vector<std::vector<int64_t>> first_seen(fcount);
  for (std::size_t f = 0; f < fcount; ++f) {
    if (raw.fields[f].kind != FieldKind::numeric) {
      seen_count[f].assign(raw.values[f].size(), 0);
      first_seen[f].assign(raw.values[f].size(), -1);
    }
  }
  const auto ncount = static_cast<std::size_t>(numeric_stride);
  std::vector<double> sums(ncount, 0.0);
  std::vector<double> squares(ncount, 0.0);
  std::vector<int64_t> present(ncount, 0);
  for (int64_t r : rows) {
    const int32_t* codes = raw.codes.data() + r * fields;
    const double* numbers = raw.numeric.data() + r * numeric_stride;
    std::size_t n = 0;
    for (std::size_t f = 0; f < fcount; ++f) {
      if (raw.fields[f].kind == FieldKind::numeric) {
        // Two passes (mean, then squared deviations) for accuracy on unix times.
        const double v = numbers[n];
        if (!std::isnan(v)) {
          sums[n] += v;
          ++present[n];
        }
        ++n;
        continue;
      }
      const auto code = static_cast<std::size_t>(codes[f]);
      if (seen_count[f][code]++ == 0)
        first_seen[f][code] = r;
    }
  }
  std::vector<double> means(ncount, 0.0);
  for (std::size_t n = 0; n < ncount; ++n)
    means[n] = present[n] == 0 ? 0.0 : sums[n] / static_cast<double>(present[n]);
  if (ncount > 0) {
    for (int64_t r : rows) {
      const double* numbers = raw.numeric.data() + r * numeric_stride;
      for (std::size_t n = 0; n < ncount; ++n) {
        if (!std::isnan(numbers[n]))
          squares[n] += (numbers[n] - means[n]) * (numbers[n] - means[n]);
      }
    }
  }
  int64_t numeric_column = 0;
  for (int64_t f = 0; f < fields; ++f) {
    const auto fi = static_cast<std::size_t>(f);
    auto& values = vocab.values_[fi];
    if (raw.fields[fi].kind == FieldKind::numeric) {
      const auto n = static_cast<std::size_t>(numeric_column);
      const double mean = means[n];
      const double std =
          present[n] == 0 ? 0.0 : std::sqrt(squares[n] / static_cast<double>(present[n]));
      vocab.means_[fi] = mean;
      vocab.stds_[fi] = std > 0 ? std : 1.0;
      ++numeric_column;
      continue;
    }
    const std::vector<int64_t>& seen = seen_count[fi];
    const std::vector<int64_t>& first_row = first_seen[fi];
    const int64_t min_count = min_counts.empty() ? 1 : min_counts[fi];
    std::unordered_map<std::string, int64_t> multi_counts;  // multi-valued, min_count > 1
    int64_t widest = 0, widest_row = -1;
    for (std::size_t code = 0; code < seen.size(); ++code) {
      if (!seen[code])
        continue;
      if (raw.fields[fi].kind == FieldKind::categorical) {
        if (seen[code] >= min_count)
          values.push_back(raw.values[fi][code]);
      } else {
        const auto list = split_values(raw.values[fi][code]);
        if (min_count > 1) {
          for (const auto& v : list)
            multi_counts[v] += seen[code];
        } else {
          values.insert(values.end(), list.begin(), list.end());
        }
        if (static_cast<int64_t>(list.size()) > widest) {
          widest = static_cast<int64_t>(list.size());
          widest_row = first_row[code];
        }
      }
    }
    for (const auto& [v, count] : multi_counts) {
      if (count >= min_count)
        values.push_back(v);
    }
    vocab.widths_[fi] = std::min(widest, max_width);
    if (widest > max_width && notes != nullptr) {
      const auto r = static_cast<std::size_t>(widest_row);
      notes->push_back(fmt::format(
          "data: field {} has {} values in its widest row ({}); each row keeps the first {} "
          "(data.max_multi_values)",
          raw.fields[fi].name, widest,
          raw.user_ids.size() > r && raw.movie_ids.size() > r
              ? fmt::format("user {}, movie {}", raw.user_ids[r], raw.movie_ids[r])
              : fmt::format("row {}", r + 1),
          max_width));
    }
    std::sort(values.begin(), values.end());
    values.erase(std::unique(values.begin(), values.end()), values.end());
    if (raw.fields[fi].kind == FieldKind::multi_categorical)
      vocab.widths_[fi] = std::max<int64_t>(vocab.widths_[fi], 1);
  }
  vocab.build_index();
  return vocab;
}

void Vocabulary::build_index() {
  index_.assign(values_.size(), {});
  for (std::size_t f = 0; f < values_.size(); ++f) {
    for (std::size_t i = 0; i < values_[f].size(); ++i)
      index_[f].emplace(values_[f][i], static_cast<int64_t>(i) + 1);
  }
}

std::vector<FieldKind> Vocabulary::kinds() const {
  std::vector<FieldKind> out;
  for (const auto& f : fields_)
    out.push_back(f.kind);
  return out;
}

bool Vocabulary::is_seed() const {
  return fields_ == feature_set_fields("seed");
}

std::vector<int64_t> Vocabulary::cardinalities() const {
  std::vector<int64_t> out;
  for (std::size_t f = 0; f < fields_.size(); ++f) {
    out.push_back(
        fields_[f].kind == FieldKind::numeric ? 1 : static_cast<int64_t>(values_[f].size()) + 1);
  }
  return out;
}

std::vector<int64_t> Vocabulary::widths() const {
  std::vector<int64_t> out;
  for (std::size_t f = 0; f < fields_.size(); ++f) {
    switch (fields_[f].kind) {
      case FieldKind::categorical:
        out.push_back(1);
        break;
      case FieldKind::multi_categorical:
        out.push_back(widths_[f]);
        break;
      case FieldKind::numeric:
        out.push_back(0);
        break;
    }
  }
  return out;
}

int64_t Vocabulary::id(int64_t field, const std::string& raw) const {
  const auto fields = static_cast<int64_t>(fields_.size());
  if (field < 0 || field >= fields) {
    throw std::out_of_range(fmt::format("field index {} is not in [0, {})", field, fields));
  }
  const auto fi = static_cast<std::size_t>(field);
  if (fields_[fi].kind == FieldKind::numeric) {
    throw std::out_of_range(
        fmt::format("field {} ({}) is numeric and has no ids", field, fields_[fi].name));
  }
  const auto it = index_[fi].find(raw);
  return it == index_[fi].end() ? 0 : it->second;
}

Vocabulary::Encoded Vocabulary::encode(const RawFeatures& raw,
                                       const std::vector<int64_t>& rows) const {
  if (raw.fields != fields_) {
    throw std::invalid_argument(
        "the features to encode have other fields than the vocabulary was fitted on");
  }
  // Map each field's raw codes to their (padded) ids once, then translate rows by lookup.
  const auto fields = static_cast<int64_t>(fields_.size());
  const std::vector<int64_t> width = widths();
  const int64_t columns = std::accumulate(width.begin(), width.end(), int64_t{0});
  const int64_t numeric_stride = raw.numeric_fields();
  std::vector<std::vector<int64_t>> code_to_ids(fields_.size());
  for (int64_t f = 0; f < fields; ++f) {
    const auto fi = static_cast<std::size_t>(f);
    if (fields_[fi].kind == FieldKind::numeric)
      continue;
    const auto w = static_cast<std::size_t>(width[fi]);
    code_to_ids[fi].assign(raw.values[fi].size() * w, 0);
    for (std::size_t c = 0; c < raw.values[fi].size(); ++c) {
      if (fields_[fi].kind == FieldKind::categorical) {
        code_to_ids[fi][c] = id(f, raw.values[fi][c]);
        continue;
      }
      const auto list = split_values(raw.values[fi][c]);
      for (std::size_t i = 0; i < list.size() && i < w; ++i)
        code_to_ids[fi][c * w + i] = id(f, list[i]);
    }
  }
  const auto n = static_cast<int64_t>(rows.size());
  Encoded out{torch::empty({n, columns}, torch::kInt64),
              torch::empty({n, numeric_stride}, torch::kFloat32)};
  int64_t* ids = out.ids.data_ptr<int64_t>();
  float* numeric = out.numeric.data_ptr<float>();
  // Rows are independent (integer lookups, one float per numeric value): encoded in parallel,
  // the same on any thread count.
  at::parallel_for(0, n, 16384, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const int32_t* src = raw.codes.data() + rows[static_cast<std::size_t>(i)] * fields;
      const double* values =
          raw.numeric.data() + rows[static_cast<std::size_t>(i)] * numeric_stride;
      int64_t column = 0;
      int64_t numeric_column = 0;
      for (int64_t f = 0; f < fields; ++f) {
        const auto fi = static_cast<std::size_t>(f);
        if (fields_[fi].kind == FieldKind::numeric) {
          const double v = values[numeric_column];
          numeric[i * numeric_stride + numeric_column] =
              std::isnan(v) ? 0.0f : static_cast<float>((v - means_[fi]) / stds_[fi]);
          ++numeric_column;
          continue;
        }
        const int64_t w = width[fi];
        const int64_t* from = code_to_ids[fi].data() + src[f] * w;
        int64_t* to = ids + i * columns + column;
        for (int64_t j = 0; j < w; ++j)  // mostly w = 1: no memmove call per id
          to[j] = from[j];
        column += w;
      }
    }
  });
  return out;
}

std::array<int64_t, kNumFields> Vocabulary::encode(const RawRow& row) const {
  if (!is_seed()) {
    throw std::logic_error(
        "encoding a raw row needs a vocabulary of the seed's feature set (data.features: seed)");
  }
  std::array<int64_t, kNumFields> ids{};
  for (int64_t f = 0; f < kNumFields; ++f)
    ids[static_cast<std::size_t>(f)] = id(f, row[static_cast<std::size_t>(f)]);
  return ids;
}

void Vocabulary::save(const std::string& path) const {
  std::ofstream out(path, std::ios::binary);
  if (!out)
    throw RunError(fmt::format("{}: cannot open for writing", path));
  out << "autoint-vocabulary 2\n"
      << "fields " << fields_.size() << '\n';
  for (std::size_t f = 0; f < fields_.size(); ++f) {
    out << "field " << fields_[f].name << ' ' << to_string(fields_[f].kind);
    if (fields_[f].kind == FieldKind::numeric) {
      out << fmt::format(" {} {}\n", means_[f], stds_[f]);  // shortest round-trip form
      continue;
    }
    out << ' ' << values_[f].size();
    if (fields_[f].kind == FieldKind::multi_categorical)
      out << ' ' << widths_[f];
    out << '\n';
    for (const auto& v : values_[f])
      out << v << '\n';
  }
  out.flush();
  if (!out)
    throw RunError(fmt::format("{}: write failed", path));
}

Vocabulary Vocabulary::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw RunError(fmt::format("{}: cannot open vocabulary file", path));
  std::string line;
  int64_t line_no = 0;
  auto next = [&](const std::string& expected) {
    if (!std::getline(in, line)) {
      throw RunError(
          fmt::format("{}:{}: file ends early, expected {}", path, line_no + 1, expected));
    }
    ++line_no;
  };
  auto fail = [&](const std::string& expected) {
    throw RunError(fmt::format("{}:{}: expected {}, got \"{}\"", path, line_no, expected, line));
  };
  const std::string headers = "the header \"autoint-vocabulary 1\" or \"autoint-vocabulary 2\"";
  next(headers);
  if (line != "autoint-vocabulary 1" && line != "autoint-vocabulary 2")
    fail(headers);
  const bool version1 = line == "autoint-vocabulary 1";
  Vocabulary vocab;
  if (version1) {
    vocab.fields_ = feature_set_fields("seed");
  } else {
    next("\"fields <count>\"");
    std::istringstream header(line);
    std::string word, rest;
    int64_t count = -1;
    if (!(header >> word >> count) || word != "fields" || count < 1 || count > 10000 ||
        (header >> rest))
      fail("\"fields <count>\" with a count from 1 to 10000");
    vocab.fields_.resize(static_cast<std::size_t>(count));
  }
  const std::size_t fields = vocab.fields_.size();
  vocab.values_.resize(fields);
  vocab.widths_.assign(fields, 0);
  vocab.means_.assign(fields, 0.0);
  vocab.stds_.assign(fields, 1.0);
  for (std::size_t f = 0; f < fields; ++f) {
    FieldSpec& spec = vocab.fields_[f];
    std::istringstream header;
    std::string word, name, kind_text, rest;
    int64_t count = -1;
    if (version1) {
      const std::string expected = fmt::format("\"field {} <count>\"", spec.name);
      next(expected);
      header.str(line);
      if (!(header >> word >> name >> count) || word != "field" || name != spec.name || count < 0)
        fail(expected);
    } else {
      const std::string expected = fmt::format(
          "field {} of {}: \"field <name> categorical <count>\", \"field <name> multi <count> "
          "<width>\" or \"field <name> numeric <mean> <std>\"",
          f + 1, fields);
      next(expected);
      header.str(line);
      if (!(header >> word >> name >> kind_text) || word != "field" ||
          !parse_field_kind(kind_text, spec.kind))
        fail(expected);
      spec.name = name;
      if (spec.kind == FieldKind::numeric) {
        double mean = 0, std = 0;
        if (!(header >> mean >> std) || !std::isfinite(mean) || !std::isfinite(std) || !(std > 0) ||
            (header >> rest))
          fail(fmt::format("\"field {} numeric <mean> <std>\" with a finite mean and std > 0",
                           name));
        vocab.means_[f] = mean;
        vocab.stds_[f] = std;
        continue;
      }
      int64_t width = 1;
      if (!(header >> count) || count < 0 ||
          (spec.kind == FieldKind::multi_categorical && !(header >> width)) || width < 1 ||
          width > 1000 || (header >> rest))
        fail(expected);
      if (spec.kind == FieldKind::multi_categorical)
        vocab.widths_[f] = width;
    }
    // A repeated value would get two ids, and encoding would silently use only the first.
    std::unordered_map<std::string, int64_t> first_line;
    for (int64_t i = 0; i < count; ++i) {
      next(fmt::format("value {} of {} for field {}", i + 1, count, name));
      const auto [it, inserted] = first_line.emplace(line, line_no);
      if (!inserted) {
        throw RunError(fmt::format(
            "{}:{}: expected each value of field {} once, got \"{}\" again (first on line {})",
            path, line_no, name, line, it->second));
      }
      vocab.values_[f].push_back(line);
    }
  }
  if (std::getline(in, line)) {
    throw RunError(fmt::format("{}:{}: unexpected text after the last field: \"{}\"", path,
                               line_no + 1, line));
  }
  vocab.build_index();
  return vocab;
}

}  // namespace autoint::data
