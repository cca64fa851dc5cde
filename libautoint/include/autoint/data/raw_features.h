// Raw (pre-encoding) features: a field's name and kind, and rows of codes into per-field
// dictionaries of raw text, numeric values and labels. No LibTorch: the parsers that produce
// them compile without it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "autoint/field_kind.h"

namespace autoint::data {

struct FieldSpec {
  std::string name;
  FieldKind kind = FieldKind::categorical;
  bool operator==(const FieldSpec& other) const { return name == other.name && kind == other.kind; }
};

// Every kept row's raw field values (MovieLens ratings: featurize(); table rows:
// read_table()). Categorical and multi-valued fields are stored as codes into per-field
// dictionaries of distinct raw strings (so a million rows are featurised without a million
// strings; a multi-valued field's text is its values joined by '|'); numeric fields as numbers
// (NaN: missing).
struct RawFeatures {
  std::vector<FieldSpec> fields;                 // model order
  std::vector<std::vector<std::string>> values;  // [field][code] -> raw text (numeric: empty)
  std::vector<int32_t> codes;                    // row-major [rows x fields] (numeric: 0)
  std::vector<double> numeric;                   // row-major [rows x numeric fields]
  std::vector<float> labels;                     // 0 or 1
  // Per row (empty for a table without a user / item column).
  std::vector<int64_t> user_ids;
  std::vector<int64_t> movie_ids;
  std::vector<float> ratings;  // the raw rating (1-5; a table's label), for baselines and reports
  std::vector<int64_t> timestamps;  // unix seconds (MovieLens; empty for a table)
  int64_t rows() const { return static_cast<int64_t>(labels.size()); }
  int64_t numeric_fields() const {
    int64_t n = 0;
    for (const auto& f : fields)
      n += f.kind == FieldKind::numeric ? 1 : 0;
    return n;
  }
};

}  // namespace autoint::data
