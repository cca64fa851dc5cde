// In-place encoding of a table's columns: count, move the rows to their splits, map, wrap.
#include "autoint/data/table/encoding.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <numeric>
#include <stdexcept>
#include <tuple>

#include <fmt/format.h>

#include "autoint/util/allocator.h"
#include "autoint/util/parallel.h"

namespace autoint::data {
namespace {

// A slice of a per-row buffer to move: `bytes` bytes of every row, row k's at data + k * stride
// (a whole column from row_buffer, a thread's share of it from share_out).
struct RowSlice {
  char* data = nullptr;
  std::size_t stride = 0;
  std::size_t bytes = 0;
};

template <class T>
RowSlice row_buffer(util::UninitVector<T>& column, std::size_t rows) {
  if (column.empty() || rows == 0)
    return {};
  const std::size_t size = column.size() / rows * sizeof(T);
  return {reinterpret_cast<char*>(column.data()), size, size};
}

// Each row's split (0 train, 1 validation, 2 test), from the split's lists; throws
// std::invalid_argument unless they list every row of the table once.
std::vector<uint8_t> split_parts(const Split& split, std::size_t rows) {
  const std::size_t listed = split.train.size() + split.validation.size() + split.test.size();
  if (listed != rows) {
    throw std::invalid_argument(fmt::format(
        "the split lists {} rows for a table of {} rows (expected each row once)", listed, rows));
  }
  constexpr uint8_t kUnlisted = 3;
  std::vector<uint8_t> parts(rows, kUnlisted);
  uint8_t p = 0;
  for (const auto* list : {&split.train, &split.validation, &split.test}) {
    for (int64_t r : *list) {
      if (r < 0 || static_cast<std::size_t>(r) >= rows ||
          parts[static_cast<std::size_t>(r)] != kUnlisted) {
        throw std::invalid_argument(
            fmt::format("the split's rows are not a partition of the table's {} rows (row {} is "
                        "out of range or listed twice)",
                        rows, r));
      }
      parts[static_cast<std::size_t>(r)] = p;
    }
    ++p;
  }
  return parts;
}

// Moves the rows of `parts` [begin, end) whose part is `front` before the others by swapping
// misplaced pairs, the first misplaced row from the front with the last from the back (Hoare's
// partition; a row in place never moves, a row moves at most once); swap(i, j) exchanges rows
// i and j. Returns the end of the front rows.
template <class Swap>
std::size_t move_to_front(std::vector<uint8_t>& parts, std::size_t begin, std::size_t end,
                          uint8_t front, const Swap& swap) {
  std::size_t i = begin, j = end;
  while (true) {
    while (i < j && parts[i] == front)
      ++i;
    while (i < j && parts[j - 1] != front)
      --j;
    if (i == j)
      return i;
    --j;  // parts[i] is not `front`, parts[j] is: i < j
    swap(i, j);
    std::swap(parts[i], parts[j]);
    ++i;
  }
}

// Orders the rows train, validation, test (the order encode_table leaves them in).
template <class Swap>
void partition_rows(std::vector<uint8_t> parts, const Swap& swap) {
  const std::size_t train_end = move_to_front(parts, 0, parts.size(), 0, swap);
  move_to_front(parts, train_end, parts.size(), 1, swap);
}

// Shares the buffers' row bytes out among `threads` slice lists of about equal width, cutting
// buffers at multiples of 4 bytes (every column's element is 4 or 8 bytes wide).
std::vector<std::vector<RowSlice>> share_out(const std::vector<RowSlice>& buffers,
                                             std::size_t threads) {
  std::size_t words = 0;
  for (const RowSlice& b : buffers)
    words += b.bytes / 4;
  threads = std::max<std::size_t>(1, std::min(threads, words));
  std::vector<std::vector<RowSlice>> out(threads);
  std::size_t b = 0, done = 0;  // the next words to hand out: buffer b from its word `done`
  for (std::size_t t = 0; t < threads; ++t) {
    const auto [first, end] = util::share_of(words, t, threads);
    std::size_t left = end - first;  // thread t's share
    while (left > 0) {
      const std::size_t take = std::min(left, buffers[b].bytes / 4 - done);
      out[t].push_back({buffers[b].data + done * 4, buffers[b].stride, take * 4});
      left -= take;
      done += take;
      if (done == buffers[b].bytes / 4) {
        ++b;
        done = 0;
      }
    }
  }
  return out;
}

// Exchanges rows i and j of every slice (through `scratch`, as wide as the widest slice).
void swap_rows(const std::vector<RowSlice>& slices, std::size_t i, std::size_t j,
               std::vector<char>& scratch) {
  for (const RowSlice& s : slices) {
    char* a = s.data + i * s.stride;
    char* b = s.data + j * s.stride;
    std::memcpy(scratch.data(), a, s.bytes);
    std::memcpy(a, b, s.bytes);
    std::memcpy(b, scratch.data(), s.bytes);
  }
}

// The first code outside its field's dictionary met while counting: its row (in table order)
// and id field.
struct BadCode {
  std::size_t row = SIZE_MAX;
  std::size_t field = SIZE_MAX;
};

// A tensor over the vector's buffer (no copy); the tensor owns it from now on.
template <class T>
torch::Tensor adopt(util::UninitVector<T>&& column, torch::IntArrayRef sizes,
                    torch::ScalarType type) {
  if (column.empty())  // nothing to own (from_blob would not call the deleter on null data)
    return torch::empty(sizes, torch::TensorOptions().dtype(type));
  auto* owner = new util::UninitVector<T>(std::move(column));
  return torch::from_blob(
      owner->data(), sizes, [owner](void*) { delete owner; }, torch::TensorOptions().dtype(type));
}

}  // namespace

std::vector<int64_t> encoded_row_order(const Split& split) {
  std::vector<uint8_t> parts =
      split_parts(split, split.train.size() + split.validation.size() + split.test.size());
  std::vector<int64_t> order(parts.size());
  std::iota(order.begin(), order.end(), 0);
  partition_rows(std::move(parts),
                 [&](std::size_t i, std::size_t j) { std::swap(order[i], order[j]); });
  return order;
}

EncodedTable encode_table(TableColumns&& columns, const Split& split,
                          const TableEncodingOptions& options) {
  const std::size_t rows = static_cast<std::size_t>(columns.rows());
  const std::size_t fields = columns.fields.size();
  const auto ids = static_cast<std::size_t>(columns.id_fields());
  const auto numeric = static_cast<std::size_t>(columns.numeric_fields());
  if (options.vocabulary != nullptr && options.vocabulary->fields() != columns.fields) {
    throw std::invalid_argument(
        "the table to encode has other fields than the vocabulary was fitted on");
  }
  const auto check_size = [&](const char* what, std::size_t size, std::size_t expected) {
    if (size != expected) {
      throw std::invalid_argument(fmt::format(
          "the table's {} has {} values for {} rows (expected {})", what, size, rows, expected));
    }
  };
  if (columns.values.size() != fields) {
    throw std::invalid_argument(
        fmt::format("the table has {} dictionaries for {} fields", columns.values.size(), fields));
  }
  check_size("codes", columns.codes.size(), rows * ids);
  check_size("numeric", columns.numeric.size(), rows * numeric);
  check_size("user_ids", columns.user_ids.size(), columns.user_ids.empty() ? 0 : rows);
  check_size("item_ids", columns.item_ids.size(), columns.item_ids.empty() ? 0 : rows);
  // Each row's split; the fitting rows (train and validation) are counted where they are, in
  // table order, before the rows move.
  const std::vector<uint8_t> parts = split_parts(split, rows);
  const std::size_t fit_rows = split.train.size() + split.validation.size();
  const std::size_t threads = util::thread_count(options.threads);

  EncodedTable out;
  // The id fields' and the numeric fields' places in schema order.
  std::vector<std::size_t> id_field, numeric_field;
  for (std::size_t f = 0; f < fields; ++f)
    (columns.fields[f].kind == FieldKind::numeric ? numeric_field : id_field).push_back(f);
  if (options.vocabulary != nullptr) {
    out.vocabulary = *options.vocabulary;
  } else {
    Vocabulary::Counts counts;
    counts.seen.resize(fields);
    counts.first_row.resize(fields);
    counts.means.assign(fields, 0.0);
    counts.stds.assign(fields, 0.0);
    std::vector<int64_t*> seen(ids), first(ids);
    for (std::size_t s = 0; s < ids; ++s) {
      const std::size_t f = id_field[s];
      counts.seen[f].assign(columns.values[f].size(), 0);
      counts.first_row[f].assign(columns.values[f].size(), -1);
      seen[s] = counts.seen[f].data();
      first[s] = counts.first_row[f].data();
    }
    // The fields are shared out among the threads; each counts its id fields over the fitting
    // rows in table order and sums its numeric fields with numeric_moments, so the counts, first
    // rows and moments are those of one thread (and of Vocabulary::fit on the fitting rows in
    // table order).
    std::vector<BadCode> bad(threads);
    std::vector<std::vector<double>> means(threads), stds(threads);
    util::run_parallel(threads, [&](std::size_t t) {
      const auto [s0, s1] = util::share_of(ids, t, threads);
      for (std::size_t r = 0; r < rows && s0 < s1; ++r) {
        if (parts[r] > 1)
          continue;
        const int32_t* code = columns.codes.data() + r * ids;
        for (std::size_t s = s0; s < s1; ++s) {
          const auto c = static_cast<std::size_t>(code[s]);
          if (c >= columns.values[id_field[s]].size()) {
            bad[t] = {r, s};
            return;
          }
          if (seen[s][c]++ == 0)
            first[s][c] = static_cast<int64_t>(r);
        }
      }
      // numeric_moments asks for the fitting rows 0, 1, ... in turn (twice): a cursor walks
      // the table's fitting rows alongside.
      // (Not a structured binding: C++17 does not let the lambda below capture one; Clang refuses.)
      const std::pair<std::size_t, std::size_t> share = util::share_of(numeric, t, threads);
      const std::size_t n0 = share.first, n1 = share.second;
      std::size_t cursor = 0, next = 0;
      std::tie(means[t], stds[t]) = numeric_moments(fit_rows, n1 - n0, [&](std::size_t i) {
        if (i == 0)
          cursor = 0;
        else if (i != next)
          throw std::logic_error("encode_table: numeric_moments did not ask for rows in turn");
        while (parts[cursor] > 1)
          ++cursor;
        next = i + 1;
        return columns.numeric.data() + cursor++ * numeric + n0;
      });
    });
    // The first bad code in row order, as one thread counting row by row would meet it.
    const BadCode first_bad =
        *std::min_element(bad.begin(), bad.end(), [](const BadCode& a, const BadCode& b) {
          return std::tie(a.row, a.field) < std::tie(b.row, b.field);
        });
    if (first_bad.row != SIZE_MAX) {
      const std::size_t s = first_bad.field;
      throw std::invalid_argument(
          fmt::format("code {} of field {} in row {} is not in its dictionary of {} values",
                      columns.codes[first_bad.row * ids + s], columns.fields[id_field[s]].name,
                      first_bad.row + 1, columns.values[id_field[s]].size()));
    }
    for (std::size_t t = 0; t < threads; ++t) {
      const std::size_t n0 = util::share_of(numeric, t, threads).first;
      for (std::size_t s = 0; s < means[t].size(); ++s) {
        counts.means[numeric_field[n0 + s]] = means[t][s];
        counts.stds[numeric_field[n0 + s]] = stds[t][s];
      }
    }
    out.vocabulary = Vocabulary::from_counts(
        columns.fields, columns.values, counts, options.max_width, &out.notes, options.min_counts,
        [](int64_t row) { return fmt::format("row {}", row + 1); });
  }

  {
    // Train, validation, test: the fitting rows come first, every split is a slice.
    std::vector<RowSlice> buffers;
    // Columns the table does not have (no numeric field, no user column) have no rows to move.
    for (const RowSlice& b : {row_buffer(columns.codes, rows), row_buffer(columns.numeric, rows),
                              row_buffer(columns.labels, rows), row_buffer(columns.user_ids, rows),
                              row_buffer(columns.item_ids, rows)}) {
      if (b.data != nullptr)
        buffers.push_back(b);
    }
    // Each thread makes every swap, exchanging its own share of the two rows' bytes.
    const auto shares = share_out(buffers, threads);
    util::run_parallel(shares.size(), [&](std::size_t t) {
      std::size_t widest = 0;
      for (const RowSlice& slice : shares[t])
        widest = std::max(widest, slice.bytes);
      std::vector<char> scratch(widest);
      partition_rows(parts,
                     [&](std::size_t i, std::size_t j) { swap_rows(shares[t], i, j, scratch); });
    });
  }

  // Codes to ids: in place when every id field is one column wide, else into a wider buffer.
  const std::vector<int64_t> widths = out.vocabulary.widths();
  std::vector<std::size_t> width(ids), at(ids);
  std::vector<std::vector<int32_t>> to_ids(ids);
  std::vector<std::size_t> dictionary_size(ids);
  std::size_t id_columns = 0;
  for (std::size_t s = 0; s < ids; ++s) {
    const std::size_t f = id_field[s];
    width[s] = static_cast<std::size_t>(widths[f]);
    at[s] = id_columns;
    id_columns += width[s];
    const std::vector<int64_t> mapped =
        out.vocabulary.value_ids(static_cast<int64_t>(f), columns.values[f]);
    to_ids[s].assign(mapped.begin(), mapped.end());
    dictionary_size[s] = columns.values[f].size();
  }
  columns.values = {};
  util::UninitVector<int32_t> expanded;
  if (id_columns != ids) {
    expanded.reserve(rows * id_columns);
    util::advise_huge_pages(expanded.data(), expanded.capacity() * sizeof(int32_t));
    expanded.resize(rows * id_columns);
  }
  std::atomic<bool> bad_code{false};  // a code outside its dictionary (checked as mapped)
  util::run_parallel(threads, [&](std::size_t t) {
    const auto [begin, end] = util::share_of(rows, t, threads);
    for (std::size_t r = begin; r < end; ++r) {
      int32_t* code = columns.codes.data() + r * ids;
      int32_t* to = id_columns == ids ? code : expanded.data() + r * id_columns;
      for (std::size_t s = 0; s < ids; ++s) {
        const auto c = static_cast<std::size_t>(code[s]);
        if (c >= dictionary_size[s]) {
          bad_code.store(true, std::memory_order_relaxed);
          continue;
        }
        if (id_columns == ids) {
          code[s] = to_ids[s][c];
        } else {
          const int32_t* from = to_ids[s].data() + c * width[s];
          std::copy(from, from + width[s], to + at[s]);
        }
      }
    }
    for (std::size_t r = begin; r < end; ++r) {
      float* v = columns.numeric.data() + r * numeric;
      for (std::size_t s = 0; s < numeric; ++s)
        v[s] = out.vocabulary.standardized(numeric_field[s], v[s]);
    }
  });
  if (bad_code)
    throw std::invalid_argument("the table's codes are not all in their fields' dictionaries");
  if (id_columns != ids)
    columns.codes = std::move(expanded);

  const auto n = static_cast<int64_t>(rows);
  const torch::Tensor features =
      adopt(std::move(columns.codes), {n, static_cast<int64_t>(id_columns)}, torch::kInt32);
  const torch::Tensor numbers =
      adopt(std::move(columns.numeric), {n, static_cast<int64_t>(numeric)}, torch::kFloat32);
  const torch::Tensor labels = adopt(std::move(columns.labels), {n}, torch::kFloat32);
  const torch::Tensor users = columns.user_ids.empty()
                                  ? torch::Tensor()
                                  : adopt(std::move(columns.user_ids), {n}, torch::kInt64);
  const torch::Tensor items = columns.item_ids.empty()
                                  ? torch::Tensor()
                                  : adopt(std::move(columns.item_ids), {n}, torch::kInt64);
  const auto slice = [&](int64_t begin, int64_t size) {
    const auto part = [&](const torch::Tensor& t) {
      return t.defined() ? t.narrow(0, begin, size) : torch::Tensor();
    };
    TensorDataset d;
    d.features = part(features);
    d.labels = part(labels);
    d.user_ids = part(users);
    d.item_ids = part(items);
    d.ratings = d.labels;
    d.numeric = part(numbers);
    return d;
  };
  const auto train = static_cast<int64_t>(split.train.size());
  const auto validation = static_cast<int64_t>(split.validation.size());
  out.train = slice(0, train);
  out.validation = slice(train, validation);
  out.test = slice(train + validation, n - train - validation);
  return out;
}

}  // namespace autoint::data
