// Schema-driven tabular sources: delimited text files (CSV, TSV, any one-byte separator, RFC
// 4180 quoting) read into raw features by a schema, and the public CTR formats as presets.
#pragma once

#include <cstdint>
#include <istream>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "autoint/data/fingerprint.h"
#include "autoint/data/raw_features.h"
#include "autoint/field_kind.h"
#include "autoint/util/allocator.h"

namespace autoint::data {

// One model field of a table: which column it comes from and how it is represented.
struct TableField {
  std::string name;    // the model's field name (unique in a schema)
  std::string column;  // the source column; empty: the same as name
  // categorical: the column's text is the value (empty text is a value of its own, "missing");
  // multi_categorical: the text is a list of values split at `separator`;
  // numeric: the text is a number (empty: missing, encoded as the training mean).
  FieldKind kind = FieldKind::categorical;
  // categorical and multi-valued: values seen fewer times than this in the training rows map
  // to the out-of-vocabulary id 0 (the AutoInt paper uses 10 on Criteo and Avazu).
  int64_t min_count = 1;
  char separator = '|';    // multi-valued: between a row's values
  int64_t max_width = 32;  // multi-valued: a row keeps at most this many values
  // numeric: "standardize" (the value, standardised with the training rows' mean and standard
  // deviation), "log" (log(x)^2 for x > 2, else x, as the Criteo winners and the AutoInt paper
  // transform counts, then standardised) or "bucketize" (the field becomes categorical: the
  // index of the bucket of `boundaries` the value falls in, x < boundaries[0] is bucket 0;
  // missing is a value of its own).
  std::string transform = "standardize";
  std::vector<double> boundaries;  // bucketize: strictly ascending, at least one
  // categorical: the value derived from the column's text (derive_value): "" (the text
  // itself), "element" (the `index`-th value of the text split at `separator`), "decade",
  // "utc_year" or "utc_month". The MovieLens feature sets use all four (movielens_schema).
  std::string derive;
  int64_t index = 0;  // element: 0 is the first value

