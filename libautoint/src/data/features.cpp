// Field derivation from users, movies and ratings, and the label-encoding vocabulary.
#include "autoint/data/features.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <unordered_map>

#include <fmt/format.h>

#include "autoint/error.h"

namespace autoint::data {
namespace {

constexpr int kUserFields = 5;   // user_id .. zipcode
constexpr int kMovieFields = 6;  // movie_id .. release_decade
constexpr int kTimeFields = 2;   // rating_year, rating_month

std::array<std::string, kUserFields> user_values(const User& u) {
  return {std::to_string(u.id), std::string(1, u.gender), std::to_string(u.age),
          std::to_string(u.occupation), u.zipcode};
}

std::array<std::string, kMovieFields> movie_values(const Movie& m) {
  auto genre = [&](std::size_t i) { return i < m.genres.size() ? m.genres[i] : "none"; };
  return {std::to_string(m.id),
          genre(0),
          genre(1),
          genre(2),
          std::to_string(m.year),
          std::to_string(m.year / 10 * 10)};
}

std::array<std::string, kTimeFields> time_values(int64_t timestamp) {
  const auto [year, month] = utc_year_month(timestamp);
  return {std::to_string(year), std::to_string(month)};
}

// Interns raw strings of one field into codes.
class Interner {
 public:
  explicit Interner(std::vector<std::string>& values) : values_(values) {}
  int32_t code(const std::string& text) {
    auto [it, inserted] = index_.try_emplace(text, static_cast<int32_t>(values_.size()));
    if (inserted)
      values_.push_back(text);
    return it->second;
  }

 private:
  std::vector<std::string>& values_;
  std::unordered_map<std::string, int32_t> index_;
};

}  // namespace

const std::array<std::string, kNumFields>& field_names() {
  static const std::array<std::string, kNumFields> names{
      "user_id", "gender", "age",          "occupation",     "zipcode",     "movie_id",    "genre1",
      "genre2",  "genre3", "release_year", "release_decade", "rating_year", "rating_month"};
  return names;
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
  const auto u = user_values(user);
  const auto m = movie_values(movie);
  const auto t = time_values(timestamp);
  std::copy(u.begin(), u.end(), row.begin());
  std::copy(m.begin(), m.end(), row.begin() + kUserFields);
  std::copy(t.begin(), t.end(), row.begin() + kUserFields + kMovieFields);
  return row;
}

RawFeatures featurize(const MovieLens& data, double label_threshold) {
  RawFeatures raw;
  std::vector<Interner> interners;
  interners.reserve(kNumFields);
  for (auto& values : raw.values)
    interners.emplace_back(values);

  // Users and movies are featurised once each; rating rows copy their codes.
  std::unordered_map<int64_t, std::array<int32_t, kUserFields>> user_codes;
  for (const auto& user : data.users) {
    const auto values = user_values(user);
    std::array<int32_t, kUserFields> codes{};
    for (int f = 0; f < kUserFields; ++f)
      codes[f] = interners[f].code(values[f]);
    user_codes.emplace(user.id, codes);
  }
  std::unordered_map<int64_t, std::array<int32_t, kMovieFields>> movie_codes;
  for (const auto& movie : data.movies) {
    const auto values = movie_values(movie);
    std::array<int32_t, kMovieFields> codes{};
    for (int f = 0; f < kMovieFields; ++f)
      codes[f] = interners[kUserFields + f].code(values[f]);
    movie_codes.emplace(movie.id, codes);
  }
  // Time fields depend only on the UTC month: intern each month's codes once.
  std::unordered_map<int64_t, std::array<int32_t, kTimeFields>> month_codes;
  const std::size_t n = data.ratings.size();
  raw.codes.resize(n * kNumFields);
  raw.labels.resize(n);
  raw.user_ids.resize(n);
  raw.movie_ids.resize(n);
  raw.ratings.resize(n);
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
    int32_t* row = raw.codes.data() + r * kNumFields;
    std::copy(u->second.begin(), u->second.end(), row);
    std::copy(m->second.begin(), m->second.end(), row + kUserFields);
    const auto [year, month] = utc_year_month(rating.timestamp);
    auto [t, inserted] = month_codes.try_emplace(year * 12 + month);
    if (inserted) {
      const auto values = time_values(rating.timestamp);
      for (int f = 0; f < kTimeFields; ++f) {
        t->second[f] = interners[kUserFields + kMovieFields + f].code(values[f]);
      }
    }
    std::copy(t->second.begin(), t->second.end(), row + kUserFields + kMovieFields);
    raw.labels[r] = rating.rating >= label_threshold ? 1.0f : 0.0f;
    raw.user_ids[r] = rating.user_id;
    raw.movie_ids[r] = rating.movie_id;
    raw.ratings[r] = static_cast<float>(rating.rating);
  }
  return raw;
}

