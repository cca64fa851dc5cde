// The fitted encoding of raw features: label-encoding vocabulary and numeric normalisation.
#pragma once

#include <cmath>
#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <torch/torch.h>

#include "autoint/data/raw_features.h"
#include "autoint/field_kind.h"

namespace autoint::data {

// The fitted encoding of raw features (any source: MovieLens feature sets, tables), fitted on
// training rows and saved with a model so that inference maps raw values exactly as training
// did. Categorical fields: label encoding, id 0 for values unseen in training, known values
// 1..n in sorted order of their text. Multi-valued fields: the same per value; a row's ids
// are padded with 0 to the field's width (the most values a training row has, at most
// `max_width`; longer lists are cut). Numeric fields: standardised with the training rows'
// mean and standard deviation.
// The mean and (population) standard deviation of each of `count` numeric columns over `rows`
// rows, missing values (NaN) left out (0 and 0 for a column without any): two passes in row
// order, the mean and then the squared deviations, for accuracy on unix times. `row(i)` points
// at the i-th row's `count` values (float or double). Vocabulary::fit and encode_table both
// standardise with it.
template <class Row>
std::pair<std::vector<double>, std::vector<double>> numeric_moments(std::size_t rows,
                                                                    std::size_t count,
                                                                    const Row& row) {
  std::vector<double> sums(count, 0.0), squares(count, 0.0), means(count, 0.0), stds(count, 0.0);
  std::vector<int64_t> present(count, 0);
  if (count == 0)
    return {means, stds};
  for (std::size_t r = 0; r < rows; ++r) {
    const auto* v = row(r);
    for (std::size_t n = 0; n < count; ++n) {
      if (!std::isnan(v[n])) {
        sums[n] += v[n];
        ++present[n];
      }
    }
  }
  for (std::size_t n = 0; n < count; ++n)
    means[n] = present[n] == 0 ? 0.0 : sums[n] / static_cast<double>(present[n]);
  for (std::size_t r = 0; r < rows; ++r) {
    const auto* v = row(r);
    for (std::size_t n = 0; n < count; ++n) {
      if (!std::isnan(v[n]))
        squares[n] += (v[n] - means[n]) * (v[n] - means[n]);
    }
  }
  for (std::size_t n = 0; n < count; ++n)
    stds[n] = present[n] == 0 ? 0.0 : std::sqrt(squares[n] / static_cast<double>(present[n]));
  return {means, stds};
}

class Vocabulary {
 public:
  Vocabulary() = default;

  // Fits on the given rows of `raw` (the training split). A multi-valued field is at most
  // `max_width` ids wide (data.max_multi_values): one row with thousands of values would
  // otherwise make every row that wide. When a row has more, a line naming the field, the
  // count and the row's user and movie is added to `notes` (when given).
  // `min_counts` (one per field, or empty for 1 each): a categorical or multi-valued field's
  // values seen in fewer training rows than its entry map to id 0. A numeric field's missing
  // values (NaN) are left out of its mean and standard deviation and encode as 0 (the mean).
  static Vocabulary fit(const RawFeatures& raw, const std::vector<int64_t>& rows,
                        int64_t max_width = 32, std::vector<std::string>* notes = nullptr,
                        const std::vector<int64_t>& min_counts = {});

  // What fit counts over its rows, for a source that counts its own (encode_table).
  struct Counts {
    // [field][code] (categorical and multi-valued; empty for numeric): the rows holding the
    // code, and the first of them (-1: none; it names the row in a note).
    std::vector<std::vector<int64_t>> seen;
    std::vector<std::vector<int64_t>> first_row;
    // [field] (numeric; else unused): mean and standard deviation of the present values
    // (0 and 0 when none is).
    std::vector<double> means;
    std::vector<double> stds;
  };
  // The vocabulary fit makes of its counts: `values` are the fields' dictionaries (as
  // RawFeatures::values), `row_name(r)` names row r in a note about a cut multi-valued field.
  static Vocabulary from_counts(const std::vector<FieldSpec>& fields,
                                const std::vector<std::vector<std::string>>& values,
                                const Counts& counts, int64_t max_width,
                                std::vector<std::string>* notes,
                                const std::vector<int64_t>& min_counts,
                                const std::function<std::string(int64_t)>& row_name);

  const std::vector<FieldSpec>& fields() const { return fields_; }
  std::vector<FieldKind> kinds() const;
  // Embedding table rows per field: ids including 0; 1 for a numeric field.
  std::vector<int64_t> cardinalities() const;
  // Id columns per field: 1 (categorical), the width (multi-valued), 0 (numeric).
  std::vector<int64_t> widths() const;
  // The first of a field's id columns in encode()'s ids (the widths of the fields before it).
  int64_t id_column(std::size_t field) const;

  // The id of a raw value of a categorical field or one value of a multi-valued field (0
  // if unseen in training). Throws std::out_of_range for a bad or numeric field.
  int64_t id(int64_t field, const std::string& raw) const;
  // The raw value of id `id` (>= 1) of a categorical or multi-valued field. Throws
  // std::out_of_range for a bad field or id.
  const std::string& value(int64_t field, int64_t id) const {
    return values_.at(static_cast<std::size_t>(field)).at(static_cast<std::size_t>(id - 1));
  }

  // The ids of each of a field's raw values (a dictionary, as RawFeatures::values[field]):
  // [values.size() x width] (a multi-valued value's ids padded with 0 and cut to the width).
  // Throws std::out_of_range for a bad or numeric field.
  std::vector<int64_t> value_ids(int64_t field, const std::vector<std::string>& values) const;

  // A numeric field's value, standardised with the training mean and standard deviation (NaN,
  // missing: 0, the mean).
  float standardized(std::size_t field, double value) const {
    return std::isnan(value) ? 0.0f : static_cast<float>((value - means_[field]) / stds_[field]);
  }

  struct Encoded {
    torch::Tensor ids;      // [rows, sum(widths)] int64
    torch::Tensor numeric;  // [rows, numeric fields] float32 (standardised)
  };
  // The given rows, encoded. Throws std::invalid_argument if `raw` has other fields.
  Encoded encode(const RawFeatures& raw, const std::vector<int64_t>& rows) const;

  // Text format: a header line "autoint-vocabulary 2", a line "fields <count>", then per
  // field "field <name> categorical <count>" or "field <name> multi <count> <width>",
  // each followed by <count> lines of raw values (id 1..count), or "field <name> numeric
  // <mean> <std>". Version 1 files ("field <name> <count>", categorical fields only) have no
  // field list: they load with `version1_fields` (the fields they were written for, in order;
  // experiment/run_dir.h passes the seed's 13), and without it are a RunError.
  // Throws RunError on I/O failure or a malformed/truncated file, naming file and line.
  void save(const std::string& path) const;
  static Vocabulary load(const std::string& path,
                         const std::vector<FieldSpec>& version1_fields = {});

  bool operator==(const Vocabulary& other) const {
    return fields_ == other.fields_ && values_ == other.values_ && widths_ == other.widths_ &&
           means_ == other.means_ && stds_ == other.stds_;
  }

 private:
  void build_index();
  std::vector<FieldSpec> fields_;
  std::vector<std::vector<std::string>> values_;  // [field] id - 1 -> raw text
  std::vector<std::unordered_map<std::string, int64_t>> index_;
  std::vector<int64_t> widths_;  // [field] multi-valued width, else 0
  std::vector<double> means_;    // [field] numeric mean, else 0
  std::vector<double> stds_;     // [field] numeric standard deviation, else 1
};

}  // namespace autoint::data
