// Field derivation from users, movies and ratings: the seed's and the paper's feature sets.
#include "autoint/movielens/features.h"

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

// The joined columns, in movielens_columns() order.
enum class Column {
  user_id,
  gender,
  age,
  occupation,
  zipcode,
  movie_id,
  title,
  genres,
  year,
  rating,
  timestamp
};
enum class Source { user, movie, rating };

Source source_of(Column c) {
  if (c <= Column::zipcode)
    return Source::user;
  if (c <= Column::year)
    return Source::movie;
  return Source::rating;
}

// The columns that hold integers (what numeric fields and the integer derivations need).
bool integer_column(Column c) {
  return c != Column::gender && c != Column::zipcode && c != Column::title && c != Column::genres;
}

std::string joined_genres(const Movie& m) {
  std::string out;
  for (const auto& g : m.genres)
    out += (out.empty() ? "" : "|") + g;
  return out;
}

int64_t column_number(Column c, const User& u, const Movie& m, int64_t rating, int64_t timestamp) {
  switch (c) {
    case Column::user_id:
      return u.id;
    case Column::age:
      return u.age;
    case Column::occupation:
      return u.occupation;
    case Column::movie_id:
      return m.id;
    case Column::year:
      return m.year;
    case Column::rating:
      return rating;
    case Column::timestamp:
      return timestamp;
    default:
      throw std::logic_error("column_number: not an integer column");
  }
}

std::string column_text(Column c, const User& u, const Movie& m, int64_t rating,
                        int64_t timestamp) {
  switch (c) {
    case Column::gender:
      return std::string(1, u.gender);
    case Column::zipcode:
      return u.zipcode;
    case Column::title:
      return m.title;
    case Column::genres:
      return joined_genres(m);
    default:
      return std::to_string(column_number(c, u, m, rating, timestamp));
  }
}

TableField field(std::string name, std::string column, FieldKind kind = FieldKind::categorical,
                 std::string derive = "", int64_t index = 0) {
  TableField f;
  f.name = std::move(name);
  f.column = std::move(column);
  f.kind = kind;
  f.derive = std::move(derive);
  f.index = index;
  return f;
}

// The feature sets, as fields over the joined columns (seed-protocol.md: a missing genre is
// "none"; the decade rounds the year down; the rating's year and month are UTC).
const std::vector<TableField>& seed_fields() {
  static const std::vector<TableField> fields{
      field("user_id", "UserID"),
      field("gender", "Gender"),
      field("age", "Age"),
      field("occupation", "Occupation"),
      field("zipcode", "Zip-code"),
      field("movie_id", "MovieID"),
      field("genre1", "Genres", FieldKind::categorical, "element", 0),
      field("genre2", "Genres", FieldKind::categorical, "element", 1),
      field("genre3", "Genres", FieldKind::categorical, "element", 2),
      field("release_year", "Year"),
      field("release_decade", "Year", FieldKind::categorical, "decade"),
      field("rating_year", "Timestamp", FieldKind::categorical, "utc_year"),
      field("rating_month", "Timestamp", FieldKind::categorical, "utc_month"),
  };
  return fields;
}

const std::vector<TableField>& paper_fields() {
  static const std::vector<TableField> fields{
      field("gender", "Gender"),
      field("age", "Age"),
      field("occupation", "Occupation"),
      field("zipcode", "Zip-code"),
      field("genres", "Genres", FieldKind::multi_categorical),
      field("release_decade", "Year", FieldKind::categorical, "decade"),
      field("timestamp", "Timestamp", FieldKind::numeric),
  };
  return fields;
}

const std::vector<TableField>& fields_of(const std::string& feature_set) {
  if (feature_set == "seed")
    return seed_fields();
  if (feature_set == "paper")
    return paper_fields();
  throw std::invalid_argument(fmt::format("unknown feature set \"{}\" (expected {})", feature_set,
                                          fmt::join(feature_set_names(), " or ")));
}

std::string field_list(const std::vector<TableField>& fields) {
  std::vector<std::string> names;
  for (const auto& f : fields)
    names.push_back(f.name);
  return fmt::format("{}", fmt::join(names, ", "));
}

// A schema field bound to its column, checked against what the joined columns hold.
struct BoundField {
  const TableField* field;
  Column column;
  Source source;
};

