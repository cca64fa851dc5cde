// The delimited-text table reader: a chunk of rows at a time, parsed on several threads into
// per-thread dictionaries that are merged in row order, so codes do not depend on threads.
#include "autoint/data/table/reader.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>

#include "autoint/error.h"
#include "autoint/util/allocator.h"
#include "autoint/util/fnv1a.h"
#include "autoint/util/parallel.h"

namespace autoint::data {
namespace {

constexpr double kTableMissing = std::numeric_limits<double>::quiet_NaN();

// A string -> code dictionary (open addressing). A slot holds the value's hash, its code and,
// for values of up to 16 bytes (the common case of CTR tables: hashed ids, small counts), the
// value itself, so that a lookup reads one slot and no string.
class TableInterner {
 public:
  // The code of `text`, adding it if new.
  int32_t code(std::string_view text) { return code(text, hash(text)); }
  // As above, with the text's hash (TableInterner::hash) computed by the caller.
  int32_t code(std::string_view text, uint64_t h) {
    if ((values_.size() + 1) * 2 > slots_.size())
      grow();
    Key key{};
    const bool inline_key = text.size() <= sizeof key.bytes;
    if (inline_key && !text.empty())
      std::memcpy(key.bytes, text.data(), text.size());
    const auto size = static_cast<uint32_t>(text.size());
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t i = h & mask;; i = (i + 1) & mask) {
      Slot& slot = slots_[i];
      if (slot.code < 0) {
        const auto c = static_cast<int32_t>(values_.size());
        values_.emplace_back(text);
        slot = Slot{h, c, size, key};
        return c;
      }
      if (slot.hash == h && slot.size == size &&
          (inline_key ? slot.key == key : values_[static_cast<std::size_t>(slot.code)] == text))
        return slot.code;
    }
  }
  // Starts loading the slot where the lookup of a value with hash h begins: a row's fields
  // look their values up in as many tables, too big for the cache together, so the reader
  // asks for every field's slot before it waits for the first.
  void prefetch(uint64_t h) const {
    if (!slots_.empty())
      __builtin_prefetch(&slots_[h & (slots_.size() - 1)]);
  }
  const std::vector<std::string>& values() const { return values_; }
  std::vector<std::string>& values() { return values_; }
  void clear() {
    values_.clear();
    std::fill(slots_.begin(), slots_.end(), Slot{});
  }

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

 private:
  struct Key {
    char bytes[16];
    bool operator==(const Key& other) const {
      uint64_t a[2], b[2];
      std::memcpy(a, bytes, sizeof a);
      std::memcpy(b, other.bytes, sizeof b);
      return ((a[0] ^ b[0]) | (a[1] ^ b[1])) == 0;
    }
  };
  struct Slot {
    uint64_t hash = 0;
    int32_t code = -1;  // -1: empty
    uint32_t size = 0;
    Key key{};  // the value, zero-padded, when it has at most 16 bytes
  };
  void grow() {
    std::vector<Slot> slots(std::max<std::size_t>(64, slots_.size() * 2));
    const std::size_t mask = slots.size() - 1;
    for (const Slot& slot : slots_) {
      if (slot.code < 0)
        continue;
      std::size_t i = slot.hash & mask;
      while (slots[i].code >= 0)
        i = (i + 1) & mask;
      slots[i] = slot;
    }
    slots_.swap(slots);
  }
  std::vector<std::string> values_;
  std::vector<Slot> slots_;
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
      // Cells are short (a call to memchr per cell costs more than this loop).
      std::size_t end = i;
      while (end < n && record[end] != sep)
        ++end;
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
  bool plain = false;  // the text itself is looked up (categorical, or multi-valued split at '|')
  std::string name;    // the column's name, for messages
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
  std::vector<int32_t> codes;  // [rows x id fields], local codes
  std::vector<float> numeric;
  std::vector<float> labels;
  std::vector<int32_t> user_codes;
  std::vector<int32_t> item_codes;
  std::string error;  // the first error, with its file and line
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
  TableReader(const TableSchema& schema, const TableReadOptions& options, TableColumns& out,
              TableInfo& info)
      : schema_(schema), options_(options), out_(out), info_(info) {
    check_schema(schema);
    for (const auto& f : schema.fields) {
      FieldKind kind = f.kind;
      if (f.kind == FieldKind::numeric && f.transform == "bucketize")
        kind = FieldKind::categorical;
      out_.fields.push_back({f.name, kind});
    }
    out_.values.resize(schema.fields.size());
    id_fields_ = static_cast<std::size_t>(out_.id_fields());
    numeric_fields_ = static_cast<std::size_t>(out_.numeric_fields());
    dictionaries_.resize(schema.fields.size());
    threads_ = static_cast<int>(util::thread_count(options.threads));
    info_.has_users = !schema.user.empty();
    info_.has_items = !schema.item.empty();
  }

