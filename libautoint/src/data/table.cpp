// The delimited-text table reader: a chunk of rows at a time, parsed on several threads into
// per-thread dictionaries that are merged in row order, so codes do not depend on threads.
#include "autoint/data/table.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string_view>
#include <thread>
#include <unordered_set>

#include <fmt/format.h>

#include "autoint/error.h"
#include "autoint/util/fnv1a.h"

namespace autoint::data {
namespace {

constexpr double kTableMissing = std::numeric_limits<double>::quiet_NaN();

// A string -> code dictionary over string_views into its own storage (open addressing, FNV-1a).
class TableInterner {
 public:
  // The code of `text`, adding it if new.
  int32_t code(std::string_view text) {
    if ((values_.size() + 1) * 2 > slots_.size())
      grow();
    const uint64_t h = hash(text);
    std::size_t i = h & (slots_.size() - 1);
    while (true) {
      const int32_t s = slots_[i];
      if (s < 0) {
        const auto c = static_cast<int32_t>(values_.size());
        values_.emplace_back(text);
        hashes_.push_back(h);
        slots_[i] = c;
        return c;
      }
      if (hashes_[static_cast<std::size_t>(s)] == h && values_[static_cast<std::size_t>(s)] == text)
        return s;
      i = (i + 1) & (slots_.size() - 1);
    }
  }
  const std::vector<std::string>& values() const { return values_; }
  std::vector<std::string>& values() { return values_; }
  void clear() {
    values_.clear();
    hashes_.clear();
    std::fill(slots_.begin(), slots_.end(), -1);
  }
  // Takes over existing values (codes 0..n-1).
  void adopt(std::vector<std::string> values) {
    clear();
    for (auto& v : values)
      code(v);
  }