std::vector<BoundField> bind(const TableSchema& schema) {
  const auto& columns = movielens_columns();
  std::vector<BoundField> out;
  for (const auto& f : schema.fields) {
    const std::string& name = f.source_column();
    const auto it = std::find(columns.begin(), columns.end(), name);
    if (it == columns.end()) {
      throw std::invalid_argument(fmt::format("field {}: \"{}\" is not a MovieLens column ({})",
                                              f.name, name, fmt::join(columns, ", ")));
    }
    const auto column = static_cast<Column>(it - columns.begin());
    const bool integer_derive =
        f.derive == "decade" || f.derive == "utc_year" || f.derive == "utc_month";
    if ((f.kind == FieldKind::numeric || integer_derive) && !integer_column(column)) {
      throw std::invalid_argument(fmt::format("field {}: column {} does not hold integers ({})",
                                              f.name, name,
                                              integer_derive ? "derive " + f.derive : "numeric"));
    }
    if (f.kind == FieldKind::numeric && f.transform != "standardize") {
      throw std::invalid_argument(
          fmt::format("field {}: transform {} (MovieLens numeric fields are standardised only)",
                      f.name, f.transform));
    }
    if (f.kind == FieldKind::multi_categorical && f.separator != '|') {
      throw std::invalid_argument(
          fmt::format("field {}: separator {} (MovieLens multi-valued columns are split at '|')",
                      f.name, std::string(1, f.separator)));
    }
    out.push_back({&f, column, source_of(column)});
  }
  return out;
}