  void read(std::istream& in, const std::string& name) {
    name_ = name;
    last_row_unterminated_ = false;
    int64_t rows_before = out_.rows();
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
        grow(static_cast<std::size_t>(out_.rows()) + rows, /*reserve_only=*/true);
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
    info_.file_rows.push_back(out_.rows() - rows_before);
    if (out_.rows() == rows_before && !full())
      throw DataError(fmt::format("{}: no data rows after the header", name_));
  }

  bool full() const { return schema_.max_rows > 0 && out_.rows() >= schema_.max_rows; }

  // The next file's size in bytes, when known (0: not known).
  void set_size_hint(std::uintmax_t bytes) { size_hint_ = bytes; }

  // Calls resize_or_reserve(column, values) for each per-row column, with the values `rows`
  // rows take (the user and item columns only when the schema has them).
  template <class F>
  void for_each_column(std::size_t rows, F&& resize_or_reserve) {
    resize_or_reserve(out_.codes, rows * id_fields_);
    resize_or_reserve(out_.numeric, rows * numeric_fields_);
    resize_or_reserve(out_.labels, rows);
    if (user_ != SIZE_MAX)
      resize_or_reserve(out_.user_ids, rows);
    if (item_ != SIZE_MAX)
      resize_or_reserve(out_.item_ids, rows);
  }

  // Grows (or reserves) each column, advising huge pages for a newly allocated buffer.
  void grow(std::size_t rows, bool reserve_only) {
    for_each_column(rows, [&](auto& column, std::size_t n) {
      const void* before = column.data();
      if (reserve_only)
        column.reserve(n);
      else
        column.resize(n);
      if (column.data() != before)
        util::advise_huge_pages(column.data(), column.capacity() * sizeof(column[0]));
    });
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
      out_.values[f] = std::move(dictionaries_[f].values());
  }