Vocabulary Vocabulary::fit(const RawFeatures& raw, const std::vector<int64_t>& rows) {
  Vocabulary vocab;
  for (int64_t f = 0; f < kNumFields; ++f) {
    std::vector<char> seen(raw.values[f].size(), 0);
    for (int64_t r : rows)
      seen[raw.codes[r * kNumFields + f]] = 1;
    for (std::size_t code = 0; code < seen.size(); ++code) {
      if (seen[code])
        vocab.values_[f].push_back(raw.values[f][code]);
    }
    std::sort(vocab.values_[f].begin(), vocab.values_[f].end());
  }
  vocab.build_index();
  return vocab;
}

void Vocabulary::build_index() {
  for (int64_t f = 0; f < kNumFields; ++f) {
    index_[f].clear();
    for (std::size_t i = 0; i < values_[f].size(); ++i) {
      index_[f].emplace(values_[f][i], static_cast<int64_t>(i) + 1);
    }
  }
}

std::vector<int64_t> Vocabulary::cardinalities() const {
  std::vector<int64_t> out;
  for (const auto& values : values_)
    out.push_back(static_cast<int64_t>(values.size()) + 1);
  return out;
}

int64_t Vocabulary::id(int64_t field, const std::string& raw) const {
  if (field < 0 || field >= kNumFields) {
    throw std::out_of_range(fmt::format("field index {} is not in [0, {})", field, kNumFields));
  }
  const auto it = index_[field].find(raw);
  return it == index_[field].end() ? 0 : it->second;
}

torch::Tensor Vocabulary::encode(const RawFeatures& raw, const std::vector<int64_t>& rows) const {
  // Map each field's raw codes to ids once, then translate rows by table lookup.
  std::array<std::vector<int64_t>, kNumFields> code_to_id;
  for (int64_t f = 0; f < kNumFields; ++f) {
    code_to_id[f].resize(raw.values[f].size());
    for (std::size_t c = 0; c < raw.values[f].size(); ++c)
      code_to_id[f][c] = id(f, raw.values[f][c]);
  }
  auto out = torch::empty({static_cast<int64_t>(rows.size()), kNumFields}, torch::kInt64);
  int64_t* dst = out.data_ptr<int64_t>();
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const int32_t* src = raw.codes.data() + rows[i] * kNumFields;
    for (int64_t f = 0; f < kNumFields; ++f)
      dst[i * kNumFields + f] = code_to_id[f][src[f]];
  }
  return out;
}

std::array<int64_t, kNumFields> Vocabulary::encode(const RawRow& row) const {
  std::array<int64_t, kNumFields> ids{};
  for (int64_t f = 0; f < kNumFields; ++f)
    ids[f] = id(f, row[f]);
  return ids;
}

void Vocabulary::save(const std::string& path) const {
  std::ofstream out(path, std::ios::binary);
  if (!out)
    throw RunError(fmt::format("{}: cannot open for writing", path));
  out << "autoint-vocabulary 1\n";
  for (int64_t f = 0; f < kNumFields; ++f) {
    out << "field " << field_names()[f] << ' ' << values_[f].size() << '\n';
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
  auto next = [&](const char* expected) {
    if (!std::getline(in, line)) {
      throw RunError(
          fmt::format("{}:{}: file ends early, expected {}", path, line_no + 1, expected));
    }
    ++line_no;
  };
  next("the header \"autoint-vocabulary 1\"");
  if (line != "autoint-vocabulary 1") {
    throw RunError(
        fmt::format("{}:1: expected the header \"autoint-vocabulary 1\", got \"{}\"", path, line));
  }
  Vocabulary vocab;
  for (int64_t f = 0; f < kNumFields; ++f) {
    const std::string expected = fmt::format("\"field {} <count>\"", field_names()[f]);
    next(expected.c_str());
    std::istringstream header(line);
    std::string word, name;
    int64_t count = -1;
    if (!(header >> word >> name >> count) || word != "field" || name != field_names()[f] ||
        count < 0) {
      throw RunError(fmt::format("{}:{}: expected {}, got \"{}\"", path, line_no, expected, line));
    }
    // A repeated value would get two ids, and encoding would silently use only the first.
    std::unordered_map<std::string, int64_t> first_line;
    for (int64_t i = 0; i < count; ++i) {
      next(fmt::format("value {} of {} for field {}", i + 1, count, name).c_str());
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
