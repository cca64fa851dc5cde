// The seed's 13 categorical fields and label, and the per-field vocabulary (label encoding).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include <torch/torch.h>

#include "autoint/data/movielens.h"

namespace autoint::data {

constexpr int64_t kNumFields = 13;

// user_id, gender, age, occupation, zipcode, movie_id, genre1, genre2, genre3,
// release_year, release_decade, rating_year, rating_month (the model's field order).
const std::array<std::string, kNumFields>& field_names();

// The raw (pre-encoding) text of each field for one rating, as seed-protocol.md
// defines them: a missing genre is "none"; the decade rounds the year down; the
// rating's year and month are UTC.
using RawRow = std::array<std::string, kNumFields>;
RawRow raw_row(const User& user, const Movie& movie, int64_t timestamp);

// Year and month (1-12) of a unix timestamp in UTC.
std::pair<int64_t, int64_t> utc_year_month(int64_t timestamp);

// Every rating row's raw field values, stored as codes into per-field dictionaries of
// distinct raw strings (so a million rows are featurised without a million strings).
struct RawFeatures {
  std::array<std::vector<std::string>, kNumFields> values;  // [field][code] -> raw text
  std::vector<int32_t> codes;                               // row-major [rows x fields]
  std::vector<float> labels;                                // 1 if rating >= threshold
  std::vector<int64_t> user_ids;
  std::vector<int64_t> movie_ids;
  std::vector<float> ratings;  // the raw rating (1-5), for baselines and reports
  int64_t rows() const { return static_cast<int64_t>(labels.size()); }
};

RawFeatures featurize(const MovieLens& data, double label_threshold);

// Label encoding per field, fitted on training rows: id 0 is the out-of-vocabulary
// id, known values get 1..n in sorted order of their text. Saved with a model so that
// inference maps raw values exactly as training did.
class Vocabulary {
 public:
  Vocabulary() = default;

  // Fits on the given rows of `raw` (the training split).
  static Vocabulary fit(const RawFeatures& raw, const std::vector<int64_t>& rows);

  // Ids per field including the OOV id: the embedding table sizes.
  std::vector<int64_t> cardinalities() const;

  // The id of a raw value (0 if unseen in training). Throws std::out_of_range for a bad field.
  int64_t id(int64_t field, const std::string& raw) const;

  // [rows.size(), kNumFields] int64 ids of the given rows.
  torch::Tensor encode(const RawFeatures& raw, const std::vector<int64_t>& rows) const;

  // [1, kNumFields] int64 ids of one raw row.
  std::array<int64_t, kNumFields> encode(const RawRow& row) const;

  // Text format: a header line "autoint-vocabulary 1", then per field a line
  // "field <name> <count>" followed by <count> lines of raw values (id 1..count).
  // Throws RunError on I/O failure or a malformed/truncated file, naming file and line.
  void save(const std::string& path) const;
  static Vocabulary load(const std::string& path);

  bool operator==(const Vocabulary& other) const { return values_ == other.values_; }

 private:
  void build_index();
  std::array<std::vector<std::string>, kNumFields> values_;  // id - 1 -> raw text
  std::array<std::unordered_map<std::string, int64_t>, kNumFields> index_;
};

}  // namespace autoint::data
