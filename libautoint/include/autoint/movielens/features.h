// The MovieLens feature sets (the seed's 13 categorical fields; the AutoInt paper's 7 fields)
// and their labels; the fitted encoding is data/vocabulary.h.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include <torch/torch.h>

#include "autoint/data/raw_features.h"
#include "autoint/data/table/reader.h"
#include "autoint/data/vocabulary.h"
#include "autoint/field_kind.h"
#include "autoint/movielens/format.h"

namespace autoint::data {

constexpr int64_t kNumFields = 13;

// user_id, gender, age, occupation, zipcode, movie_id, genre1, genre2, genre3,
// release_year, release_decade, rating_year, rating_month (the model's field order).
const std::array<std::string, kNumFields>& field_names();

// The columns of ML-1M's three files joined on UserID and MovieID, as MovieLens schemas name
// them: UserID, Gender, Age, Occupation, Zip-code (users.dat); MovieID, Title, Genres (the
// movie's genres joined by '|'), Year (the release year the reader takes from the title's
// "(YYYY)") (movies.dat); Rating, Timestamp (ratings.dat).
const std::vector<std::string>& movielens_columns();

// A feature set as a table schema over movielens_columns() (the same TableField the table
// reader takes, with the same derivations): its fields in model order, label Rating with
// `label_threshold`, user UserID, item MovieID. The seed's set: user_id (UserID), gender, age,
// occupation, zipcode, movie_id, genre1..3 (Genres, derive element 0..2), release_year (Year),
// release_decade (Year, derive decade), rating_year and rating_month (Timestamp, derive
// utc_year / utc_month). Throws std::invalid_argument for an unknown name.
TableSchema movielens_schema(const std::string& feature_set, double label_threshold = 4.0);

// The feature sets, by config name: "seed" (seed-protocol.md: the 13 categorical fields
// above) and "paper" (the AutoInt paper's MovieLens-1M fields: gender, age, occupation,
// zipcode, genres (multi-valued: all of a movie's genres), release_decade (the release
// year bucketed to its decade) and timestamp (numeric: the rating's unix time)).
const std::vector<std::string>& feature_set_names();
// The fields of a feature set, in model order. Throws std::invalid_argument for an unknown name.
std::vector<FieldSpec> feature_set_fields(const std::string& feature_set);

struct FeatureOptions {
  std::string feature_set = "seed";      // a name of feature_set_names(), or "custom" (`fields`)
  std::vector<TableField> fields;        // custom: fields over movielens_columns(), in model order
  double label_threshold = 4.0;          // rating >= threshold is a positive
  std::vector<int64_t> drop_ratings;     // rows with these ratings are left out
  std::vector<std::string> drop_fields;  // fields of the set left out (names must exist)
};

// The raw (pre-encoding) text of each field for one rating, as seed-protocol.md
// defines them: a missing genre is "none"; the decade rounds the year down; the
// rating's year and month are UTC.
using RawRow = std::array<std::string, kNumFields>;
RawRow raw_row(const User& user, const Movie& movie, int64_t timestamp);

// Throws DataError for a rating whose user or movie is missing; std::invalid_argument for
// an unknown feature set or dropped field, or when every field is dropped.
RawFeatures featurize(const MovieLens& data, const FeatureOptions& options);
// The ratings (but those with a rating in `drop_ratings`) as `schema` says: any fields over
// movielens_columns() (categorical with or without a derivation, multi-valued split at '|',
// numeric standardised), label Rating >= label_threshold; user and movie ids per row (a
// field's min_count is the vocabulary's to apply: Vocabulary::fit's min_counts). Throws
// std::invalid_argument for a column that is not a MovieLens column, a numeric field or an
// integer derivation on a text column, or another label.
RawFeatures featurize(const MovieLens& data, const TableSchema& schema,
                      const std::vector<int64_t>& drop_ratings = {});
// The seed's feature set with the given label threshold.
RawFeatures featurize(const MovieLens& data, double label_threshold);

// True for a vocabulary of the seed's 13 categorical fields (what recommending needs).
bool is_seed_vocabulary(const Vocabulary& vocabulary);

// The ids of one raw row of the seed's feature set. Throws std::logic_error for a vocabulary
// of other fields.
std::array<int64_t, kNumFields> encode_row(const Vocabulary& vocabulary, const RawRow& row);

}  // namespace autoint::data
