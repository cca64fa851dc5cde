// In-place encoding of a table's columns: reorder the rows by split, count, map, wrap.
#include "autoint/data/table_encoding.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <memory>
#include <numeric>
#include <stdexcept>

#include <ATen/Parallel.h>
#include <fmt/format.h>

#include "autoint/util/allocator.h"

namespace autoint::data {
namespace {

// A per-row buffer to reorder: its bytes and the bytes of one row.
struct RowBuffer {
  char* data = nullptr;
  std::size_t row_bytes = 0;
};

template <class T>
RowBuffer row_buffer(util::UninitVector<T>& column, std::size_t rows) {
  if (column.empty() || rows == 0)
    return {};
  return {reinterpret_cast<char*>(column.data()), column.size() / rows * sizeof(T)};
}

// Reorders the rows of every buffer in place so that row p holds what row order[p] held, one
// permutation cycle at a time (a row is saved once per cycle, not per move). Throws
// std::invalid_argument when `order` is not a permutation of [0, n).
void permute_rows(const std::vector<int64_t>& order, std::vector<RowBuffer> buffers) {
  const std::size_t n = order.size();
  // Columns the table does not have (no numeric field, no user column) have no rows to move.
  buffers.erase(std::remove_if(buffers.begin(), buffers.end(),
                               [](const RowBuffer& b) { return b.data == nullptr; }),
                buffers.end());
  std::vector<bool> done(n, false);
  for (int64_t r : order) {
    if (r < 0 || static_cast<std::size_t>(r) >= n || done[static_cast<std::size_t>(r)]) {
      throw std::invalid_argument(
          fmt::format("the split's rows are not a partition of the table's {} rows (row {} is "
                      "out of range or listed twice)",
                      n, r));
    }
    done[static_cast<std::size_t>(r)] = true;
  }
  std::fill(done.begin(), done.end(), false);
  std::vector<std::vector<char>> saved(buffers.size());
  for (std::size_t b = 0; b < buffers.size(); ++b)
    saved[b].resize(buffers[b].row_bytes);
  for (std::size_t start = 0; start < n; ++start) {
    if (done[start])
      continue;
    if (static_cast<std::size_t>(order[start]) == start) {
      done[start] = true;
      continue;
    }
    for (std::size_t b = 0; b < buffers.size(); ++b)
      std::memcpy(saved[b].data(), buffers[b].data + start * buffers[b].row_bytes,
                  buffers[b].row_bytes);
    std::size_t j = start;
    while (true) {
      done[j] = true;
      const auto k = static_cast<std::size_t>(order[j]);
      for (std::size_t b = 0; b < buffers.size(); ++b) {
        const std::size_t size = buffers[b].row_bytes;
        char* to = buffers[b].data + j * size;
        std::memcpy(to, k == start ? saved[b].data() : buffers[b].data + k * size, size);
      }
      if (k == start)
        break;
      j = k;
    }
  }
}

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
  permute_rows(order, {row_buffer(columns.codes, rows), row_buffer(columns.numeric, rows),
                       row_buffer(columns.labels, rows), row_buffer(columns.user_ids, rows),
                       row_buffer(columns.item_ids, rows)});
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
    // One pass over the fitting rows for every field (a row's values are adjacent).
    std::vector<int64_t*> seen(ids), first(ids);
    for (std::size_t s = 0; s < ids; ++s) {
      const std::size_t f = id_field[s];
      counts.seen[f].assign(columns.values[f].size(), 0);
      counts.first_row[f].assign(columns.values[f].size(), -1);
      seen[s] = counts.seen[f].data();
      first[s] = counts.first_row[f].data();
    }
    for (std::size_t r = 0; r < fit_rows; ++r) {
      const int32_t* code = columns.codes.data() + r * ids;
      for (std::size_t s = 0; s < ids; ++s) {
        const auto c = static_cast<std::size_t>(code[s]);
        if (c >= columns.values[id_field[s]].size()) {
          throw std::invalid_argument(fmt::format(
              "code {} of field {} in row {} is not in its dictionary of {} values", code[s],
              columns.fields[id_field[s]].name, order[r] + 1, columns.values[id_field[s]].size()));
        }
        if (seen[s][c]++ == 0)
          first[s][c] = order[r];
      }
    }
    const auto [means, stds] = numeric_moments(
        fit_rows, numeric, [&](std::size_t r) { return columns.numeric.data() + r * numeric; });
    for (std::size_t s = 0; s < numeric; ++s) {
      counts.means[numeric_field[s]] = means[s];
      counts.stds[numeric_field[s]] = stds[s];
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
  at::parallel_for(0, static_cast<int64_t>(rows), 16384, [&](int64_t begin, int64_t end) {
    for (auto r = static_cast<std::size_t>(begin); r < static_cast<std::size_t>(end); ++r) {
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
    for (auto r = static_cast<std::size_t>(begin); r < static_cast<std::size_t>(end); ++r) {
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
