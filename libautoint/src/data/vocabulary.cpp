// The fitted encoding of raw features (label-encoding vocabulary, numeric normalisation).
#include "autoint/data/vocabulary.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <numeric>
#include <sstream>
#include <stdexcept>
#include <unordered_map>

#include <ATen/Parallel.h>
#include <fmt/format.h>

#include "autoint/error.h"

namespace autoint::data {
namespace {

// The values of a multi-valued field's text ("a|b|c"); none for "".
std::vector<std::string> split_values(const std::string& text) {
  std::vector<std::string> out;
  if (text.empty())
    return out;
  std::size_t begin = 0;
  for (;;) {
    const std::size_t end = text.find('|', begin);
    out.push_back(text.substr(begin, end - begin));
    if (end == std::string::npos)
      return out;
    begin = end + 1;
  }
}

}  // namespace

Vocabulary Vocabulary::fit(const RawFeatures& raw, const std::vector<int64_t>& rows,
                           int64_t max_width, std::vector<std::string>* notes,
                           const std::vector<int64_t>& min_counts) {
  const std::size_t fcount = raw.fields.size();
  const int64_t numeric_stride = raw.numeric_fields();
  // One pass over the rows for every field's value counts (a row's codes are adjacent, so each
  // row is fetched once, not once per field: the rows are a shuffled split), then the numeric
  // fields' moments (numeric_moments: missing numbers, NaN from tables, are left out, and
  // encoded as the mean).
  Counts counts;
  counts.seen.resize(fcount);
  counts.first_row.resize(fcount);
  counts.means.assign(fcount, 0.0);
  counts.stds.assign(fcount, 0.0);
  for (std::size_t f = 0; f < fcount; ++f) {
    if (raw.fields[f].kind != FieldKind::numeric) {
      counts.seen[f].assign(raw.values[f].size(), 0);
      counts.first_row[f].assign(raw.values[f].size(), -1);
    }
  }
  for (int64_t r : rows) {
    const int32_t* codes = raw.codes.data() + r * static_cast<int64_t>(fcount);
    for (std::size_t f = 0; f < fcount; ++f) {
      if (raw.fields[f].kind == FieldKind::numeric)
        continue;
      const auto code = static_cast<std::size_t>(codes[f]);
      if (counts.seen[f][code]++ == 0)
        counts.first_row[f][code] = r;
    }
  }
  const auto [means, stds] =
      numeric_moments(rows.size(), static_cast<std::size_t>(numeric_stride),
                      [&](std::size_t i) { return raw.numeric.data() + rows[i] * numeric_stride; });
  for (std::size_t f = 0, n = 0; f < fcount; ++f) {
    if (raw.fields[f].kind != FieldKind::numeric)
      continue;
    counts.means[f] = means[n];
    counts.stds[f] = stds[n];
    ++n;
  }
  const auto row_name = [&](int64_t row) {
    const auto r = static_cast<std::size_t>(row);
    return raw.user_ids.size() > r && raw.movie_ids.size() > r
               ? fmt::format("user {}, movie {}", raw.user_ids[r], raw.movie_ids[r])
               : fmt::format("row {}", r + 1);
  };
  return from_counts(raw.fields, raw.values, counts, max_width, notes, min_counts, row_name);
}

Vocabulary Vocabulary::from_counts(const std::vector<FieldSpec>& fields,
                                   const std::vector<std::vector<std::string>>& dictionaries,
                                   const Counts& counts, int64_t max_width,
                                   std::vector<std::string>* notes,
                                   const std::vector<int64_t>& min_counts,
                                   const std::function<std::string(int64_t)>& row_name) {
  if (max_width < 1)
    throw std::invalid_argument(fmt::format("max_width must be >= 1 (got {})", max_width));
  if (!min_counts.empty() && min_counts.size() != fields.size()) {
    throw std::invalid_argument(
        fmt::format("min_counts has {} entries for {} fields", min_counts.size(), fields.size()));
  }
  Vocabulary vocab;
  vocab.fields_ = fields;
  vocab.values_.resize(fields.size());
  vocab.widths_.assign(fields.size(), 0);
  vocab.means_.assign(fields.size(), 0.0);
  vocab.stds_.assign(fields.size(), 1.0);
  for (std::size_t fi = 0; fi < fields.size(); ++fi) {
    auto& values = vocab.values_[fi];
    if (fields[fi].kind == FieldKind::numeric) {
      vocab.means_[fi] = counts.means[fi];
      vocab.stds_[fi] = counts.stds[fi] > 0 ? counts.stds[fi] : 1.0;
      continue;
    }
    const std::vector<int64_t>& seen = counts.seen[fi];
    const std::vector<int64_t>& first_row = counts.first_row[fi];
    const int64_t min_count = min_counts.empty() ? 1 : min_counts[fi];
    std::unordered_map<std::string, int64_t> multi_counts;  // multi-valued, min_count > 1
    int64_t widest = 0, widest_row = -1;
    for (std::size_t code = 0; code < seen.size(); ++code) {
      if (!seen[code])
        continue;
      if (fields[fi].kind == FieldKind::categorical) {
        if (seen[code] >= min_count)
          values.push_back(dictionaries[fi][code]);
      } else {
        const auto list = split_values(dictionaries[fi][code]);
        if (min_count > 1) {
          for (const auto& v : list)
            multi_counts[v] += seen[code];
        } else {
          values.insert(values.end(), list.begin(), list.end());
        }
        if (static_cast<int64_t>(list.size()) > widest) {
          widest = static_cast<int64_t>(list.size());
          widest_row = first_row[code];
        }
      }
    }
    for (const auto& [v, count] : multi_counts) {
      if (count >= min_count)
        values.push_back(v);
    }
    vocab.widths_[fi] = std::min(widest, max_width);
    if (widest > max_width && notes != nullptr) {
      notes->push_back(fmt::format(
          "data: field {} has {} values in its widest row ({}); each row keeps the first {} "
          "(data.max_multi_values)",
          fields[fi].name, widest, row_name(widest_row), max_width));
    }
    std::sort(values.begin(), values.end());
    values.erase(std::unique(values.begin(), values.end()), values.end());
    if (fields[fi].kind == FieldKind::multi_categorical)
      vocab.widths_[fi] = std::max<int64_t>(vocab.widths_[fi], 1);
  }
  vocab.build_index();
  return vocab;
}

void Vocabulary::build_index() {
  index_.assign(values_.size(), {});
  for (std::size_t f = 0; f < values_.size(); ++f) {
    for (std::size_t i = 0; i < values_[f].size(); ++i)
      index_[f].emplace(values_[f][i], static_cast<int64_t>(i) + 1);
  }
}

std::vector<FieldKind> Vocabulary::kinds() const {
  std::vector<FieldKind> out;
  for (const auto& f : fields_)
    out.push_back(f.kind);
  return out;
}

std::vector<int64_t> Vocabulary::cardinalities() const {
  std::vector<int64_t> out;
  for (std::size_t f = 0; f < fields_.size(); ++f) {
    out.push_back(
        fields_[f].kind == FieldKind::numeric ? 1 : static_cast<int64_t>(values_[f].size()) + 1);
  }
  return out;
}

int64_t Vocabulary::id_column(std::size_t field) const {
  const auto all = widths();
  int64_t column = 0;
  for (std::size_t f = 0; f < field && f < all.size(); ++f)
    column += all[f];
  return column;
}

std::vector<int64_t> Vocabulary::widths() const {
  std::vector<int64_t> out;
  for (std::size_t f = 0; f < fields_.size(); ++f) {
    switch (fields_[f].kind) {
      case FieldKind::categorical:
        out.push_back(1);
        break;
      case FieldKind::multi_categorical:
        out.push_back(widths_[f]);
        break;
      case FieldKind::numeric:
        out.push_back(0);
        break;
    }
  }
  return out;
}

int64_t Vocabulary::id(int64_t field, const std::string& raw) const {
  const auto fields = static_cast<int64_t>(fields_.size());
  if (field < 0 || field >= fields) {
    throw std::out_of_range(fmt::format("field index {} is not in [0, {})", field, fields));
  }
  const auto fi = static_cast<std::size_t>(field);
  if (fields_[fi].kind == FieldKind::numeric) {
    throw std::out_of_range(
        fmt::format("field {} ({}) is numeric and has no ids", field, fields_[fi].name));
  }
  const auto it = index_[fi].find(raw);
  return it == index_[fi].end() ? 0 : it->second;
}

std::vector<int64_t> Vocabulary::value_ids(int64_t field,
                                           const std::vector<std::string>& values) const {
  const auto fields = static_cast<int64_t>(fields_.size());
  if (field < 0 || field >= fields)
    throw std::out_of_range(fmt::format("field index {} is not in [0, {})", field, fields));
  const auto fi = static_cast<std::size_t>(field);
  if (fields_[fi].kind == FieldKind::numeric) {
    throw std::out_of_range(
        fmt::format("field {} ({}) is numeric and has no ids", field, fields_[fi].name));
  }
  const auto w = static_cast<std::size_t>(
      fields_[fi].kind == FieldKind::multi_categorical ? widths_[fi] : int64_t{1});
  std::vector<int64_t> out(values.size() * w, 0);
  if (fields_[fi].kind == FieldKind::categorical) {
    for (std::size_t c = 0; c < values.size(); ++c)
      out[c] = id(field, values[c]);
    return out;
  }
  for (std::size_t c = 0; c < values.size(); ++c) {
    const auto list = split_values(values[c]);
    for (std::size_t i = 0; i < list.size() && i < w; ++i)
      out[c * w + i] = id(field, list[i]);
  }
  return out;
}

Vocabulary::Encoded Vocabulary::encode(const RawFeatures& raw,
                                       const std::vector<int64_t>& rows) const {
  if (raw.fields != fields_) {
    throw std::invalid_argument(
        "the features to encode have other fields than the vocabulary was fitted on");
  }
  // Map each field's raw codes to their (padded) ids once, then translate rows by lookup.
  const auto fields = static_cast<int64_t>(fields_.size());
  const std::vector<int64_t> width = widths();
  const int64_t columns = std::accumulate(width.begin(), width.end(), int64_t{0});
  const int64_t numeric_stride = raw.numeric_fields();
  std::vector<std::vector<int64_t>> code_to_ids(fields_.size());
  for (int64_t f = 0; f < fields; ++f) {
    const auto fi = static_cast<std::size_t>(f);
    if (fields_[fi].kind != FieldKind::numeric)
      code_to_ids[fi] = value_ids(f, raw.values[fi]);
  }
  const auto n = static_cast<int64_t>(rows.size());
  Encoded out{torch::empty({n, columns}, torch::kInt64),
              torch::empty({n, numeric_stride}, torch::kFloat32)};
  int64_t* ids = out.ids.data_ptr<int64_t>();
  float* numeric = out.numeric.data_ptr<float>();
  // Rows are independent (integer lookups, one float per numeric value): encoded in parallel,
  // the same on any thread count.
  at::parallel_for(0, n, 16384, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const int32_t* src = raw.codes.data() + rows[static_cast<std::size_t>(i)] * fields;
      const double* values =
          raw.numeric.data() + rows[static_cast<std::size_t>(i)] * numeric_stride;
      int64_t column = 0;
      int64_t numeric_column = 0;
      for (int64_t f = 0; f < fields; ++f) {
        const auto fi = static_cast<std::size_t>(f);
        if (fields_[fi].kind == FieldKind::numeric) {
          numeric[i * numeric_stride + numeric_column] = standardized(fi, values[numeric_column]);
          ++numeric_column;
          continue;
        }
        const int64_t w = width[fi];
        const int64_t* from = code_to_ids[fi].data() + src[f] * w;
        int64_t* to = ids + i * columns + column;
        for (int64_t j = 0; j < w; ++j)  // mostly w = 1: no memmove call per id
          to[j] = from[j];
        column += w;
      }
    }
  });
  return out;
}

