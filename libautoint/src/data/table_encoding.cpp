// In-place encoding of a table's columns: reorder the rows by split, count, map, wrap.
#include "autoint/data/table_encoding.h"

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

// A slice of a per-row buffer to reorder: `bytes` bytes at the start of every row of `stride`
// bytes.
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

// Throws std::invalid_argument when `order` is not a permutation of [0, order.size()).
void check_permutation(const std::vector<int64_t>& order) {
  const std::size_t n = order.size();
  std::vector<bool> seen(n, false);
  for (int64_t r : order) {
    if (r < 0 || static_cast<std::size_t>(r) >= n || seen[static_cast<std::size_t>(r)]) {
      throw std::invalid_argument(
          fmt::format("the split's rows are not a partition of the table's {} rows (row {} is "
                      "out of range or listed twice)",
                      n, r));
    }
    seen[static_cast<std::size_t>(r)] = true;
  }
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

// Reorders the rows of every slice in place so that row p holds what row order[p] held, one
// permutation cycle at a time (a row is saved once per cycle, not per move). `order` must be a
// permutation of its indices.
void permute_rows(const std::vector<int64_t>& order, const std::vector<RowSlice>& slices) {
  const std::size_t n = order.size();
  std::vector<bool> done(n, false);
  std::vector<std::vector<char>> saved(slices.size());
  for (std::size_t b = 0; b < slices.size(); ++b)
    saved[b].resize(slices[b].bytes);
  for (std::size_t start = 0; start < n; ++start) {
    if (done[start])
      continue;
    if (static_cast<std::size_t>(order[start]) == start) {
      done[start] = true;
      continue;
    }
    for (std::size_t b = 0; b < slices.size(); ++b)
      std::memcpy(saved[b].data(), slices[b].data + start * slices[b].stride, slices[b].bytes);
    std::size_t j = start;
    while (true) {
      done[j] = true;
      const auto k = static_cast<std::size_t>(order[j]);
      for (std::size_t b = 0; b < slices.size(); ++b) {
        const RowSlice& s = slices[b];
        std::memcpy(s.data + j * s.stride, k == start ? saved[b].data() : s.data + k * s.stride,
                    s.bytes);
      }
      if (k == start)
        break;
      j = k;
    }
  }
}

// The first code outside its field's dictionary met while counting: its row (in the reordered
// table) and id field.
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
  // Train, validation, test: the fitting rows come first, every split is a slice.
  std::vector<int64_t> order;
  order.reserve(rows);
  for (const auto* part : {&split.train, &split.validation, &split.test})
    order.insert(order.end(), part->begin(), part->end());
  if (order.size() != rows) {
    throw std::invalid_argument(
        fmt::format("the split lists {} rows for a table of {} rows (expected each row once)",
                    order.size(), rows));
  }
  check_permutation(order);
  const std::size_t threads = util::thread_count(options.threads);
  {
    std::vector<RowSlice> buffers;
    // Columns the table does not have (no numeric field, no user column) have no rows to move.
    for (const RowSlice& b : {row_buffer(columns.codes, rows), row_buffer(columns.numeric, rows),
                              row_buffer(columns.labels, rows), row_buffer(columns.user_ids, rows),
                              row_buffer(columns.item_ids, rows)}) {
      if (b.data != nullptr)
        buffers.push_back(b);
    }
    // Each thread follows every cycle, moving its own share of each row's bytes.
    const auto shares = share_out(buffers, threads);
    util::run_parallel(shares.size(), [&](std::size_t t) { permute_rows(order, shares[t]); });
  }
  const std::size_t fit_rows = split.train.size() + split.validation.size();

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
    // rows in order and sums its numeric fields as numeric_moments does, so the counts, first
    // rows and moments are those of one thread.
    std::vector<BadCode> bad(threads);
    std::vector<std::vector<double>> means(threads), stds(threads);
    util::run_parallel(threads, [&](std::size_t t) {
      const auto [s0, s1] = util::share_of(ids, t, threads);
      for (std::size_t r = 0; r < fit_rows && s0 < s1; ++r) {
        const int32_t* code = columns.codes.data() + r * ids;
        for (std::size_t s = s0; s < s1; ++s) {
          const auto c = static_cast<std::size_t>(code[s]);
          if (c >= columns.values[id_field[s]].size()) {
            bad[t] = {r, s};
            return;
          }
          if (seen[s][c]++ == 0)
            first[s][c] = order[r];
        }
      }
      const auto [n0, n1] = util::share_of(numeric, t, threads);
      std::tie(means[t], stds[t]) = numeric_moments(fit_rows, n1 - n0, [&](std::size_t r) {
        return columns.numeric.data() + r * numeric + n0;
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
                      order[first_bad.row] + 1, columns.values[id_field[s]].size()));
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

  order = {};
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