  const std::string& source_column() const { return column.empty() ? name : column; }
};

// The categorical value `field.derive` makes of a column's text, into `out`: "element", the
// field.index-th value of the text split at field.separator, or "none" when the list is shorter
// (the seed's genre2 of a one-genre movie); "decade", the integer rounded down to a multiple of
// 10 ("1995" -> "1990"); "utc_year" and "utc_month", the year and month (1-12) in UTC of a unix
// time in seconds. Returns false (out unspecified) when the text is not the integer that
// "decade", "utc_year" or "utc_month" needs. Without a derivation, out is the text.
bool derive_value(const TableField& field, std::string_view text, std::string& out);

// Year and month (1-12) of a unix timestamp in UTC.
std::pair<int64_t, int64_t> utc_year_month(int64_t timestamp);

// How to read a table and which of its columns are what.
struct TableSchema {
  char separator = ',';
  // The first row of each file names the columns. Without a header, `columns` does.
  bool header = true;
  std::vector<std::string> columns;
  std::string label;  // the label column
  // When set (not NaN), label = (value >= threshold); otherwise the label must be 0 or 1.
  double label_threshold = std::numeric_limits<double>::quiet_NaN();
  // Optional grouping columns: `user` turns on the per-user ranking metrics; `item` the
  // per-item baselines. They are ids only; list them in `fields` too to use them as features.
  std::string user;
  std::string item;
  std::vector<TableField> fields;  // model order
  int64_t max_rows = 0;            // read at most this many rows in all; 0: every row
};

// The named presets (schemas of public CTR data sets): "criteo" (the Criteo Display Advertising
// Challenge's train.txt: tab-separated, no header, label, I1..I13 integer counts with the log
// transform, C1..C26 hashed categorical values; empty = missing) and "avazu" (train.csv: comma-
// separated with a header; click is the label; id (unique per row) is left out; the other 22
// columns, hour included, categorical). `min_count` goes to every categorical field.
const std::vector<std::string>& table_preset_names();
// Throws std::invalid_argument for an unknown name.
TableSchema table_preset(const std::string& name, int64_t min_count);

// Checks a schema on its own (no file): fields with a name, unique names, a label column, a
// known numeric transform, ascending bucket boundaries, min_count >= 1, max_width >= 1, a
// separator that is not a quote or a line end, no header and no columns. Throws ConfigError
// naming the field ("data.table.fields[2] (C3): ...").
void check_schema(const TableSchema& schema);

struct TableReadOptions {
  int threads = 0;                      // parsing threads; 0: the hardware's
  std::size_t chunk_bytes = 16u << 20;  // bytes read (and parsed in parallel) at a time
};

// What read_table returns beside the features: rows per file (for a split by files).
struct TableInfo {
  std::vector<int64_t> file_rows;
  bool has_users = false;  // raw.user_ids holds the user column's ids (else it is empty)
  bool has_items = false;  // raw.movie_ids holds the item column's ids (else it is empty)
};

// A table as the reader holds it: the model's compact layout, before encoding. Codes (int32)
// of the id fields (categorical, multi-valued and bucketized numeric fields, in schema order)
// into per-field dictionaries of the text met, numeric values as float32 (transformed, not yet
// standardised; NaN: missing), labels, and ids (1, 2, ... in order of first appearance) of the
// user and item columns when the schema has them. encode_table (data/table/encoding.h) turns
// it into the model's tensors in place.
// The per-row buffers are written once, in parallel: they are not zeroed when they grow.
struct TableColumns {
  std::vector<FieldSpec> fields;                 // schema order (bucketized: categorical)
  std::vector<std::vector<std::string>> values;  // [field][code] -> text (numeric: empty)
  util::UninitVector<int32_t> codes;             // row-major [rows x id fields]
  util::UninitVector<float> numeric;             // row-major [rows x numeric fields]
  util::UninitVector<float> labels;              // 0 or 1
  util::UninitVector<int64_t> user_ids;          // per row; empty without a user column
  util::UninitVector<int64_t> item_ids;          // per row; empty without an item column
  int64_t rows() const { return static_cast<int64_t>(labels.size()); }
  int64_t id_fields() const;
  int64_t numeric_fields() const;
};

// Reads the files, in order, as one table with `schema`. Streams each file a chunk at a time,
// parsed on `threads` threads into per-thread dictionaries merged in row order: codes are the
// same for any thread count and chunk size. Large columns are backed by transparent huge pages
// where the system offers them.
// Throws DataError naming the file, line and column, the value, and what was expected: a row
// with too few or too many columns, a non-number in a numeric or label column, a label that is
// not 0/1 without a threshold, an unclosed quote, an empty file, a missing file. Throws
// ConfigError when a column of the schema is not in a file's header (naming the header's
// columns) or the schema is bad (check_schema).
TableColumns read_table_columns(const std::vector<std::string>& paths, const TableSchema& schema,
                                TableInfo* info = nullptr, const TableReadOptions& options = {});

// As read_table_columns, from a stream named `name` in messages (one file).
TableColumns read_table_columns(std::istream& in, const std::string& name,
                                const TableSchema& schema, TableInfo* info = nullptr,
                                const TableReadOptions& options = {});

// The columns as raw features (the form Vocabulary::fit and the MovieLens featurizer share):
// a code per field (numeric: 0), numeric values as double, raw.ratings = raw.labels,
// raw.movie_ids = the item ids.
RawFeatures to_raw_features(TableColumns columns);

// read_table_columns, as raw features.
RawFeatures read_table(const std::vector<std::string>& paths, const TableSchema& schema,
                       TableInfo* info = nullptr, const TableReadOptions& options = {});
RawFeatures read_table(std::istream& in, const std::string& name, const TableSchema& schema,
                       TableInfo* info = nullptr, const TableReadOptions& options = {});

// The fingerprint a run's manifest records for a table: users and movies count the distinct
// user and item ids (0 without those columns), ratings the rows; the hash covers the fields,
// their values, every row's codes, numeric values and label.
DataFingerprint fingerprint(const TableColumns& columns);

// Splits one record of delimited text (no line end) into fields per RFC 4180: a field that
// starts with a quote runs to the matching quote, "" inside it is one quote. Returns false (and
// leaves `error` set) for an unclosed quote or text after a closing quote.
bool split_record(const std::string& record, char separator, std::vector<std::string>& fields,
                  std::string& error);

}  // namespace autoint::data