void Vocabulary::save(const std::string& path) const {
  std::ofstream out(path, std::ios::binary);
  if (!out)
    throw RunError(fmt::format("{}: cannot open for writing", path));
  out << "autoint-vocabulary 2\n"
      << "fields " << fields_.size() << '\n';
  for (std::size_t f = 0; f < fields_.size(); ++f) {
    out << "field " << fields_[f].name << ' ' << to_string(fields_[f].kind);
    if (fields_[f].kind == FieldKind::numeric) {
      out << fmt::format(" {} {}\n", means_[f], stds_[f]);  // shortest round-trip form
      continue;
    }
    out << ' ' << values_[f].size();
    if (fields_[f].kind == FieldKind::multi_categorical)
      out << ' ' << widths_[f];
    out << '\n';
    for (const auto& v : values_[f])
      out << v << '\n';
  }
  out.flush();
  if (!out)
    throw RunError(fmt::format("{}: write failed", path));
}

Vocabulary Vocabulary::load(const std::string& path,
                            const std::vector<FieldSpec>& version1_fields) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw RunError(fmt::format("{}: cannot open vocabulary file", path));
  std::string line;
  int64_t line_no = 0;
  auto next = [&](const std::string& expected) {
    if (!std::getline(in, line)) {
      throw RunError(
          fmt::format("{}:{}: file ends early, expected {}", path, line_no + 1, expected));
    }
    ++line_no;
  };
  auto fail = [&](const std::string& expected) {
    throw RunError(fmt::format("{}:{}: expected {}, got \"{}\"", path, line_no, expected, line));
  };
  const std::string headers = "the header \"autoint-vocabulary 1\" or \"autoint-vocabulary 2\"";
  next(headers);
  if (line != "autoint-vocabulary 1" && line != "autoint-vocabulary 2")
    fail(headers);
  const bool version1 = line == "autoint-vocabulary 1";
  Vocabulary vocab;
  if (version1) {
    if (version1_fields.empty()) {
      throw RunError(fmt::format(
          "{}:1: a version-1 vocabulary has no field list, and the caller named none (load it "
          "with the fields it was written for, e.g. the seed's: autoint-eval and "
          "autoint-recommend do)",
          path));
    }
    vocab.fields_ = version1_fields;
  } else {
    next("\"fields <count>\"");
    std::istringstream header(line);
    std::string word, rest;
    int64_t count = -1;
    if (!(header >> word >> count) || word != "fields" || count < 1 || count > 10000 ||
        (header >> rest))
      fail("\"fields <count>\" with a count from 1 to 10000");
    vocab.fields_.resize(static_cast<std::size_t>(count));
  }
  const std::size_t fields = vocab.fields_.size();
  vocab.values_.resize(fields);
  vocab.widths_.assign(fields, 0);
  vocab.means_.assign(fields, 0.0);
  vocab.stds_.assign(fields, 1.0);
  for (std::size_t f = 0; f < fields; ++f) {
    FieldSpec& spec = vocab.fields_[f];
    std::istringstream header;
    std::string word, name, kind_text, rest;
    int64_t count = -1;
    if (version1) {
      const std::string expected = fmt::format("\"field {} <count>\"", spec.name);
      next(expected);
      header.str(line);
      if (!(header >> word >> name >> count) || word != "field" || name != spec.name || count < 0)
        fail(expected);
    } else {
      const std::string expected = fmt::format(
          "field {} of {}: \"field <name> categorical <count>\", \"field <name> multi <count> "
          "<width>\" or \"field <name> numeric <mean> <std>\"",
          f + 1, fields);
      next(expected);
      header.str(line);
      if (!(header >> word >> name >> kind_text) || word != "field" ||
          !parse_field_kind(kind_text, spec.kind))
        fail(expected);
      spec.name = name;
      if (spec.kind == FieldKind::numeric) {
        double mean = 0, std = 0;
        if (!(header >> mean >> std) || !std::isfinite(mean) || !std::isfinite(std) || !(std > 0) ||
            (header >> rest))
          fail(fmt::format("\"field {} numeric <mean> <std>\" with a finite mean and std > 0",
                           name));
        vocab.means_[f] = mean;
        vocab.stds_[f] = std;
        continue;
      }
      int64_t width = 1;
      if (!(header >> count) || count < 0 ||
          (spec.kind == FieldKind::multi_categorical && !(header >> width)) || width < 1 ||
          width > 1000 || (header >> rest))
        fail(expected);
      if (spec.kind == FieldKind::multi_categorical)
        vocab.widths_[f] = width;
    }
    // A repeated value would get two ids, and encoding would silently use only the first.
    std::unordered_map<std::string, int64_t> first_line;
    for (int64_t i = 0; i < count; ++i) {
      next(fmt::format("value {} of {} for field {}", i + 1, count, name));
      const auto [it, inserted] = first_line.emplace(line, line_no);
      if (!inserted) {
        throw RunError(fmt::format(
            "{}:{}: expected each value of field {} once, got \"{}\" again (first on line {})",
            path, line_no, name, line, it->second));
      }
      vocab.values_[f].push_back(line);
    }
  }
  if (std::getline(in, line)) {
    throw RunError(fmt::format("{}:{}: unexpected text after the last field: \"{}\"", path,
                               line_no + 1, line));
  }
  vocab.build_index();
  return vocab;
}

}  // namespace autoint::data