 private:
  // Eight bytes at a time, multiply-xorshift mixed (values are hashed, never stored by it).
  static uint64_t hash(std::string_view text) {
    uint64_t h = 0x9e3779b97f4a7c15ull ^ text.size();
    std::size_t i = 0;
    for (; i + 8 <= text.size(); i += 8) {
      uint64_t word = 0;
      std::memcpy(&word, text.data() + i, 8);
      h = (h ^ word) * 0xff51afd7ed558ccdull;
      h ^= h >> 32;
    }
    if (i < text.size()) {
      uint64_t word = 0;
      std::memcpy(&word, text.data() + i, text.size() - i);
      h = (h ^ word) * 0xc4ceb9fe1a85ec53ull;
      h ^= h >> 32;
    }
    return h ^ (h >> 29);
  }
  void grow() {
    std::vector<int32_t> slots(std::max<std::size_t>(64, slots_.size() * 2), -1);
    for (std::size_t c = 0; c < values_.size(); ++c) {
      std::size_t i = hashes_[c] & (slots.size() - 1);
      while (slots[i] >= 0)
        i = (i + 1) & (slots.size() - 1);
      slots[i] = static_cast<int32_t>(c);
    }
    slots_.swap(slots);
  }
  std::vector<std::string> values_;
  std::vector<uint64_t> hashes_;
  std::vector<int32_t> slots_;
};

// Splits one record into field views. Unquoted fields are views into the record; quoted ones
// are unescaped into `scratch` (a deque, so that growing it moves no string a view points into; its
// strings must outlive the views). Returns an error text or empty.
std::string split_record_views(std::string_view record, char sep,
                               std::vector<std::string_view>& out,
                               std::deque<std::string>& scratch) {
  out.clear();
  std::size_t used = 0;
  std::size_t i = 0;
  const std::size_t n = record.size();
  while (true) {
    if (i < n && record[i] == '"') {
      if (used == scratch.size())
        scratch.emplace_back();
      std::string& text = scratch[used++];
      text.clear();
      ++i;
      while (true) {
        if (i >= n)
          return fmt::format("unclosed quote in column {}", out.size() + 1);
        if (record[i] == '"') {
          if (i + 1 < n && record[i + 1] == '"') {
            text += '"';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        text += record[i++];
      }
      if (i < n && record[i] != sep) {
        return fmt::format("text after the closing quote of column {}: expected the separator",
                           out.size() + 1);
      }
      out.emplace_back(text);
    } else {
      const void* found = i < n ? std::memchr(record.data() + i, sep, n - i) : nullptr;
      const std::size_t end =
          found != nullptr
              ? static_cast<std::size_t>(static_cast<const char*>(found) - record.data())
              : n;
      out.push_back(record.substr(i, end - i));
      i = end;
    }
    if (i >= n)
      return {};
    ++i;  // the separator
    if (i == n) {
      out.emplace_back();  // a trailing separator ends an empty last field
      return {};
    }
  }
}

bool parse_table_number(std::string_view text, double& value) {
  while (!text.empty() && text.front() == ' ')
    text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ')
    text.remove_suffix(1);
  if (text.empty())
    return false;
  if (text.front() == '+')
    text.remove_prefix(1);
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc() && ptr == text.data() + text.size() && std::isfinite(value);
}

// What a schema field reads: the column's index and how to turn its text into a code or value.
struct TableColumn {
  std::size_t index = 0;
  FieldKind kind = FieldKind::categorical;  // the raw features' kind (bucketize: categorical)
  bool log = false;                         // numeric log transform
  bool bucketize = false;
  bool derive = false;  // categorical with a derivation (derive_value)
  char separator = '|';
  std::string name;  // the column's name, for messages
};

// One thread's output for a range of rows of a chunk.
struct TablePart {
  // Per field (numeric: unused), kept from chunk to chunk (so that a value is copied and
  // looked up globally once per thread, not once per chunk), with each local code's global
  // code: to_global[f] covers the codes merged so far.
  std::vector<TableInterner> dictionaries;
  std::vector<std::vector<int32_t>> to_global;
  TableInterner users;
  TableInterner items;
  std::vector<int32_t> users_to_global;
  std::vector<int32_t> items_to_global;
  std::size_t output_row = 0;  // where this part's rows go in the raw features
  std::vector<int32_t> codes;  // [rows x fields], local codes
  std::vector<double> numeric;
  std::vector<float> labels;
  std::vector<int32_t> user_codes;
  std::vector<int32_t> item_codes;
  std::string error;  // the first error, with its file and line
  std::size_t error_row = SIZE_MAX;
};

// Where the complete records of buffer[from, size) end.
struct RecordScan {
  std::size_t consumed = 0;  // the first byte after the last complete record
  int64_t consumed_line = 0;
  bool quoted = false;  // the incomplete rest ends inside a quoted field
};

// Appends the complete records (line end outside quotes; a quote opens a quoted field only at
// a field's start, "" inside one is a quote) of buffer[from, size) with their first lines.
RecordScan find_records(const std::string& buffer, std::size_t from, int64_t line, char sep,
                        std::vector<std::size_t>& starts, std::vector<std::size_t>& ends,
                        std::vector<int64_t>& lines) {
  const char* data = buffer.data();
  const std::size_t n = buffer.size();
  auto add = [&](std::size_t record_start, std::size_t newline, int64_t record_line) {
    std::size_t end = newline;
    if (end > record_start && data[end - 1] == '\r')
      --end;
    if (end == record_start)
      return;  // a blank line: no record (nor a row towards data.max_rows)
    starts.push_back(record_start);
    ends.push_back(end);
    lines.push_back(record_line);
  };
  RecordScan scan{from, line, false};
  if (std::memchr(data + from, '"', n - from) == nullptr) {
    // No quotes: every line end ends a record.
    std::size_t i = from;
    while (i < n) {
      const void* nl = std::memchr(data + i, '\n', n - i);
      if (nl == nullptr)
        break;
      const auto end = static_cast<std::size_t>(static_cast<const char*>(nl) - data);
      add(i, end, scan.consumed_line);
      i = end + 1;
      scan.consumed = i;
      ++scan.consumed_line;
    }
    return scan;
  }
  bool quoted = false;
  bool field_start = true;
  std::size_t record_start = from;
  int64_t lines_seen = line;
  for (std::size_t i = from; i < n; ++i) {
    const char c = data[i];
    if (quoted) {
      if (c == '\n') {
        ++lines_seen;
      } else if (c == '"') {
        if (i + 1 < n && data[i + 1] == '"')
          ++i;
        else
          quoted = false;
      }
      continue;
    }
    if (c == '\n') {
      add(record_start, i, scan.consumed_line);
      ++lines_seen;
      record_start = i + 1;
      scan.consumed = i + 1;
      scan.consumed_line = lines_seen;
      field_start = true;
    } else if (c == sep) {
      field_start = true;
    } else {
      if (c == '"' && field_start)
        quoted = true;
      field_start = false;
    }
  }
  scan.quoted = quoted;
  return scan;
}

class TableReader {
 public:
  TableReader(const TableSchema& schema, const TableReadOptions& options, RawFeatures& raw,
              TableInfo& info)
      : schema_(schema), options_(options), raw_(raw), info_(info) {
    check_schema(schema);
    for (const auto& f : schema.fields) {
      FieldKind kind = f.kind;
      if (f.kind == FieldKind::numeric && f.transform == "bucketize")
        kind = FieldKind::categorical;
      raw_.fields.push_back({f.name, kind});
    }
    raw_.values.resize(schema.fields.size());
    dictionaries_.resize(schema.fields.size());
    threads_ = options.threads > 0
                   ? options.threads
                   : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    info_.has_users = !schema.user.empty();
    info_.has_items = !schema.item.empty();
  }

  void read(std::istream& in, const std::string& name) {
    name_ = name;
    last_row_unterminated_ = false;
    int64_t rows_before = raw_.rows();
    std::string buffer;
    std::size_t start = 0;  // first byte of buffer not yet consumed
    int64_t line = 1;       // line number of buffer[start]
    bool header_pending = schema_.header;
    if (!schema_.header)
      bind(schema_.columns);
    bool any = false;
    std::vector<std::size_t> row_starts;
    std::vector<std::size_t> row_ends;
    std::vector<int64_t> row_lines;
    bool eof = false;
    bool reserved = false;
    while (!eof && !full()) {
      // Read the next chunk after what is left of the previous one.
      buffer.erase(0, start);
      start = 0;
      const std::size_t old = buffer.size();
      buffer.resize(old + options_.chunk_bytes);
      in.read(&buffer[old], static_cast<std::streamsize>(options_.chunk_bytes));
      const auto got = static_cast<std::size_t>(in.gcount());
      buffer.resize(old + got);
      if (in.bad())
        throw DataError(fmt::format("{}: read error", name_));
      eof = got < options_.chunk_bytes;
      if (!buffer.empty())
        any = true;
      // Find the complete records (a quoted field may hold line ends).
      row_starts.clear();
      row_ends.clear();
      row_lines.clear();
      const std::size_t n = buffer.size();
      RecordScan scan =
          find_records(buffer, start, line, schema_.separator, row_starts, row_ends, row_lines);
      const std::size_t consumed = scan.consumed;
      const int64_t consumed_line = scan.consumed_line;
      take_header(buffer, row_starts, row_ends, row_lines, header_pending);
      if (!reserved && size_hint_ > 0 && !row_starts.empty() && consumed > start) {
        // Room for the whole file, estimated from the first chunk's bytes per row, so the
        // columns do not grow by copying.
        reserved = true;
        const double per_row =
            static_cast<double>(consumed - start) / static_cast<double>(row_starts.size() + 1);
        auto rows = static_cast<std::size_t>(static_cast<double>(size_hint_) / per_row * 1.02);
        if (schema_.max_rows > 0)
          rows = std::min(rows, static_cast<std::size_t>(schema_.max_rows));
        reserve(static_cast<std::size_t>(raw_.rows()) + rows);
      }
      parse(buffer, row_starts, row_ends, row_lines);
      // The last record of a file without a final line end; nothing past data.max_rows counts.
      if (eof && consumed < n && !full()) {
        if (scan.quoted) {
          throw DataError(fmt::format("{}:{}: unclosed quote: the file ends inside a quoted field",
                                      name_, consumed_line));
        }
        row_starts.clear();
        row_ends.clear();
        row_lines.clear();
        std::size_t end = n;
        if (buffer[end - 1] == '\r')
          --end;
        if (end > consumed) {
          row_starts.push_back(consumed);
          row_ends.push_back(end);
          row_lines.push_back(consumed_line);
          last_row_unterminated_ = true;
          take_header(buffer, row_starts, row_ends, row_lines, header_pending);
          parse(buffer, row_starts, row_ends, row_lines);
        }
      }
      start = eof ? n : consumed;
      line = consumed_line;
    }
    if (!any) {
      throw DataError(fmt::format("{}: empty file (expected {})", name_,
                                  schema_.header ? "a header row and data rows" : "data rows"));
    }
    if (header_pending)
      throw DataError(fmt::format("{}: no complete header row", name_));
    info_.file_rows.push_back(raw_.rows() - rows_before);
    if (raw_.rows() == rows_before && !full())
      throw DataError(fmt::format("{}: no data rows after the header", name_));
  }

  bool full() const { return schema_.max_rows > 0 && raw_.rows() >= schema_.max_rows; }

  // The next file's size in bytes, when known (0: not known).
  void set_size_hint(std::uintmax_t bytes) { size_hint_ = bytes; }

  // Calls resize_or_reserve(column, values) for each per-row column of the raw features, with
  // the values `rows` rows take (the user and item columns only when the schema has them).
  template <class F>
  void for_each_column(std::size_t rows, F&& resize_or_reserve) {
    const auto numeric = static_cast<std::size_t>(raw_.numeric_fields());
    resize_or_reserve(raw_.codes, rows * columns_.size());
    resize_or_reserve(raw_.numeric, rows * numeric);
    resize_or_reserve(raw_.labels, rows);
    resize_or_reserve(raw_.ratings, rows);
    if (user_ != SIZE_MAX)
      resize_or_reserve(raw_.user_ids, rows);
    if (item_ != SIZE_MAX)
      resize_or_reserve(raw_.movie_ids, rows);
  }

  void reserve(std::size_t rows) {
    for_each_column(rows, [](auto& column, std::size_t n) { column.reserve(n); });
  }

  // The first record, while the header is pending, names the columns; it is then removed from
  // the records.
  void take_header(const std::string& buffer, std::vector<std::size_t>& starts,
                   std::vector<std::size_t>& ends, std::vector<int64_t>& lines, bool& pending) {
    if (!pending || starts.empty())
      return;
    std::vector<std::string> names;
    std::string error;
    const std::string record(buffer, starts[0], ends[0] - starts[0]);
    if (!split_record(record, schema_.separator, names, error))
      throw DataError(fmt::format("{}:{}: header: {}", name_, lines[0], error));
    bind(names);
    pending = false;
    starts.erase(starts.begin());
    ends.erase(ends.begin());
    lines.erase(lines.begin());
  }

  void finish() {
    for (std::size_t f = 0; f < dictionaries_.size(); ++f)
      raw_.values[f] = std::move(dictionaries_[f].values());
    if (!info_.has_users)
      raw_.user_ids.clear();
    if (!info_.has_items)
      raw_.movie_ids.clear();
  }

 private:
  // Maps the schema's columns to indices in this file's columns.
  void bind(const std::vector<std::string>& names) {
    auto find = [&](const std::string& column, const std::string& role) {
      const auto it = std::find(names.begin(), names.end(), column);
      if (it == names.end()) {
        std::string list;
        for (std::size_t i = 0; i < names.size() && i < 50; ++i)
          list += (i ? ", " : "") + quoted_value(names[i], 40);
        if (names.size() > 50)
          list += fmt::format(", ... ({} in all)", names.size());
        throw ConfigError(fmt::format(
            "{}: {} column \"{}\" is not a column of {} (its {} names: {})", name_, role,
            quoted_value(column), name_, schema_.header ? "header" : "data.table.columns", list));
      }
      return static_cast<std::size_t>(it - names.begin());
    };
    width_ = names.size();
    columns_.clear();
    for (std::size_t f = 0; f < schema_.fields.size(); ++f) {
      const TableField& field = schema_.fields[f];
      TableColumn c;
      c.index =
          find(field.source_column(), fmt::format("data.table.fields[{}] ({})", f, field.name));
      c.kind = raw_.fields[f].kind;
      c.log = field.kind == FieldKind::numeric && field.transform == "log";
      c.bucketize = field.kind == FieldKind::numeric && field.transform == "bucketize";
      c.derive = field.kind == FieldKind::categorical && !field.derive.empty();
      c.separator = field.separator;
      c.name = field.source_column();
      columns_.push_back(c);
    }
    label_ = find(schema_.label, "data.table.label");
    user_ = schema_.user.empty() ? SIZE_MAX : find(schema_.user, "data.table.user");
    item_ = schema_.item.empty() ? SIZE_MAX : find(schema_.item, "data.table.item");
  }

  // Parses the chunk's rows (up to data.max_rows in all) on the threads and appends them in
  // order.
  void parse(const std::string& buffer, const std::vector<std::size_t>& starts,
             const std::vector<std::size_t>& ends, const std::vector<int64_t>& lines) {
    std::size_t rows = starts.size();
    if (schema_.max_rows > 0)
      rows = std::min(rows, static_cast<std::size_t>(schema_.max_rows - raw_.rows()));
    if (rows == 0)
      return;
    const std::size_t threads = std::min<std::size_t>(static_cast<std::size_t>(threads_),
                                                      std::max<std::size_t>(1, rows / 2048));
    parts_.resize(std::max(parts_.size(), threads));
    run_parallel(threads, [&](std::size_t t) {
      parse_range(buffer, starts, ends, lines, rows * t / threads, rows * (t + 1) / threads,
                  parts_[t]);
    });
    for (std::size_t t = 0; t < threads; ++t) {
      if (!parts_[t].error.empty())
        throw DataError(parts_[t].error);
    }
    // Global codes in row order (thread 0's new values first), so they do not depend on the
    // thread count; then every part writes its rows, translated, in parallel.
    std::size_t row = static_cast<std::size_t>(raw_.rows());
    for (std::size_t t = 0; t < threads; ++t) {
      assign_global(parts_[t]);
      parts_[t].output_row = row;
      row += parts_[t].labels.size();
    }
    for_each_column(row, [](auto& column, std::size_t n) { column.resize(n); });
    run_parallel(threads, [&](std::size_t t) { write_part(parts_[t]); });
    // A thread's dictionaries of a huge column would keep a copy of every value: start over.
    for (std::size_t t = 0; t < threads; ++t) {
      std::size_t held = 0;
      for (const auto& d : parts_[t].dictionaries)
        held += d.values().size();
      if (held > (std::size_t{1} << 21))
        reset_dictionaries(parts_[t]);
    }
  }

  // Runs job(0..n-1), the last on this thread.
  static void run_parallel(std::size_t n, const std::function<void(std::size_t)>& job) {
    std::vector<std::thread> workers;
    for (std::size_t t = 0; t + 1 < n; ++t)
      workers.emplace_back(job, t);
    job(n - 1);
    for (auto& w : workers)
      w.join();
  }

  void reset_dictionaries(TablePart& part) const {
    part.dictionaries.assign(columns_.size(), TableInterner());
    part.to_global.assign(columns_.size(), {});
    part.users.clear();
    part.items.clear();
    part.users_to_global.clear();
    part.items_to_global.clear();
  }

  void parse_range(const std::string& buffer, const std::vector<std::size_t>& starts,
                   const std::vector<std::size_t>& ends, const std::vector<int64_t>& lines,
                   std::size_t a, std::size_t b, TablePart& part) const {
    const std::size_t fields = columns_.size();
    if (part.dictionaries.size() != fields)
      reset_dictionaries(part);
    part.codes.clear();
    part.numeric.clear();
    part.labels.clear();
    part.user_codes.clear();
    part.item_codes.clear();
    part.error.clear();
    std::vector<std::string_view> cells;
    std::deque<std::string> scratch;
    std::string joined;
    for (std::size_t r = a; r < b; ++r) {
      const std::string_view record(buffer.data() + starts[r], ends[r] - starts[r]);
      const auto fail = [&](const std::string& what) {
        part.error = fmt::format("{}:{}: {}", name_, lines[r], what);
      };
      const std::string problem = split_record_views(record, schema_.separator, cells, scratch);
      if (!problem.empty()) {
        fail(problem);
        return;
      }
      const bool quoted = std::memchr(record.data(), '"', record.size()) != nullptr;
      if (cells.size() != width_) {
        std::string what = fmt::format("{} columns, expected {}", cells.size(), width_);
        if (cells.size() < width_ && r + 1 == starts.size() && last_row_unterminated_)
          what += " (the file ends in the middle of this row: is it cut short?)";
        fail(what);
        return;
      }
      for (std::size_t f = 0; f < fields; ++f) {
        const TableColumn& c = columns_[f];
        const std::string_view text = cells[c.index];
        if (c.kind == FieldKind::numeric || c.bucketize) {
          double value = kTableMissing;
          if (!text.empty() && !parse_table_number(text, value)) {
            fail(
                fmt::format("column {}: \"{}\" is not a number (expected a number, or nothing "
                            "for a missing value)",
                            c.name, quoted_value(std::string(text))));
            return;
          }
          if (c.log && value > 2) {
            const double l = std::log(value);
            value = l * l;
          }
          if (c.bucketize) {
            std::string bucket = "missing";
            if (!std::isnan(value)) {
              const auto& bounds = schema_.fields[f].boundaries;
              bucket = std::to_string(std::upper_bound(bounds.begin(), bounds.end(), value) -
                                      bounds.begin());
            }
            part.codes.push_back(part.dictionaries[f].code(bucket));
          } else {
            part.codes.push_back(0);
            part.numeric.push_back(value);
          }
        } else if (c.kind == FieldKind::multi_categorical && c.separator != '|') {
          joined.assign(text.data(), text.size());
          if (joined.find('|') != std::string::npos) {
            fail(
                fmt::format("column {}: \"{}\" holds '|', which multi-valued values cannot "
                            "contain (they are stored joined by it)",
                            c.name, quoted_value(joined)));
            return;
          }
          std::replace(joined.begin(), joined.end(), c.separator, '|');
          part.codes.push_back(part.dictionaries[f].code(joined));
        } else if (c.derive) {
          if (!derive_value(schema_.fields[f], text, joined)) {
            fail(fmt::format("column {}: \"{}\" is not an integer (field {} derives {} from it)",
                             c.name, quoted_value(std::string(text)), schema_.fields[f].name,
                             schema_.fields[f].derive));
            return;
          }
          part.codes.push_back(part.dictionaries[f].code(joined));
        } else {
          // A run's vocabulary file holds one value per line.
          if (quoted && text.find_first_of("\r\n") != std::string_view::npos) {
            fail(
                fmt::format("column {}: \"{}\" holds a line end, which a categorical value "
                            "cannot",
                            c.name, quoted_value(std::string(text))));
            return;
          }
          part.codes.push_back(part.dictionaries[f].code(text));
        }
      }
      double label = 0;
      const std::string_view label_text = cells[label_];
      if (!parse_table_number(label_text, label)) {
        fail(fmt::format("label column {}: \"{}\" is not a number", schema_.label,
                         quoted_value(std::string(label_text))));
        return;
      }
      if (std::isnan(schema_.label_threshold)) {
        if (label != 0 && label != 1) {
          fail(
              fmt::format("label column {}: {} is neither 0 nor 1 (set data.table.label_threshold "
                          "to turn other values into labels)",
                          schema_.label, quoted_value(std::string(label_text))));
          return;
        }
        part.labels.push_back(static_cast<float>(label));
      } else {
        part.labels.push_back(label >= schema_.label_threshold ? 1.0f : 0.0f);
      }
      if (user_ != SIZE_MAX)
        part.user_codes.push_back(part.users.code(cells[user_]));
      if (item_ != SIZE_MAX)
        part.item_codes.push_back(part.items.code(cells[item_]));
    }
  }

  // Gives the part's values new since its last chunk their global codes (adding them to the
  // global dictionaries in the order the part met them).
  void assign_global(TablePart& part) {
    for (std::size_t f = 0; f < columns_.size(); ++f) {
      if (columns_[f].kind == FieldKind::numeric)
        continue;
      const auto& values = part.dictionaries[f].values();
      for (std::size_t c = part.to_global[f].size(); c < values.size(); ++c)
        part.to_global[f].push_back(dictionaries_[f].code(values[c]));
    }
    for (std::size_t c = part.users_to_global.size(); c < part.users.values().size(); ++c)
      part.users_to_global.push_back(users_.code(part.users.values()[c]));
    for (std::size_t c = part.items_to_global.size(); c < part.items.values().size(); ++c)
      part.items_to_global.push_back(items_.code(part.items.values()[c]));
  }

  // Writes the part's rows, codes translated to global ones, at part.output_row.
  void write_part(const TablePart& part) {
    const std::size_t fields = columns_.size();
    const std::size_t rows = part.labels.size();
    const std::size_t numeric = part.numeric.size() / std::max<std::size_t>(rows, 1);
    const std::size_t at = part.output_row;
    int32_t* codes = raw_.codes.data() + at * fields;
    for (std::size_t r = 0; r < rows; ++r) {
      for (std::size_t f = 0; f < fields; ++f) {
        const int32_t local = part.codes[r * fields + f];
        codes[r * fields + f] = columns_[f].kind == FieldKind::numeric
                                    ? 0
                                    : part.to_global[f][static_cast<std::size_t>(local)];
      }
    }
    std::copy(part.numeric.begin(), part.numeric.end(),
              raw_.numeric.begin() + static_cast<std::ptrdiff_t>(at * numeric));
    std::copy(part.labels.begin(), part.labels.end(),
              raw_.labels.begin() + static_cast<std::ptrdiff_t>(at));
    std::copy(part.labels.begin(), part.labels.end(),
              raw_.ratings.begin() + static_cast<std::ptrdiff_t>(at));
    for (std::size_t r = 0; r < part.user_codes.size(); ++r) {
      raw_.user_ids[at + r] =
          int64_t{part.users_to_global[static_cast<std::size_t>(part.user_codes[r])]} + 1;
    }
    for (std::size_t r = 0; r < part.item_codes.size(); ++r) {
      raw_.movie_ids[at + r] =
          int64_t{part.items_to_global[static_cast<std::size_t>(part.item_codes[r])]} + 1;
    }
  }

  const TableSchema& schema_;
  const TableReadOptions& options_;
  RawFeatures& raw_;
  TableInfo& info_;
  int threads_ = 1;
  std::string name_;
  std::vector<TableColumn> columns_;
  std::size_t width_ = 0;
  std::size_t label_ = 0;
  std::size_t user_ = SIZE_MAX;
  std::size_t item_ = SIZE_MAX;
  bool last_row_unterminated_ = false;
  std::uintmax_t size_hint_ = 0;
  std::vector<TableInterner> dictionaries_;
  TableInterner users_;
  TableInterner items_;
  std::vector<TablePart> parts_;
};

TableField preset_categorical(const std::string& name, int64_t min_count) {
  TableField f;
  f.name = name;
  f.min_count = min_count;
  return f;
}

}  // namespace

bool split_record(const std::string& record, char separator, std::vector<std::string>& fields,
                  std::string& error) {
  std::vector<std::string_view> views;
  std::deque<std::string> scratch;
  error = split_record_views(record, separator, views, scratch);
  fields.assign(views.begin(), views.end());
  return error.empty();
}

const std::vector<std::string>& table_preset_names() {
  static const std::vector<std::string> names{"criteo", "avazu"};
  return names;
}

TableSchema table_preset(const std::string& name, int64_t min_count) {
  TableSchema s;
  if (name == "criteo") {
    s.separator = '\t';
    s.header = false;
    s.label = "label";
    s.columns.push_back("label");
    for (int i = 1; i <= 13; ++i) {
      TableField f;
      f.name = fmt::format("I{}", i);
      f.kind = FieldKind::numeric;
      f.transform = "log";
      s.columns.push_back(f.name);
      s.fields.push_back(f);
    }
    for (int i = 1; i <= 26; ++i) {
      s.columns.push_back(fmt::format("C{}", i));
      s.fields.push_back(preset_categorical(s.columns.back(), min_count));
    }
    return s;
  }
  if (name == "avazu") {
    s.separator = ',';
    s.header = true;
    s.label = "click";
    for (const char* column : {"hour",         "C1",
                               "banner_pos",   "site_id",
                               "site_domain",  "site_category",
                               "app_id",       "app_domain",
                               "app_category", "device_id",
                               "device_ip",    "device_model",
                               "device_type",  "device_conn_type",
                               "C14",          "C15",
                               "C16",          "C17",
                               "C18",          "C19",
                               "C20",          "C21"})
      s.fields.push_back(preset_categorical(column, min_count));
    return s;
  }
  std::string names;
  for (const auto& n : table_preset_names())
    names += (names.empty() ? "" : ", ") + n;
  throw std::invalid_argument(
      fmt::format("unknown table preset \"{}\" (expected one of: {})", quoted_value(name), names));
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

bool derive_value(const TableField& field, std::string_view text, std::string& out) {
  if (field.derive.empty()) {
    out.assign(text.data(), text.size());
    return true;
  }
  if (field.derive == "element") {
    std::size_t begin = 0;
    for (int64_t i = 0; !text.empty(); ++i) {
      const std::size_t end = text.find(field.separator, begin);
      if (i == field.index) {
        out.assign(text.substr(begin, end == std::string_view::npos ? end : end - begin));
        return true;
      }
      if (end == std::string_view::npos)
        break;
      begin = end + 1;
    }
    out = "none";
    return true;
  }
  int64_t value = 0;
  const char* first = text.data();
  const char* last = text.data() + text.size();
  if (first != last && *first == '+')
    ++first;
  const auto [ptr, ec] = std::from_chars(first, last, value);
  if (ec != std::errc() || ptr != last || first == last)
    return false;
  if (field.derive == "decade") {
    out = std::to_string(value / 10 * 10);
  } else if (field.derive == "utc_year") {
    out = std::to_string(utc_year_month(value).first);
  } else if (field.derive == "utc_month") {
    out = std::to_string(utc_year_month(value).second);
  } else {
    throw std::invalid_argument(
        fmt::format("derive \"{}\": expected element, decade, utc_year "
                    "or utc_month",
                    field.derive));
  }
  return true;
}

void check_schema(const TableSchema& s) {
  if (s.separator == '"' || s.separator == '\n' || s.separator == '\r') {
    throw ConfigError(fmt::format(
        "data.table.separator: {} cannot separate columns (expected e.g. \",\" or \"\\t\")",
        quoted_value(std::string(1, s.separator))));
  }
  if (!s.header && s.columns.empty()) {
    throw ConfigError(
        "data.table.columns: empty while data.table.header is false (expected the column names "
        "of the files, in order)");
  }
  if (s.label.empty())
    throw ConfigError("data.table.label: empty (expected the name of the label column)");
  if (s.fields.empty())
    throw ConfigError("data.table.fields: empty (expected at least one model field)");
  if (s.max_rows < 0)
    throw ConfigError(fmt::format("data.max_rows must be >= 0 (got {})", s.max_rows));
  std::unordered_set<std::string> names;
  for (std::size_t i = 0; i < s.fields.size(); ++i) {
    const TableField& f = s.fields[i];
    const std::string where = fmt::format("data.table.fields[{}] ({})", i, quoted_value(f.name));
    if (f.name.empty())
      throw ConfigError(
          fmt::format("data.table.fields[{}]: name is empty (expected a field name)", i));
    if (!names.insert(f.name).second)
      throw ConfigError(
          fmt::format("{}: a second field with this name (names must be unique)", where));
    if (f.source_column() == s.label) {
      throw ConfigError(
          fmt::format("{}: column \"{}\" is the label column (a label cannot be a feature)", where,
                      quoted_value(s.label)));
    }
    if (f.min_count < 1)
      throw ConfigError(fmt::format("{}: min_count must be >= 1 (got {})", where, f.min_count));
    // A multi-valued field's separator, and an element derivation's, split values in a cell.
    const auto check_value_separator = [&] {
      if (f.separator == s.separator || f.separator == '"' || f.separator == '\n') {
        throw ConfigError(fmt::format(
            "{}: separator {} cannot separate values (it must differ from the column separator "
            "and from quotes and line ends)",
            where, quoted_value(std::string(1, f.separator))));
      }
    };
    if (f.kind == FieldKind::multi_categorical) {
      if (f.max_width < 1)
        throw ConfigError(fmt::format("{}: max_width must be >= 1 (got {})", where, f.max_width));
      check_value_separator();
    }
    if (!f.derive.empty()) {
      if (f.kind != FieldKind::categorical) {
        throw ConfigError(fmt::format("{}: derive {} needs kind categorical (got {})", where,
                                      f.derive,
                                      f.kind == FieldKind::numeric ? "numeric" : "multi"));
      }
      if (f.derive != "element" && f.derive != "decade" && f.derive != "utc_year" &&
          f.derive != "utc_month") {
        throw ConfigError(
            fmt::format("{}: derive \"{}\" is not one of element, decade, utc_year, utc_month",
                        where, quoted_value(f.derive)));
      }
      if (f.derive == "element" && f.index < 0)
        throw ConfigError(fmt::format("{}: index must be >= 0 (got {})", where, f.index));
      if (f.derive == "element")
        check_value_separator();
    }
    if (f.kind == FieldKind::numeric) {
      if (f.transform != "standardize" && f.transform != "log" && f.transform != "bucketize") {
        throw ConfigError(
            fmt::format("{}: transform \"{}\" is not one of standardize, log, bucketize", where,
                        quoted_value(f.transform)));
      }
      if (f.transform == "bucketize") {
        if (f.boundaries.empty())
          throw ConfigError(fmt::format("{}: bucketize needs boundaries (got none)", where));
        for (std::size_t b = 1; b < f.boundaries.size(); ++b) {
          if (!(f.boundaries[b] > f.boundaries[b - 1])) {
            throw ConfigError(
                fmt::format("{}: boundaries must be strictly ascending ({} is not above {})", where,
                            f.boundaries[b], f.boundaries[b - 1]));
          }
        }
      }
    }
  }
}

DataFingerprint fingerprint(const RawFeatures& raw) {
  util::Fnv1a h;
  const auto text = [&](const std::string& t) {
    const uint64_t size = t.size();
    h.update(&size, sizeof size);
    h.update(t.data(), t.size());
  };
  for (std::size_t f = 0; f < raw.fields.size(); ++f) {
    text(raw.fields[f].name);
    text(to_string(raw.fields[f].kind));
    for (const auto& v : raw.values[f])
      text(v);
  }
  h.update(raw.codes.data(), raw.codes.size() * sizeof(int32_t));
  h.update(raw.numeric.data(), raw.numeric.size() * sizeof(double));
  h.update(raw.labels.data(), raw.labels.size() * sizeof(float));
  h.update(raw.user_ids.data(), raw.user_ids.size() * sizeof(int64_t));
  h.update(raw.movie_ids.data(), raw.movie_ids.size() * sizeof(int64_t));
  const auto distinct = [](const std::vector<int64_t>& ids) {
    return ids.empty() ? int64_t{0} : *std::max_element(ids.begin(), ids.end());
  };
  return DataFingerprint{distinct(raw.user_ids), distinct(raw.movie_ids), raw.rows(), h.hex()};
}

RawFeatures read_table(std::istream& in, const std::string& name, const TableSchema& schema,
                       TableInfo* info, const TableReadOptions& options) {
  RawFeatures raw;
  TableInfo local;
  TableInfo& out = info != nullptr ? *info : local;
  out = {};
  TableReader reader(schema, options, raw, out);
  reader.read(in, name);
  reader.finish();
  return raw;
}

RawFeatures read_table(const std::vector<std::string>& paths, const TableSchema& schema,
                       TableInfo* info, const TableReadOptions& options) {
  if (paths.empty())
    throw ConfigError("data.table.train: empty (expected a file to read)");
  RawFeatures raw;
  TableInfo local;
  TableInfo& out = info != nullptr ? *info : local;
  out = {};
  TableReader reader(schema, options, raw, out);
  for (const auto& path : paths) {
    if (reader.full())
      break;  // data.max_rows reached
    std::ifstream in(path, std::ios::binary);
    if (!in)
      throw DataError(fmt::format("{}: cannot open ({})", path, std::strerror(errno)));
    std::error_code size_error;
    const std::uintmax_t size = std::filesystem::file_size(path, size_error);
    reader.set_size_hint(size_error ? 0 : size);
    reader.read(in, path);
  }
  reader.finish();
  return raw;
}

}  // namespace autoint::data
