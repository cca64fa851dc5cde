// libFuzzer target: the delimited-text table reader (data/table/reader.h) on arbitrary bytes. The
// first byte picks the separator, the header mode, a label threshold and the chunking; the
// rest is the file. Bad input must end in DataError or ConfigError; good input must give the
// same features however it is chunked and threaded, with every code inside its dictionary.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include "autoint/data/table/reader.h"
#include "autoint/error.h"

namespace {

using autoint::FieldKind;
using autoint::data::RawFeatures;
using autoint::data::TableField;
using autoint::data::TableReadOptions;
using autoint::data::TableSchema;

TableField fuzz_field(const char* name, FieldKind kind, const char* transform = "standardize") {
  TableField f;
  f.name = name;
  f.kind = kind;
  f.transform = transform;
  if (f.transform == "bucketize") {
    f.column = "n";
    f.boundaries = {0, 2.5, 100};
  }
  return f;
}

bool read(const std::string& text, const TableSchema& schema, const TableReadOptions& options,
          RawFeatures& raw) {
  std::istringstream in(text);
  try {
    raw = autoint::data::read_table(in, "fuzz.csv", schema, nullptr, options);
    return true;
  } catch (const autoint::DataError&) {
  } catch (const autoint::ConfigError&) {
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0)
    return 0;
  const uint8_t mode = data[0];
  const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  TableSchema schema;
  schema.separator = "\t,;|"[mode & 3];
  schema.header = (mode & 4) != 0;
  if (!schema.header)
    schema.columns = {"y", "u", "c", "m", "n"};
  schema.label = "y";
  if (mode & 8)
    schema.label_threshold = 3;
  schema.user = "u";
  schema.item = "c";
  schema.fields = {fuzz_field("c", FieldKind::categorical),
                   fuzz_field("m", FieldKind::multi_categorical),
                   fuzz_field("n", FieldKind::numeric, "log"),
                   fuzz_field("nb", FieldKind::numeric, "bucketize")};
  schema.fields[1].separator = schema.separator == ';' ? ':' : ';';
  if (mode & 16)
    schema.max_rows = 3;
  if (mode & 32) {  // derived categorical fields: a unix time's UTC year, a list's second value
    TableField year = fuzz_field("year", FieldKind::categorical);
    year.column = "n";
    year.derive = "utc_year";
    TableField second = fuzz_field("second", FieldKind::categorical);
    second.column = "m";
    second.derive = "element";
    second.index = 1;
    second.separator = schema.fields[1].separator;
    schema.fields.push_back(year);
    schema.fields.push_back(second);
  }

  TableReadOptions one;
  one.threads = 1;
  one.chunk_bytes = 8192;  // more than -max_len: the whole input at once
  TableReadOptions many;
  many.threads = 3;
  many.chunk_bytes = 1 + (mode >> 5) * 7;  // records straddle chunk boundaries
  RawFeatures a, b;
  const bool ok_a = read(text, schema, one, a);
  const bool ok_b = read(text, schema, many, b);
  if (ok_a != ok_b)
    __builtin_trap();  // chunking or threads changed whether the file is accepted
  if (!ok_a)
    return 0;
  if (a.codes != b.codes || a.values != b.values || a.labels != b.labels ||
      a.user_ids != b.user_ids || a.movie_ids != b.movie_ids ||
      a.numeric.size() != b.numeric.size())
    __builtin_trap();
  const std::size_t rows = a.labels.size();
  const std::size_t fields = a.fields.size();
  if (a.codes.size() != rows * fields || a.numeric.size() != rows || a.user_ids.size() != rows ||
      a.movie_ids.size() != rows || (schema.max_rows > 0 && rows > 3))
    __builtin_trap();
  for (std::size_t r = 0; r < rows; ++r) {
    if (a.labels[r] != 0 && a.labels[r] != 1)
      __builtin_trap();
    for (std::size_t f = 0; f < fields; ++f) {
      const auto code = a.codes[r * fields + f];
      if (a.fields[f].kind != FieldKind::numeric &&
          (code < 0 || static_cast<std::size_t>(code) >= a.values[f].size()))
        __builtin_trap();
    }
    if (std::isinf(a.numeric[r]))
      __builtin_trap();
  }
  return 0;
}