 private:
  // Maps the schema's columns to indices in this file's columns.
  void bind(const std::vector<std::string>& names) {
    const char* where = schema_.header ? "header" : "data.table.columns";
    if (!names.empty() && names[0].rfind("\xEF\xBB\xBF", 0) == 0) {
      throw DataError(fmt::format(
          "{}: the {} starts with a UTF-8 byte-order mark (bytes EF BB BF before \"{}\"); save "
          "the file without it",
          name_, where, quoted_value(names[0].substr(3))));
    }
    // A repeated name would bind the first of them silently.
    std::unordered_map<std::string, std::size_t> first;
    for (std::size_t i = 0; i < names.size(); ++i) {
      const auto [it, inserted] = first.emplace(names[i], i);
      if (!inserted) {
        throw DataError(fmt::format(
            "{}: the {} names column \"{}\" twice (columns {} and {}); every column needs a "
            "name of its own",
            name_, where, quoted_value(names[i]), it->second + 1, i + 1));
      }
    }
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
      c.kind = out_.fields[f].kind;
      c.log = field.kind == FieldKind::numeric && field.transform == "log";
      c.bucketize = field.kind == FieldKind::numeric && field.transform == "bucketize";
      c.derive = field.kind == FieldKind::categorical && !field.derive.empty();
      c.separator = field.separator;
      c.plain = c.kind != FieldKind::numeric && !c.bucketize && !c.derive &&
                !(c.kind == FieldKind::multi_categorical && c.separator != '|');
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
      rows = std::min(rows, static_cast<std::size_t>(schema_.max_rows - out_.rows()));
    if (rows == 0)
      return;
    const std::size_t threads = std::min<std::size_t>(static_cast<std::size_t>(threads_),
                                                      std::max<std::size_t>(1, rows / 2048));
    parts_.resize(std::max(parts_.size(), threads));
    util::run_parallel(threads, [&](std::size_t t) {
      parse_range(buffer, starts, ends, lines, rows * t / threads, rows * (t + 1) / threads,
                  parts_[t]);
    });
    for (std::size_t t = 0; t < threads; ++t) {
      if (!parts_[t].error.empty())
        throw DataError(parts_[t].error);
    }
    // Global codes in row order (thread 0's new values first), so they do not depend on the
    // thread count; then every part writes its rows, translated, in parallel.
    std::size_t row = static_cast<std::size_t>(out_.rows());
    for (std::size_t t = 0; t < threads; ++t) {
      assign_global(parts_[t]);
      parts_[t].output_row = row;
      row += parts_[t].labels.size();
    }
    grow(row, /*reserve_only=*/false);
    util::run_parallel(threads, [&](std::size_t t) { write_part(parts_[t]); });
    // A thread's dictionaries of a huge column would keep a copy of every value: start over.
    for (std::size_t t = 0; t < threads; ++t) {
      std::size_t held = 0;
      for (const auto& d : parts_[t].dictionaries)
        held += d.values().size();
      if (held > (std::size_t{1} << 21))
        reset_dictionaries(parts_[t]);
    }
  }

  void reset_dictionaries(TablePart& part) const {
    part.dictionaries.assign(columns_.size(), TableInterner());
    part.to_global.assign(columns_.size(), {});
    part.users.clear();
    part.items.clear();
    part.users_to_global.clear();
    part.items_to_global.clear();
  }

  // One cell of field f: its code (id fields) or number (numeric fields) into `code` or
  // `number`. Returns what is wrong with it, or nothing.
  // `hash` is the text's TableInterner::hash when the column is plain (else unused).
  std::string take_cell(std::size_t f, std::string_view text, bool quoted, uint64_t hash,
                        TablePart& part, int32_t& code, float& number, std::string& joined) const {
    const TableColumn& c = columns_[f];
    if (c.kind == FieldKind::numeric || c.bucketize) {
      double value = kTableMissing;
      if (!text.empty() && !parse_table_number(text, value)) {
        return fmt::format(
            "column {}: \"{}\" is not a number (expected a number, or nothing for a missing "
            "value)",
            c.name, quoted_value(std::string(text)));
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
        code = part.dictionaries[f].code(bucket);
      } else {
        number = static_cast<float>(value);
      }
    } else if (c.kind == FieldKind::multi_categorical && c.separator != '|') {
      joined.assign(text.data(), text.size());
      if (joined.find('|') != std::string::npos) {
        return fmt::format(
            "column {}: \"{}\" holds '|', which multi-valued values cannot contain (they are "
            "stored joined by it)",
            c.name, quoted_value(joined));
      }
      std::replace(joined.begin(), joined.end(), c.separator, '|');
      code = part.dictionaries[f].code(joined);
    } else if (c.derive) {
      if (!derive_value(schema_.fields[f], text, joined)) {
        return fmt::format("column {}: \"{}\" is not an integer (field {} derives {} from it)",
                           c.name, quoted_value(std::string(text)), schema_.fields[f].name,
                           schema_.fields[f].derive);
      }
      code = part.dictionaries[f].code(joined);
    } else {
      // A run's vocabulary file holds one value per line.
      if (quoted && text.find_first_of("\r\n") != std::string_view::npos) {
        return fmt::format("column {}: \"{}\" holds a line end, which a categorical value cannot",
                           c.name, quoted_value(std::string(text)));
      }
      code = part.dictionaries[f].code(text, hash);
    }
    return {};
  }