// A categorical or multi-valued field's raw text for one rating.
std::string field_text(const BoundField& b, const User& u, const Movie& m, int64_t rating,
                       int64_t timestamp) {
  const std::string text = column_text(b.column, u, m, rating, timestamp);
  std::string out;
  if (!derive_value(*b.field, text, out))
    throw std::logic_error("field_text: an integer column did not parse");  // bind() checked
  return out;
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

const std::vector<std::string>& movielens_columns() {
  static const std::vector<std::string> columns{"UserID",   "Gender",  "Age",      "Occupation",
                                                "Zip-code", "MovieID", "Title",    "Genres",
                                                "Year",     "Rating",  "Timestamp"};
  return columns;
}

TableSchema movielens_schema(const std::string& feature_set, double label_threshold) {
  TableSchema schema;
  schema.fields = fields_of(feature_set);
  schema.label = "Rating";
  schema.label_threshold = label_threshold;
  schema.user = "UserID";
  schema.item = "MovieID";
  return schema;
}

const std::array<std::string, kNumFields>& field_names() {
  static const std::array<std::string, kNumFields> names = [] {
    std::array<std::string, kNumFields> out;
    for (std::size_t f = 0; f < out.size(); ++f)
      out[f] = seed_fields()[f].name;
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
  for (const auto& f : fields_of(feature_set))
    out.push_back({f.name, f.kind});
  return out;
}

RawRow raw_row(const User& user, const Movie& movie, int64_t timestamp) {
  static const TableSchema schema = movielens_schema("seed");
  static const std::vector<BoundField> bound = bind(schema);
  RawRow row;
  for (std::size_t f = 0; f < row.size(); ++f)
    row[f] = field_text(bound[f], user, movie, 0, timestamp);
  return row;
}

RawFeatures featurize(const MovieLens& data, double label_threshold) {
  FeatureOptions options;
  options.label_threshold = label_threshold;
  return featurize(data, options);
}

RawFeatures featurize(const MovieLens& data, const FeatureOptions& options) {
  TableSchema schema = movielens_schema(
      options.feature_set == "custom" ? "seed" : options.feature_set, options.label_threshold);
  if (options.feature_set == "custom")
    schema.fields = options.fields;
  for (const auto& name : options.drop_fields) {
    if (std::none_of(schema.fields.begin(), schema.fields.end(),
                     [&](const TableField& f) { return f.name == name; })) {
      throw std::invalid_argument(fmt::format("\"{}\" is not a field of the {} feature set ({})",
                                              name, options.feature_set,
                                              field_list(schema.fields)));
    }
  }
  schema.fields.erase(std::remove_if(schema.fields.begin(), schema.fields.end(),
                                     [&](const TableField& f) {
                                       return std::find(options.drop_fields.begin(),
                                                        options.drop_fields.end(),
                                                        f.name) != options.drop_fields.end();
                                     }),
                      schema.fields.end());
  if (schema.fields.empty()) {
    throw std::invalid_argument(
        fmt::format("every field of the {} feature set is dropped", options.feature_set));
  }
  return featurize(data, schema, options.drop_ratings);
}

RawFeatures featurize(const MovieLens& data, const TableSchema& schema,
                      const std::vector<int64_t>& drop_ratings) {
  if (schema.label != "Rating" || std::isnan(schema.label_threshold)) {
    throw std::invalid_argument(fmt::format(
        "a MovieLens schema's label is Rating with a threshold (got label \"{}\")", schema.label));
  }
  const std::vector<BoundField> bound = bind(schema);
  const std::size_t fields = bound.size();
  RawFeatures raw;
  for (const auto& b : bound)
    raw.fields.push_back({b.field->name, b.field->kind});
  raw.values.resize(fields);
  std::vector<Interner> interners;
  interners.reserve(fields);
  for (auto& values : raw.values)
    interners.emplace_back(values);

  // Users and movies are featurised once each; a rating's own fields once per distinct
  // derived value (its UTC month, say), found by an integer key. Each cache row holds codes
  // (and numbers) for every field; only the fields of its source are filled.
  const User no_user;
  const Movie no_movie;
  std::vector<std::size_t> numeric_of(fields, 0);  // field -> numeric column
  std::size_t numeric_fields = 0;
  for (std::size_t f = 0; f < fields; ++f) {
    if (bound[f].field->kind == FieldKind::numeric)
      numeric_of[f] = numeric_fields++;
  }
  struct Cached {
    std::vector<int32_t> codes;
    std::vector<double> numbers;
  };
  auto cache_of = [&](Source source, const User& u, const Movie& m) {
    Cached c{std::vector<int32_t>(fields, 0), std::vector<double>(numeric_fields, 0.0)};
    for (std::size_t f = 0; f < fields; ++f) {
      if (bound[f].source != source)
        continue;
      if (bound[f].field->kind == FieldKind::numeric) {
        c.numbers[numeric_of[f]] = static_cast<double>(column_number(bound[f].column, u, m, 0, 0));
      } else {
        c.codes[f] = interners[f].code(field_text(bound[f], u, m, 0, 0));
      }
    }
    return c;
  };
  std::unordered_map<int64_t, Cached> user_cache;
  for (const auto& user : data.users)
    user_cache.emplace(user.id, cache_of(Source::user, user, no_movie));
  std::unordered_map<int64_t, Cached> movie_cache;
  for (const auto& movie : data.movies)
    movie_cache.emplace(movie.id, cache_of(Source::movie, no_user, movie));
  // A rating field's code by its key: the UTC month for utc_year / utc_month, else the value.
  std::vector<std::unordered_map<int64_t, int32_t>> rating_codes(fields);

  const std::size_t n = data.ratings.size();
  raw.codes.reserve(n * fields);
  raw.numeric.reserve(n * numeric_fields);
  raw.labels.reserve(n);
  raw.user_ids.reserve(n);
  raw.movie_ids.reserve(n);
  raw.ratings.reserve(n);
  raw.timestamps.reserve(n);
  for (std::size_t r = 0; r < n; ++r) {
    const Rating& rating = data.ratings[r];
    const auto u = user_cache.find(rating.user_id);
    const auto m = movie_cache.find(rating.movie_id);
    if (u == user_cache.end() || m == movie_cache.end()) {
      throw DataError(
          fmt::format("rating {} names user {} and movie {}, one of which is not in "
                      "users.dat/movies.dat",
                      r + 1, rating.user_id, rating.movie_id));
    }
    if (std::find(drop_ratings.begin(), drop_ratings.end(), rating.rating) != drop_ratings.end())
      continue;
    for (std::size_t f = 0; f < fields; ++f) {
      const BoundField& b = bound[f];
      const bool numeric = b.field->kind == FieldKind::numeric;
      switch (b.source) {
        case Source::user:
          raw.codes.push_back(u->second.codes[f]);
          if (numeric)
            raw.numeric.push_back(u->second.numbers[numeric_of[f]]);
          break;
        case Source::movie:
          raw.codes.push_back(m->second.codes[f]);
          if (numeric)
            raw.numeric.push_back(m->second.numbers[numeric_of[f]]);
          break;
        case Source::rating: {
          const int64_t value =
              column_number(b.column, no_user, no_movie, rating.rating, rating.timestamp);
          if (numeric) {
            raw.codes.push_back(0);
            raw.numeric.push_back(static_cast<double>(value));
            break;
          }
          int64_t key = value;
          if (b.field->derive == "utc_year" || b.field->derive == "utc_month") {
            const auto [year, month] = utc_year_month(value);
            key = year * 12 + month;
          }
          auto it = rating_codes[f].find(key);
          if (it == rating_codes[f].end()) {
            const int32_t code = interners[f].code(
                field_text(b, no_user, no_movie, rating.rating, rating.timestamp));
            it = rating_codes[f].emplace(key, code).first;
          }
          raw.codes.push_back(it->second);
          break;
        }
      }
    }
    raw.labels.push_back(rating.rating >= schema.label_threshold ? 1.0f : 0.0f);
    raw.user_ids.push_back(rating.user_id);
    raw.movie_ids.push_back(rating.movie_id);
    raw.ratings.push_back(static_cast<float>(rating.rating));
    raw.timestamps.push_back(rating.timestamp);
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