  // A label cell's label, or what is wrong with it.
  std::string take_label(std::string_view text, float& label) const {
    double value = 0;
    if (!parse_table_number(text, value)) {
      return fmt::format("label column {}: \"{}\" is not a number", schema_.label,
                         quoted_value(std::string(text)));
    }
    if (std::isnan(schema_.label_threshold)) {
      if (value != 0 && value != 1) {
        return fmt::format(
            "label column {}: {} is neither 0 nor 1 (set data.table.label_threshold to turn "
            "other values into labels)",
            schema_.label, quoted_value(std::string(text)));
      }
      label = static_cast<float>(value);
    } else {
      label = value >= schema_.label_threshold ? 1.0f : 0.0f;
    }
    return {};
  }

  // Rows [a, b) of the chunk into the part, in row order; part.error names the first bad row.
  void parse_range(const std::string& buffer, const std::vector<std::size_t>& starts,
                   const std::vector<std::size_t>& ends, const std::vector<int64_t>& lines,
                   std::size_t a, std::size_t b, TablePart& part) const {
    if (part.dictionaries.size() != columns_.size())
      reset_dictionaries(part);
    part.error.clear();
    part.codes.clear();
    part.numeric.clear();
    part.labels.clear();
    part.user_codes.clear();
    part.item_codes.clear();
    std::vector<std::string_view> cells;
    std::deque<std::string> scratch;
    std::string joined;
    std::vector<uint64_t> hashes(columns_.size(), 0);
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
      for (std::size_t f = 0; f < columns_.size(); ++f) {
        if (columns_[f].plain) {
          hashes[f] = TableInterner::hash(cells[columns_[f].index]);
          part.dictionaries[f].prefetch(hashes[f]);
        }
      }
      for (std::size_t f = 0; f < columns_.size(); ++f) {
        int32_t code = 0;
        float number = 0;
        const std::string what =
            take_cell(f, cells[columns_[f].index], quoted, hashes[f], part, code, number, joined);
        if (!what.empty()) {
          fail(what);
          return;
        }
        if (columns_[f].kind == FieldKind::numeric)
          part.numeric.push_back(number);
        else
          part.codes.push_back(code);
      }
      float label = 0;
      const std::string what = take_label(cells[label_], label);
      if (!what.empty()) {
        fail(what);
        return;
      }
      part.labels.push_back(label);
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
    const std::size_t ids = id_fields_;
    const std::size_t rows = part.labels.size();
    const std::size_t at = part.output_row;
    // The id fields' translations, in slot order.
    std::vector<const int32_t*> to_global;
    for (std::size_t f = 0; f < columns_.size(); ++f) {
      if (columns_[f].kind != FieldKind::numeric)
        to_global.push_back(part.to_global[f].data());
    }
    const int32_t* local = part.codes.data();
    int32_t* codes = out_.codes.data() + at * ids;
    for (std::size_t i = 0; i < rows * ids; i += ids) {
      for (std::size_t f = 0; f < ids; ++f)
        codes[i + f] = to_global[f][local[i + f]];
    }
    std::copy(part.numeric.begin(), part.numeric.end(),
              out_.numeric.begin() + static_cast<std::ptrdiff_t>(at * numeric_fields_));
    std::copy(part.labels.begin(), part.labels.end(),
              out_.labels.begin() + static_cast<std::ptrdiff_t>(at));
    for (std::size_t r = 0; r < part.user_codes.size(); ++r) {
      out_.user_ids[at + r] =
          int64_t{part.users_to_global[static_cast<std::size_t>(part.user_codes[r])]} + 1;
    }
    for (std::size_t r = 0; r < part.item_codes.size(); ++r) {
      out_.item_ids[at + r] =
          int64_t{part.items_to_global[static_cast<std::size_t>(part.item_codes[r])]} + 1;
    }
  }

  const TableSchema& schema_;
  const TableReadOptions& options_;
  TableColumns& out_;
  TableInfo& info_;
  std::size_t id_fields_ = 0;
  std::size_t numeric_fields_ = 0;
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

int64_t TableColumns::id_fields() const {
  int64_t n = 0;
  for (const auto& f : fields)
    n += f.kind == FieldKind::numeric ? 0 : 1;
  return n;
}

int64_t TableColumns::numeric_fields() const {
  return static_cast<int64_t>(fields.size()) - id_fields();
}

DataFingerprint fingerprint(const TableColumns& columns) {
  util::Fnv1a h;
  const auto text = [&](const std::string& t) {
    const uint64_t size = t.size();
    h.update(&size, sizeof size);
    h.update(t.data(), t.size());
  };
  for (std::size_t f = 0; f < columns.fields.size(); ++f) {
    text(columns.fields[f].name);
    text(to_string(columns.fields[f].kind));
    for (const auto& v : columns.values[f])
      text(v);
  }
  h.update(columns.codes.data(), columns.codes.size() * sizeof(int32_t));
  h.update(columns.numeric.data(), columns.numeric.size() * sizeof(float));
  h.update(columns.labels.data(), columns.labels.size() * sizeof(float));
  h.update(columns.user_ids.data(), columns.user_ids.size() * sizeof(int64_t));
  h.update(columns.item_ids.data(), columns.item_ids.size() * sizeof(int64_t));
  const auto distinct = [](const util::UninitVector<int64_t>& ids) {
    return ids.empty() ? int64_t{0} : *std::max_element(ids.begin(), ids.end());
  };
  return DataFingerprint{distinct(columns.user_ids), distinct(columns.item_ids), columns.rows(),
                         h.hex()};
}

TableColumns read_table_columns(std::istream& in, const std::string& name,
                                const TableSchema& schema, TableInfo* info,
                                const TableReadOptions& options) {
  TableColumns columns;
  TableInfo local;
  TableInfo& out = info != nullptr ? *info : local;
  out = {};
  TableReader reader(schema, options, columns, out);
  reader.read(in, name);
  reader.finish();
  return columns;
}

TableColumns read_table_columns(const std::vector<std::string>& paths, const TableSchema& schema,
                                TableInfo* info, const TableReadOptions& options) {
  if (paths.empty())
    throw ConfigError("data.table.train: empty (expected a file to read)");
  TableColumns columns;
  TableInfo local;
  TableInfo& out = info != nullptr ? *info : local;
  out = {};
  TableReader reader(schema, options, columns, out);
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
  return columns;
}

RawFeatures to_raw_features(TableColumns columns) {
  RawFeatures raw;
  const auto rows = static_cast<std::size_t>(columns.rows());
  const std::size_t fields = columns.fields.size();
  const auto ids = static_cast<std::size_t>(columns.id_fields());
  raw.codes.assign(rows * fields, 0);
  for (std::size_t r = 0; r < rows; ++r) {
    std::size_t id = 0;
    for (std::size_t f = 0; f < fields; ++f) {
      if (columns.fields[f].kind != FieldKind::numeric)
        raw.codes[r * fields + f] = columns.codes[r * ids + id++];
    }
  }
  raw.numeric.assign(columns.numeric.begin(), columns.numeric.end());
  raw.fields = std::move(columns.fields);
  raw.values = std::move(columns.values);
  raw.labels.assign(columns.labels.begin(), columns.labels.end());
  raw.ratings = raw.labels;
  raw.user_ids.assign(columns.user_ids.begin(), columns.user_ids.end());
  raw.movie_ids.assign(columns.item_ids.begin(), columns.item_ids.end());
  return raw;
}

RawFeatures read_table(std::istream& in, const std::string& name, const TableSchema& schema,
                       TableInfo* info, const TableReadOptions& options) {
  return to_raw_features(read_table_columns(in, name, schema, info, options));
}

RawFeatures read_table(const std::vector<std::string>& paths, const TableSchema& schema,
                       TableInfo* info, const TableReadOptions& options) {
  return to_raw_features(read_table_columns(paths, schema, info, options));
}

}  // namespace autoint::data
