// The one place that knows YAML: parameter declarations, parsing, validation, emission.
#include "autoint/config/config.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "autoint/device.h"
#include "autoint/error.h"

namespace autoint::config {
namespace {

template <class T>
using Field = std::function<T&(Config&)>;

// A declared parameter: how to read it from YAML (checking type and range) and write it back.
struct Param {
  ParameterInfo info;
  std::function<void(Config&, const YAML::Node&, const std::string& where)> set;
  std::function<YAML::Node(const Config&)> get;
};

// A node as error messages quote it: flow style, cut when long (quoted_value).
std::string node_text(const YAML::Node& node) {
  if (node.IsScalar())
    return quoted_value(node.Scalar());
  YAML::Emitter out;
  out << YAML::Flow << node;
  return quoted_value(out.c_str());
}

[[noreturn]] void bad_value(const std::string& where, const std::string& key,
                            const std::string& expected, const YAML::Node& node) {
  throw ConfigError(
      fmt::format("{}: {} must be {} (got {})", where, key, expected, node_text(node)));
}

bool parse_int(const std::string& text, int64_t& value) {
  const char* first = text.data();
  const char* last = first + text.size();
  if (first != last && *first == '+')
    ++first;
  auto [ptr, ec] = std::from_chars(first, last, value);
  return ec == std::errc() && ptr == last && first != last;
}

bool parse_double(const std::string& text, double& value) {
  if (text.empty())
    return false;
  errno = 0;
  char* end = nullptr;
  value = std::strtod(text.c_str(), &end);
  return errno == 0 && end == text.c_str() + text.size() && std::isfinite(value);
}

// fmt's shortest representation that reads back exactly, so to_yaml round-trips.
std::string format_double(double value) {
  return fmt::format("{}", value);
}

int64_t read_int(const YAML::Node& node, const std::string& where, const std::string& key,
                 int64_t min, int64_t max, const std::string& expected) {
  int64_t value = 0;
  if (!node.IsScalar() || !parse_int(node.Scalar(), value)) {
    bad_value(where, key, "an integer", node);
  }
  if (value < min || value > max)
    bad_value(where, key, expected, node);
  return value;
}

std::string int_range(int64_t min, int64_t max) {
  if (max == std::numeric_limits<int64_t>::max())
    return fmt::format(">= {}", min);
  return fmt::format("in [{}, {}]", min, max);
}

Param int_param(std::string key, Field<int64_t> field, int64_t min, int64_t max,
                std::string description) {
  const std::string range = int_range(min, max);
  Param p;
  p.info = {key, "int", "", range, std::move(description)};
  p.set = [=](Config& c, const YAML::Node& node, const std::string& where) {
    field(c) = read_int(node, where, key, min, max, range);
  };
  p.get = [field](const Config& c) { return YAML::Node(field(const_cast<Config&>(c))); };
  return p;
}

struct FloatRange {
  double min;
  double max;
  bool min_open;
  bool max_open;
  std::string text() const {
    return fmt::format("{}{}, {}{}", min_open ? "(" : "[", format_double(min),
                       std::isinf(max) ? "inf" : format_double(max), max_open ? ")" : "]");
  }
  bool contains(double v) const {
    return (min_open ? v > min : v >= min) && (max_open ? v < max : v <= max);
  }
};

Param float_param(std::string key, Field<double> field, FloatRange range, std::string description) {
  Param p;
  p.info = {key, "float", "", range.text(), std::move(description)};
  p.set = [=](Config& c, const YAML::Node& node, const std::string& where) {
    double value = 0;
    if (!node.IsScalar() || !parse_double(node.Scalar(), value)) {
      bad_value(where, key, "a number", node);
    }
    if (!range.contains(value))
      bad_value(where, key, "in " + range.text(), node);
    field(c) = value;
  };
  p.get = [field](const Config& c) {
    return YAML::Node(format_double(field(const_cast<Config&>(c))));
  };
  return p;
}

Param bool_param(std::string key, Field<bool> field, std::string description) {
  Param p;
  p.info = {key, "bool", "", "true, false", std::move(description)};
  p.set = [=](Config& c, const YAML::Node& node, const std::string& where) {
    if (!node.IsScalar() || (node.Scalar() != "true" && node.Scalar() != "false")) {
      bad_value(where, key, "true or false", node);
    }
    field(c) = node.Scalar() == "true";
  };
  p.get = [field](const Config& c) { return YAML::Node(field(const_cast<Config&>(c))); };
  return p;
}

Param string_param(std::string key, Field<std::string> field, std::vector<std::string> choices,
                   std::string description) {
  const std::string allowed = choices.empty() ? "any string without control characters"
                                              : fmt::format("{}", fmt::join(choices, ", "));
  Param p;
  p.info = {key, "string", "", allowed, std::move(description)};
  p.set = [=](Config& c, const YAML::Node& node, const std::string& where) {
    if (!node.IsScalar())
      bad_value(where, key, "a string", node);
    const std::string& value = node.Scalar();
    // A carriage return or tab in a path is a typing or line-ending accident, and yaml-cpp
    // writes such strings back unquoted, so the saved config.yaml would read differently.
    const auto control = [](char ch) {
      const auto byte = static_cast<unsigned char>(ch);
      return byte < 0x20 || byte == 0x7f;
    };
    if (std::any_of(value.begin(), value.end(), control))
      bad_value(where, key, "a string without control characters", node);
    if (!choices.empty() && std::find(choices.begin(), choices.end(), value) == choices.end()) {
      bad_value(where, key, "one of " + allowed, node);
    }
    field(c) = value;
  };
  p.get = [field](const Config& c) { return YAML::Node(field(const_cast<Config&>(c))); };
  return p;
}

Param int_list_param(std::string key, Field<std::vector<int64_t>> field, int64_t min_each,
                     std::string description,
                     int64_t max_each = std::numeric_limits<int64_t>::max()) {
  const std::string each = int_range(min_each, max_each);
  const std::string allowed = fmt::format("list of ints {} (may be empty)", each);
  Param p;
  p.info = {key, "int list", "", allowed, std::move(description)};
  p.set = [=](Config& c, const YAML::Node& node, const std::string& where) {
    if (!node.IsSequence())
      bad_value(where, key, "a list of integers such as [32, 32]", node);
    std::vector<int64_t> values;
    for (const auto& item : node) {
      values.push_back(
          read_int(item, where, key, min_each, max_each, "a list of integers " + each));
    }
    field(c) = values;
  };
  p.get = [field](const Config& c) {
    YAML::Node list(YAML::NodeType::Sequence);
    for (int64_t v : field(const_cast<Config&>(c)))
      list.push_back(v);
    return list;
  };
  return p;
}

Param string_list_param(std::string key, Field<std::vector<std::string>> field,
                        std::string description) {
  Param p;
  p.info = {key, "string list", "", "list of non-empty strings (may be empty)",
            std::move(description)};
  p.set = [=](Config& c, const YAML::Node& node, const std::string& where) {
    if (!node.IsSequence())
      bad_value(where, key, "a list of names such as [timestamp]", node);
    std::vector<std::string> values;
    for (const auto& item : node) {
      if (!item.IsScalar() || item.Scalar().empty())
        bad_value(where, key, "a list of non-empty names", item);
      values.push_back(item.Scalar());
    }
    field(c) = values;
  };
  p.get = [field](const Config& c) {
    YAML::Node list(YAML::NodeType::Sequence);
    for (const auto& v : field(const_cast<Config&>(c)))
      list.push_back(v);
    return list;
  };
  return p;
}

constexpr int64_t kMaxInt = std::numeric_limits<int64_t>::max();
// A column separator: one character, or "\t" (backslash, t) for a tab, which is how it is
// written back.
Param separator_param(std::string key, Field<std::string> field, std::string description) {
  Param p;
  p.info = {key, "string", "", "one character; \"\\t\" for a tab", std::move(description)};
  p.set = [=](Config& c, const YAML::Node& node, const std::string& where) {
    if (!node.IsScalar())
      bad_value(where, key, "one character", node);
    std::string value = node.Scalar();
    if (value == "\\t")
      value = "\t";
    if (value.size() != 1 || value == "\"" || value == "\n" || value == "\r")
      bad_value(where, key, "one character other than a quote or a line end (\"\\t\": tab)", node);
    field(c) = value;
  };
  p.get = [field](const Config& c) {
    const std::string& v = field(const_cast<Config&>(c));
    return YAML::Node(v == "\t" ? std::string("\\t") : v);
  };
  return p;
}

// A number, or "none" (NaN) for no value.
Param optional_float_param(std::string key, Field<double> field, std::string description) {
  Param p;
  p.info = {key, "float or none", "", "a finite number, or none", std::move(description)};
  p.set = [=](Config& c, const YAML::Node& node, const std::string& where) {
    double value = 0;
    if (node.IsScalar() && node.Scalar() == "none") {
      field(c) = std::numeric_limits<double>::quiet_NaN();
      return;
    }
    if (!node.IsScalar() || !parse_double(node.Scalar(), value))
      bad_value(where, key, "a finite number or none", node);
    field(c) = value;
  };
  p.get = [field](const Config& c) {
    const double v = field(const_cast<Config&>(c));
    return YAML::Node(std::isnan(v) ? std::string("none") : format_double(v));
  };
  return p;
}

// data.table.fields and data.fields: a list of maps, one per model field.
Param fields_param(const std::string& key, Field<std::vector<TableFieldConfig>> field_of,
                   std::string description) {
  Param p;
  p.info = {key, "list of maps", "",
            "each map: name (required), column, kind, min_count, separator, max_width, transform, "
            "boundaries, derive, index",
            std::move(description)};
  p.set = [key, field_of](Config& c, const YAML::Node& node, const std::string& where) {
    if (!node.IsSequence())
      bad_value(where, key, "a list of maps such as [{name: C1}, {name: I1, kind: numeric}]", node);
    std::vector<TableFieldConfig> fields;
    for (std::size_t i = 0; i < node.size(); ++i) {
      const YAML::Node item = node[i];
      const std::string at = item.Mark().line == node.Mark().line
                                 ? where
                                 : fmt::format("{} (item on line {})", where, item.Mark().line + 1);
      const std::string name = fmt::format("{}[{}]", key, i);
      if (!item.IsMap())
        bad_value(at, name, "a map with at least a name", item);
      TableFieldConfig f;
      std::vector<std::string> seen;
      for (const auto& entry : item) {
        const std::string k = entry.first.IsScalar() ? entry.first.Scalar() : "";
        if (std::find(seen.begin(), seen.end(), k) != seen.end())
          throw ConfigError(fmt::format("{}: {}.{} is given twice", at, name, k));
        seen.push_back(k);
        const YAML::Node& v = entry.second;
        const std::string sub = name + "." + k;
        auto text = [&](const std::string& expected) {
          if (!v.IsScalar() || v.Scalar().empty())
            bad_value(at, sub, expected, v);
          return v.Scalar();
        };
        if (k == "name") {
          f.name = text("a non-empty name without spaces");
          if (f.name.find_first_of(" \t\r\n") != std::string::npos)
            bad_value(at, sub, "a name without spaces", v);
        } else if (k == "column") {
          f.column = text("a column name");
        } else if (k == "kind") {
          f.kind = text("categorical, multi or numeric");
          if (f.kind != "categorical" && f.kind != "multi" && f.kind != "numeric")
            bad_value(at, sub, "categorical, multi or numeric", v);
        } else if (k == "min_count") {
          f.min_count = read_int(v, at, sub, 0, std::numeric_limits<int64_t>::max(),
                                 ">= 0 (0: data.table.min_count)");
        } else if (k == "max_width") {
          f.max_width = read_int(v, at, sub, 0, 1000, "in [0, 1000] (0: data.max_multi_values)");
        } else if (k == "separator") {
          f.separator = text("one character");
          if (f.separator.size() != 1)
            bad_value(at, sub, "one character", v);
        } else if (k == "transform") {
          f.transform = text("standardize, log or bucketize");
          if (f.transform != "standardize" && f.transform != "log" && f.transform != "bucketize")
            bad_value(at, sub, "standardize, log or bucketize", v);
        } else if (k == "derive") {
          f.derive = text("element, decade, utc_year or utc_month");
          if (f.derive != "element" && f.derive != "decade" && f.derive != "utc_year" &&
              f.derive != "utc_month")
            bad_value(at, sub, "element, decade, utc_year or utc_month", v);
        } else if (k == "index") {
          f.index = read_int(v, at, sub, 0, 1000, "in [0, 1000]");
        } else if (k == "boundaries") {
          if (!v.IsSequence())
            bad_value(at, sub, "a list of ascending numbers", v);
          for (const auto& b : v) {
            double x = 0;
            if (!b.IsScalar() || !parse_double(b.Scalar(), x))
              bad_value(at, sub, "a list of finite numbers", b);
            f.boundaries.push_back(x);
          }
        } else {
          throw ConfigError(fmt::format(
              "{}: unknown key \"{}\" in {}; expected name, column, kind, min_count, separator, "
              "max_width, transform, boundaries, derive, index",
              at, quoted_value(k), name));
        }
      }
      if (f.name.empty())
        bad_value(at, name, "a map with a name", item);
      fields.push_back(std::move(f));
    }
    field_of(c) = std::move(fields);
  };
  p.get = [field_of](const Config& c) {
    YAML::Node list(YAML::NodeType::Sequence);
    const TableFieldConfig defaults;
    for (const auto& f : field_of(const_cast<Config&>(c))) {
      YAML::Node m(YAML::NodeType::Map);
      m["name"] = f.name;
      if (!f.column.empty())
        m["column"] = f.column;
      m["kind"] = f.kind;
      if (f.min_count != defaults.min_count)
        m["min_count"] = f.min_count;
      if (f.kind == "multi") {
        m["separator"] = f.separator;
        m["max_width"] = f.max_width;
      }
      if (!f.derive.empty()) {
        m["derive"] = f.derive;
        if (f.derive == "element") {
          m["index"] = f.index;
          m["separator"] = f.separator;
        }
      }
      if (f.kind == "numeric") {
        m["transform"] = f.transform;
        if (!f.boundaries.empty()) {
          YAML::Node b(YAML::NodeType::Sequence);
          for (double x : f.boundaries)
            b.push_back(format_double(x));
          m["boundaries"] = b;
        }
      }
      list.push_back(m);
    }
    return list;
  };
  return p;
}

constexpr double kInf = std::numeric_limits<double>::infinity();

std::vector<Param> build_params() {
  std::vector<Param> p;
  // data
  p.push_back(string_param(
      "data.source", [](Config& c) -> std::string& { return c.data.source; },
      {"movielens", "synthetic", "table"},
      "Where the rows come from: ML-1M files in data.dir, the seeded synthetic ML-1M-shaped "
      "generator, or a delimited-text table read with a schema (data.table)."));
  p.push_back(string_param(
      "data.dir", [](Config& c) -> std::string& { return c.data.dir; }, {},
      "Directory with users.dat, movies.dat, ratings.dat (required for movielens)."));
  p.push_back(int_param(
      "data.synthetic.users", [](Config& c) -> int64_t& { return c.data.synthetic.users; }, 1,
      kMaxInt, "Synthetic data: number of users."));
  p.push_back(int_param(
      "data.synthetic.movies", [](Config& c) -> int64_t& { return c.data.synthetic.movies; }, 1,
      kMaxInt, "Synthetic data: number of movies."));
  p.push_back(int_param(
      "data.synthetic.ratings", [](Config& c) -> int64_t& { return c.data.synthetic.ratings; }, 1,
      kMaxInt, "Synthetic data: number of rating rows (at most users x movies)."));
  p.push_back(int_param(
      "data.synthetic.seed", [](Config& c) -> int64_t& { return c.data.synthetic.seed; }, 0,
      kMaxInt, "Synthetic data: generator seed."));
  p.push_back(string_param(
      "data.features", [](Config& c) -> std::string& { return c.data.features; },
      {"seed", "paper", "custom"},
      "Feature set: seed (the origin project's 13 categorical fields), paper (the AutoInt "
      "paper's 7: gender, age, occupation, zipcode, genres (multi-valued, mean-pooled), "
      "release_decade, timestamp (numeric, standardised on the training part)) or custom "
      "(data.fields). Both named sets are schemas over the joined columns too (docs/tables.md)."));
  p.push_back(string_list_param(
      "data.drop_fields", [](Config& c) -> std::vector<std::string>& { return c.data.drop_fields; },
      "Fields of the feature set to leave out, by name (e.g. [timestamp])."));
  p.push_back(float_param(
      "data.label_threshold", [](Config& c) -> double& { return c.data.label_threshold; },
      {1, 5, false, false}, "A rating >= this value is a positive (label 1)."));
  p.push_back(string_param(
      "data.positives", [](Config& c) -> std::string& { return c.data.positives; },
      {"liked", "rated"},
      "What counts as an interaction for train.objective implicit and the item_knn and ease "
      "full-ranking baselines: liked (rating >= data.label_threshold) or rated (any rating)."));
  p.push_back(int_list_param(
      "data.drop_ratings", [](Config& c) -> std::vector<int64_t>& { return c.data.drop_ratings; },
      1, "Rating values whose rows are left out before splitting (the paper drops [3]).", 5));
  p.push_back(int_param(
      "data.max_multi_values", [](Config& c) -> int64_t& { return c.data.max_multi_values; }, 1,
      1000,
      "A multi-valued field (the paper set's genres) keeps at most this many values per row; "
      "its width, and so every row's size, is the largest count up to this cap (rows with more "
      "are named in the log)."));
  p.push_back(string_param(
      "data.history.field", [](Config& c) -> std::string& { return c.data.history.field; }, {},
      "A history input: the item field (movielens: movie_id) whose ids each row's history holds, "
      "the person's liked movies (data.positives) in the training split, sharing that field's "
      "embeddings; \"\" (the default): none. Pooled as model.history_pooling says."));
  p.push_back(int_param(
      "data.history.max_len", [](Config& c) -> int64_t& { return c.data.history.max_len; }, 1,
      10000, "The history keeps a person's most recent this many items (oldest first)."));
  p.push_back(string_param(
      "data.history.order", [](Config& c) -> std::string& { return c.data.history.order; },
      {"bag", "recent"},
      "bag: a row's history is every training positive of the person but the row's own item; "
      "recent: those before the row's time, in time order (sequential protocols). Ranking "
      "scores a person with the whole training history."));
  p.push_back(float_param(
      "data.test_fraction", [](Config& c) -> double& { return c.data.test_fraction; },
      {0, 1, true, true}, "Share of rating rows held out for the test split."));
  p.push_back(float_param(
      "data.validation_fraction", [](Config& c) -> double& { return c.data.validation_fraction; },
      {0, 1, false, true},
      "Share of the training part held out (from its end) for validation; 0 disables it."));
  p.push_back(int_param(
      "data.split_seed", [](Config& c) -> int64_t& { return c.data.split_seed; }, 0, kMaxInt,
      "Seed of the random train/test split."));
  p.push_back(string_param(
      "data.table.preset", [](Config& c) -> std::string& { return c.data.table.preset; },
      {"none", "criteo", "avazu"},
      "table: a named schema (criteo: Criteo's train.txt, tab-separated, label, I1..I13 with "
      "the log transform, C1..C26; avazu: train.csv with a header, click the label, 22 "
      "categorical columns, id left out), or none for the keys below."));
  p.push_back(string_param(
      "data.table.train", [](Config& c) -> std::string& { return c.data.table.train; }, {},
      "table: the file to read (with data.table.split files, the training part)."));
  p.push_back(string_param(
      "data.table.validation", [](Config& c) -> std::string& { return c.data.table.validation; },
      {}, "table, split files: the validation file (\"\": data.validation_fraction of train)."));
  p.push_back(string_param(
      "data.table.test", [](Config& c) -> std::string& { return c.data.table.test; }, {},
      "table, split files: the test file."));
  p.push_back(string_param(
      "data.table.split", [](Config& c) -> std::string& { return c.data.table.split; },
      {"random", "files", "order"},
      "table: random (seeded by data.split_seed, fractions as for MovieLens), files (the train, "
      "validation and test files) or order (the last data.test_fraction of the rows is the "
      "test split, the end of the rest validation)."));
  p.push_back(separator_param(
      "data.table.separator", [](Config& c) -> std::string& { return c.data.table.separator; },
      "table: the column separator. Fields may be quoted per RFC 4180."));
  p.push_back(bool_param(
      "data.table.header", [](Config& c) -> bool& { return c.data.table.header; },
      "table: the first row of each file names the columns (else data.table.columns does)."));
  p.push_back(string_list_param(
      "data.table.columns",
      [](Config& c) -> std::vector<std::string>& { return c.data.table.columns; },
      "table: the column names, in order, of files without a header row."));
  p.push_back(string_param(
      "data.table.label", [](Config& c) -> std::string& { return c.data.table.label; }, {},
      "table: the label column."));
  p.push_back(optional_float_param(
      "data.table.label_threshold",
      [](Config& c) -> double& { return c.data.table.label_threshold; },
      "table: label = (value >= threshold); none: the label column must hold 0 or 1."));
  p.push_back(string_param(
      "data.table.user", [](Config& c) -> std::string& { return c.data.table.user; }, {},
      "table: optional user column; turns on the per-user ranking metrics."));
  p.push_back(string_param(
      "data.table.item", [](Config& c) -> std::string& { return c.data.table.item; }, {},
      "table: optional item column; turns on the per-item baselines."));
  p.push_back(int_param(
      "data.table.min_count", [](Config& c) -> int64_t& { return c.data.table.min_count; }, 1,
      kMaxInt,
      "table: categorical values seen fewer times in the training rows map to the "
      "out-of-vocabulary id (the AutoInt paper: 10); the default of every field and preset."));
  p.push_back(fields_param(
      "data.table.fields",
      [](Config& c) -> std::vector<TableFieldConfig>& { return c.data.table.fields; },
      "The model fields of a table, in model order: `name`; `column` (default: the name); "
      "`kind` categorical, multi or numeric; `min_count` (0: data.table.min_count: rarer "
      "training values map to the out-of-vocabulary id); multi: `separator` (default "
      "\"|\") and `max_width` (0: data.max_multi_values); numeric: `transform` standardize, "
      "log (log(x)^2 for x > 2, then standardised) or bucketize (into a categorical field "
      "by ascending `boundaries`). Missing numbers (empty text) encode as the training "
      "mean; empty categorical text is a value of its own. categorical: `derive` element "
      "(value `index`, from 0, of the text split at `separator`; \"none\" past the end), "
      "decade (an integer rounded down to its decade), utc_year or utc_month (of a unix "
      "time): the derivations the MovieLens feature sets are made of."));
  p.push_back(fields_param(
      "data.fields", [](Config& c) -> std::vector<TableFieldConfig>& { return c.data.fields; },
      "data.features custom (MovieLens and synthetic sources): the model fields, in the form "
      "of data.table.fields, over the columns of the three files joined on UserID and MovieID: "
      "UserID, Gender, Age, Occupation, Zip-code, MovieID, Title, Genres, Year, Rating, "
      "Timestamp (e.g. {name: genre1, column: Genres, derive: element, index: 0}). Numeric "
      "fields take integer columns and are standardised; multi-valued ones split Genres at "
      "\"|\"; min_count 0 means 1 (every training value kept)."));
  p.push_back(int_param(
      "data.max_rows", [](Config& c) -> int64_t& { return c.data.max_rows; }, 0, kMaxInt,
      "table: read at most this many rows (0: all), e.g. a sample of a large file."));
  // model
  p.push_back(string_param(
      "model.type", [](Config& c) -> std::string& { return c.model.type; },
      {"autoint", "autoint_plus", "lr"},
      "autoint: attention only; autoint_plus: attention + DNN, logits summed; lr: logistic "
      "regression on the same fields (first order only: a linear function of the embeddings, "
      "no interacting layers, no hidden layers), the baseline AutoInt's interactions must beat."));
  p.push_back(int_param(
      "model.embed_dim", [](Config& c) -> int64_t& { return c.model.embed_dim; }, 1, 1024,
      "Embedding size d of every field."));
  p.push_back(int_param(
      "model.num_layers", [](Config& c) -> int64_t& { return c.model.num_layers; }, 0, 64,
      "Number of interacting (self-attention) layers."));
  p.push_back(int_param(
      "model.num_heads", [](Config& c) -> int64_t& { return c.model.num_heads; }, 1, 64,
      "Attention heads per interacting layer."));
  p.push_back(int_param(
      "model.attention_dim", [](Config& c) -> int64_t& { return c.model.attention_dim; }, 0, 1024,
      "Per-head attention size; 0 means embed_dim (the seed)."));
  p.push_back(bool_param(
      "model.scale_attention", [](Config& c) -> bool& { return c.model.scale_attention; },
      "Divide attention scores by sqrt(attention_dim); the seed does not."));
  p.push_back(bool_param(
      "model.use_residual", [](Config& c) -> bool& { return c.model.use_residual; },
      "Add the residual projection X*W_res before the ReLU."));
  p.push_back(bool_param(
      "model.layer_norm", [](Config& c) -> bool& { return c.model.layer_norm; },
      "Layer-normalise each interacting layer's output."));
  p.push_back(float_param(
      "model.attention_dropout", [](Config& c) -> double& { return c.model.attention_dropout; },
      {0, 1, false, true}, "Dropout on the attention weights (uses the plain attention kernel)."));
  p.push_back(int_list_param(
      "model.dnn_hidden_units",
      [](Config& c) -> std::vector<int64_t>& { return c.model.dnn_hidden_units; }, 1,
      "Hidden layer sizes of the DNN branch (autoint_plus)."));
  p.push_back(float_param(
      "model.dropout", [](Config& c) -> double& { return c.model.dropout; }, {0, 1, false, true},
      "Dropout after each DNN hidden layer."));
  p.push_back(string_param(
      "model.attention_kernel", [](Config& c) -> std::string& { return c.model.attention_kernel; },
      {"auto", "plain", "fused"},
      "Attention implementation: fused CPU kernel, plain LibTorch ops, or auto (fused on CPU)."));
  p.push_back(string_list_param(
      "model.dot_fields", [](Config& c) -> std::vector<std::string>& { return c.model.dot_fields; },
      "Empty, or two field names (e.g. [user_id, movie_id]): the dot product of their "
      "embeddings is added to the logit (matrix factorisation's term; autoint and "
      "autoint_plus)."));
  p.push_back(int_param(
      "model.dot_dim", [](Config& c) -> int64_t& { return c.model.dot_dim; }, 0, 4096,
      "0: model.dot_fields' dot product is over their embeddings in the shared table "
      "(model.embed_dim wide); > 0: over embeddings of their own, this wide, that the attention "
      "and DNN do not use (a factorisation wider than the attention; L2 as train.l2_embedding)."));
  p.push_back(string_param(
      "model.history_pooling", [](Config& c) -> std::string& { return c.model.history_pooling; },
      {"mean", "attention", "tokens"},
      "With data.history: mean (one field, the mean of the history's embeddings), attention "
      "(one field, DIN's target attention over them) or tokens (every history item a field of "
      "the interacting layers, BST). model.dot_fields may name the pooled field \"history\" "
      "(mean and attention)."));
  // train
  p.push_back(string_param(
      "train.objective", [](Config& c) -> std::string& { return c.train.objective; },
      {"rating", "implicit"},
      "rating: learn label = rating >= data.label_threshold on the rated rows (the seed); "
      "implicit: learn the training part's interactions (data.positives) against movies the "
      "user did not interact with, sampled afresh every epoch (train.negatives), for "
      "recommending from the whole catalogue."));
  p.push_back(string_param(
      "train.loss", [](Config& c) -> std::string& { return c.train.loss; }, {"bce", "bpr"},
      "bce: binary cross-entropy on every row; bpr (implicit only): -log sigmoid(positive - "
      "negative) over each positive and its sampled negatives."));
  p.push_back(int_param(
      "train.negatives.per_positive",
      [](Config& c) -> int64_t& { return c.train.negatives.per_positive; }, 1, 1000,
      "Implicit: negatives drawn for each training positive, every epoch."));
  p.push_back(string_param(
      "train.negatives.sampler",
      [](Config& c) -> std::string& { return c.train.negatives.sampler; },
      {"uniform", "popularity"},
      "Implicit: draw negatives uniformly over the movies, or in proportion to (the movie's "
      "training interactions + 1)^train.negatives.exponent; a movie the user interacted with, "
      "or rated, in the training part is never drawn."));
  p.push_back(float_param(
      "train.negatives.exponent", [](Config& c) -> double& { return c.train.negatives.exponent; },
      {0, 10, false, false}, "Implicit, popularity sampler: the exponent (word2vec's 0.75)."));
  p.push_back(float_param(
      "train.user_dropout", [](Config& c) -> double& { return c.train.user_dropout; },
      {0, 1, false, false},
      "With data.history: the share of training rows (implicit: a positive with its negatives) "
      "whose person fields (user_id, gender, age, occupation, zipcode) get the unknown id, so "
      "that the model scores people it knows nothing of but their history (new visitors: "
      "autoint-recommend --liked)."));
  p.push_back(int_param(
      "train.epochs", [](Config& c) -> int64_t& { return c.train.epochs; }, 1, 100000,
      "Maximum number of epochs."));
  p.push_back(int_param(
      "train.batch_size", [](Config& c) -> int64_t& { return c.train.batch_size; }, 1, 1 << 24,
      "Training batch size."));
  p.push_back(float_param(
      "train.learning_rate", [](Config& c) -> double& { return c.train.learning_rate; },
      {0, 10, true, false}, "Adam learning rate."));
  p.push_back(float_param(
      "train.l2_embedding", [](Config& c) -> double& { return c.train.l2_embedding; },
      {0, kInf, false, true},
      "L2 penalty on the embeddings looked up in a batch (sum of squares / batch size)."));
  p.push_back(int_param(
      "train.seed", [](Config& c) -> int64_t& { return c.train.seed; }, 0, kMaxInt,
      "Seed of weight initialisation, shuffling and dropout."));
  p.push_back(int_param(
      "train.threads", [](Config& c) -> int64_t& { return c.train.threads; }, 0, 1024,
      "Intra-op CPU threads; 0 keeps LibTorch's default."));
  p.push_back(int_param(
      "train.patience", [](Config& c) -> int64_t& { return c.train.patience; }, 0, 100000,
      "Early stopping: stop after this many epochs without a better validation score "
      "(train.monitor) and restore the best epoch's weights; 0 disables it."));
  p.push_back(string_param(
      "train.monitor", [](Config& c) -> std::string& { return c.train.monitor; },
      {"logloss", "auc", "ndcg", "recall"},
      "Validation metric that early stopping (train.patience) watches and whose best epoch "
      "is restored: logloss (lower is better), auc, or ndcg / recall at eval.top_k of a full "
      "ranking of the validation split (higher is better; the seed's 13 fields only)."));
  p.push_back(int_param(
      "train.ranking_validation_users",
      [](Config& c) -> int64_t& { return c.train.ranking_validation_users; }, 0, kMaxInt,
      "Full-ranking validation (train.objective implicit, or train.monitor ndcg or recall): "
      "rank for this many validation users, a seeded sample (data.split_seed); 0 means every "
      "one with a positive."));
  p.push_back(string_param(
      "train.progress", [](Config& c) -> std::string& { return c.train.progress; },
      {"auto", "bar", "lines", "none"},
      "Progress output: a bar on a terminal and lines otherwise (auto), or forced."));
  // eval
  p.push_back(int_param(
      "eval.top_k", [](Config& c) -> int64_t& { return c.eval.top_k; }, 1, 1000,
      "Cut-off K of the ranking metrics (metrics.json names them @10 only when K = 10)."));
  p.push_back(int_param(
      "eval.batch_size", [](Config& c) -> int64_t& { return c.eval.batch_size; }, 1, 1 << 24,
      "Batch size for scoring."));
  p.push_back(string_param(
      "eval.protocol", [](Config& c) -> std::string& { return c.eval.protocol; },
      {"seed", "full_ranking", "both"},
      "Ranking protocol: seed re-ranks the movies each user rated in the test split (the origin "
      "project's); full_ranking ranks every movie the user did not rate in the training part "
      "against the user's test positives, as a recommender does; both reports both. AUC and "
      "logloss on the test split are always reported."));
  p.push_back(int_param(
      "eval.full_ranking_users", [](Config& c) -> int64_t& { return c.eval.full_ranking_users; }, 0,
      kMaxInt,
      "Full ranking: evaluate this many test users, a seeded sample (data.split_seed: the same "
      "users for every repeat); 0 means "
      "every test user with a positive."));
  p.push_back(string_param(
      "eval.full_ranking_time", [](Config& c) -> std::string& { return c.eval.full_ranking_time; },
      {"user_last", "data_last"},
      "Full ranking: the time fields of a user's scored rows, at the user's latest rating "
      "(user_last; the split is random, so test ratings fall in the user's active period) or "
      "at the data's latest rating (data_last, as autoint-recommend's default 'now')."));
  p.push_back(int_param(
      "eval.knn_neighbours", [](Config& c) -> int64_t& { return c.eval.knn_neighbours; }, 1,
      1000000,
      "Full ranking: the item_knn baseline keeps this many most cosine-similar movies per movie."));
  p.push_back(float_param(
      "eval.ease_lambda", [](Config& c) -> double& { return c.eval.ease_lambda; },
      {0, kInf, true, true},
      "Full ranking: L2 weight of the ease baseline (Steck 2019: B = I - P diagMat(1 / "
      "diag(P)), P = (X'X + lambda I)^-1)."));
  p.push_back(int_param(
      "repeats", [](Config& c) -> int64_t& { return c.repeats; }, 1, 1000,
      "Train each configuration (each grid combination) this many times, with seeds "
      "train.seed, train.seed + 1, ...; more than 1 runs a grid and reports mean and "
      "standard deviation."));
  p.push_back(int_param(
      "max_runs", [](Config& c) -> int64_t& { return c.max_runs; }, 1, 1000000000,
      "A grid with more runs than this (the product of its axes' lengths times repeats) is "
      "refused before anything is expanded or trained."));
  // device, output
  {
    // Checked here for its form (DeviceSpec::parse), so a typo is reported with the file and
    // line; whether CUDA is there is known only when a run starts.
    Param device = string_param(
        "device", [](Config& c) -> std::string& { return c.device; }, {},
        "auto, cpu, cuda or cuda:N; auto picks CUDA when available.");
    device.info.allowed = "auto, cpu, cuda, cuda:N (N >= 0)";
    device.set = [set = device.set](Config& c, const YAML::Node& node, const std::string& where) {
      set(c, node, where);
      try {
        DeviceSpec::parse(c.device);
      } catch (const DeviceError&) {
        bad_value(where, "device", "auto, cpu, cuda or cuda:N with N >= 0", node);
      }
    };
    p.push_back(std::move(device));
  }
  // distributed
  p.push_back(string_param(
      "distributed.backend", [](Config& c) -> std::string& { return c.distributed.backend; },
      {"auto", "gloo", "nccl"},
      "c10d backend of a distributed run (WORLD_SIZE > 1 or autoint-train --nproc): auto is NCCL "
      "on CUDA devices and Gloo on the CPU."));
  p.push_back(int_param(
      "distributed.timeout_s", [](Config& c) -> int64_t& { return c.distributed.timeout_s; }, 1,
      86400,
      "Seconds a distributed run waits for the other ranks (rendezvous, every collective) before "
      "it fails with an error naming the lost rank."));
  p.push_back(int_param(
      "distributed.bucket_mb", [](Config& c) -> int64_t& { return c.distributed.bucket_mb; }, 1,
      4096,
      "Gradients are summed over the ranks in flat buckets of at most this many MiB (one "
      "allreduce each), in parameter order."));
  p.push_back(string_param(
      "output.dir", [](Config& c) -> std::string& { return c.output.dir; }, {},
      "Run directory to write (model, vocabulary, config, metrics, log)."));

  const Config defaults;
  for (auto& param : p)
    param.info.default_value = node_text(param.get(defaults));
  return p;
}

const std::vector<Param>& params() {
  static const std::vector<Param> table = build_params();
  return table;
}

const Param* find_param(const std::string& key) {
  for (const auto& p : params()) {
    if (p.info.key == key)
      return &p;
  }
  return nullptr;
}

std::string location(const std::string& origin, const YAML::Mark& mark) {
  if (mark.is_null())
    return origin;
  return fmt::format("{}:{}:{}", origin, mark.line + 1, mark.column + 1);
}

[[noreturn]] void unknown_key(const std::string& where, const std::string& key) {
  const std::string section = key.substr(0, key.find('.'));
  std::vector<std::string> known;
  for (const auto& p : params()) {
    if (p.info.key.substr(0, p.info.key.find('.')) == section)
      known.push_back(p.info.key);
  }
  if (known.empty()) {
    for (const auto& p : params())
      known.push_back(p.info.key);
  }
  throw ConfigError(fmt::format("{}: unknown key \"{}\"; expected one of: {}", where,
                                quoted_value(key), fmt::join(known, ", ")));
}

// A value node as the YAML text --set takes ("8", "[64, 32]").
std::string value_text(const YAML::Node& node) {
  if (node.IsScalar())
    return node.Scalar();
  YAML::Emitter out;
  out.SetSeqFormat(YAML::Flow);
  out.SetMapFormat(YAML::Flow);
  out << node;
  return out.c_str();
}

// The `grid:` section: a map of declared keys to non-empty lists of values, each value
// checked against its key's type and range here, where its line is known.
void apply_grid(Config& config, const YAML::Node& node, const std::string& origin) {
  const std::string where = location(origin, node.Mark());
  if (!node.IsMap() || node.size() == 0) {
    throw ConfigError(
        fmt::format("{}: grid must be a map of config keys to lists of values, e.g. "
                    "model.embed_dim: [8, 16] (got {})",
                    where, node.IsNull() ? std::string("nothing") : node_text(node)));
  }
  config.grid.clear();
  for (const auto& item : node) {
    const std::string key_where = location(origin, item.first.Mark());
    if (!item.first.IsScalar()) {
      throw ConfigError(
          fmt::format("{}: expected a key name in grid, got {}", key_where, node_text(item.first)));
    }
    const std::string key = item.first.Scalar();
    const Param* param = find_param(key);
    if (!param)
      unknown_key(fmt::format("{}: grid", key_where), key);
    if (key == "repeats" || key == "output.dir") {
      throw ConfigError(
          fmt::format("{}: grid.{} cannot be a grid axis (the grid sets each run's {} itself)",
                      key_where, key, key == "repeats" ? "seed" : "directory"));
    }
    for (const auto& axis : config.grid) {
      if (axis.key == key)
        throw ConfigError(fmt::format("{}: grid.{} is given twice", key_where, key));
    }
    const YAML::Node& values = item.second;
    if (!values.IsSequence() || values.size() == 0) {
      throw ConfigError(fmt::format("{}: grid.{} must be a non-empty list of values (got {})",
                                    location(origin, values.Mark()), key,
                                    values.IsNull() ? std::string("nothing") : node_text(values)));
    }
    GridAxis axis{key, {}};
    for (const auto& value : values) {
      Config scratch = config;
      param->set(scratch, value, fmt::format("{}: grid", location(origin, value.Mark())));
      axis.values.push_back(value_text(value));
    }
    config.grid.push_back(std::move(axis));
  }
}

// Walks nested maps down to declared keys; a map where a value is declared, or a
// scalar where a section is expected, is an error at that node.
void apply_node(Config& config, const YAML::Node& node, const std::string& prefix,
                const std::string& origin) {
  // yaml-cpp keeps both entries of a repeated key; the later one would silently win.
  std::map<std::string, YAML::Mark> seen;
  for (const auto& item : node) {
    const std::string where = location(origin, item.first.Mark());
    if (!item.first.IsScalar()) {
      throw ConfigError(
          fmt::format("{}: expected a key name, got {}", where, node_text(item.first)));
    }
    if (prefix.empty() && item.first.Scalar() == "grid") {
      apply_grid(config, item.second, origin);
      continue;
    }
    const std::string key =
        prefix.empty() ? item.first.Scalar() : prefix + "." + item.first.Scalar();
    const auto [first, inserted] = seen.emplace(key, item.first.Mark());
    if (!inserted) {
      throw ConfigError(
          fmt::format("{}: duplicate key \"{}\" (first at {}); expected each key once", where, key,
                      location(origin, first->second)));
    }
    if (const Param* param = find_param(key)) {
      param->set(config, item.second, location(origin, item.second.Mark()));
      continue;
    }
    bool is_section = false;
    for (const auto& p : params()) {
      if (p.info.key.rfind(key + ".", 0) == 0)
        is_section = true;
    }
    if (!is_section)
      unknown_key(where, key);
    if (!item.second.IsMap()) {
      throw ConfigError(fmt::format("{}: {} must be a section of keys (got {})", where, key,
                                    node_text(item.second)));
    }
    apply_node(config, item.second, key, origin);
  }
}

// Counts the documents a YAML text holds, and where each starts; nothing else.
class DocumentStarts : public YAML::EventHandler {
 public:
  std::vector<YAML::Mark> starts;
  void OnDocumentStart(const YAML::Mark& mark) override { starts.push_back(mark); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

// YAML::Load reads the first document only: a second one (after "---"), even a broken one,
// would be settings silently ignored. Only two documents are asked for: on some malformed
// input yaml-cpp 0.7 reports empty documents forever without advancing (YAML::LoadAll then
// never returns), which shows as a second document starting where the first did.
void check_one_document(const std::string& yaml, const std::string& origin) {
  std::istringstream in(yaml);
  YAML::Parser parser(in);
  DocumentStarts handler;
  int documents = 0;
  while (documents < 2 && parser.HandleNextDocument(handler))
    ++documents;
  if (handler.starts.size() < 2)
    return;
  const YAML::Mark& second = handler.starts[1];
  if (second.pos == handler.starts[0].pos) {
    throw ConfigError(fmt::format("{}: invalid YAML: no document can be read from here",
                                  location(origin, second)));
  }
  throw ConfigError(
      fmt::format("{}: a second YAML document (after \"---\"); expected one document per config "
                  "file",
                  location(origin, second)));
}

void apply_override(Config& config, const std::string& text) {
  const std::string where = fmt::format("--set {}", quoted_value(text));
  const auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw ConfigError(fmt::format("{}: expected key=value, e.g. train.epochs=3", where));
  }
  const std::string key = text.substr(0, eq);
  const Param* param = find_param(key);
  if (!param)
    unknown_key(where, key);
  YAML::Node value;
  try {
    value = YAML::Load(text.substr(eq + 1));
  } catch (const YAML::Exception& e) {
    throw ConfigError(fmt::format("{}: value is not valid YAML: {}", where, e.msg));
  }
  if (value.IsNull())
    value = YAML::Node(std::string());
  param->set(config, value, where);
}

}  // namespace

const std::vector<ParameterInfo>& parameters() {
  static const std::vector<ParameterInfo> infos = [] {
    std::vector<ParameterInfo> out;
    for (const auto& p : params())
      out.push_back(p.info);
    return out;
  }();
  return infos;
}

Config parse_config(const std::string& yaml, const std::string& origin,
                    const std::vector<std::string>& overrides) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
    check_one_document(yaml, origin);
  } catch (const YAML::Exception& e) {
    throw ConfigError(fmt::format("{}: invalid YAML: {}", location(origin, e.mark), e.msg));
  }
  Config config;
  if (!root.IsNull()) {
    if (!root.IsMap()) {
      throw ConfigError(
          fmt::format("{}: the top level must be a map of sections (data, model, "
                      "train, eval, device, distributed, output)",
                      location(origin, root.Mark())));
    }
    apply_node(config, root, "", origin);
  }
  return with_overrides(std::move(config), overrides, origin);
}

Config with_overrides(Config config, const std::vector<std::string>& overrides,
                      const std::string& origin) {
  for (const auto& text : overrides)
    apply_override(config, text);
  validate(config, origin);
  return config;
}

Config load_config(const std::string& path, const std::vector<std::string>& overrides) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw ConfigError(fmt::format("{}: cannot open config file", path));
  std::stringstream buffer;
  buffer << in.rdbuf();
  return parse_config(buffer.str(), path, overrides);
}

namespace {

// What data/table/reader.h's check_schema would refuse at read time, said here with the file: the
// fields of data.table.fields or data.fields (`key`), whose label column is `label`.
void validate_fields(const std::vector<TableFieldConfig>& fields, const std::string& key,
                     const std::string& label, const std::string& origin) {
  for (std::size_t i = 0; i < fields.size(); ++i) {
    const TableFieldConfig& f = fields[i];
    for (std::size_t j = 0; j < i; ++j) {
      if (fields[j].name == f.name) {
        throw ConfigError(
            fmt::format("{}: {}[{}] ({}): a second field with this name (the first is "
                        "{}[{}]; names must be unique)",
                        origin, key, i, f.name, key, j));
      }
    }
    const std::string& column = f.column.empty() ? f.name : f.column;
    if (column == label) {
      throw ConfigError(
          fmt::format("{}: {}[{}] ({}): column \"{}\" is the label column (a label cannot "
                      "be a feature)",
                      origin, key, i, f.name, column));
    }
    if (!f.derive.empty() && f.kind != "categorical") {
      throw ConfigError(fmt::format("{}: {}[{}] ({}): derive {} needs kind categorical (got {})",
                                    origin, key, i, f.name, f.derive, f.kind));
    }
    if (f.kind == "numeric" && f.transform == "bucketize") {
      if (f.boundaries.empty()) {
        throw ConfigError(
            fmt::format("{}: {}[{}] ({}): transform bucketize needs boundaries (got none)", origin,
                        key, i, f.name));
      }
      for (std::size_t b = 1; b < f.boundaries.size(); ++b) {
        if (!(f.boundaries[b] > f.boundaries[b - 1])) {
          throw ConfigError(
              fmt::format("{}: {}[{}] ({}): boundaries must be strictly ascending ({} is "
                          "not above {})",
                          origin, key, i, f.name, format_double(f.boundaries[b]),
                          format_double(f.boundaries[b - 1])));
        }
      }
    }
  }
}

// data.features custom: data.fields over the joined MovieLens columns, and only there.
void validate_custom_fields(const Config& c, const std::string& origin) {
  const auto& d = c.data;
  if (d.source == "table" && (d.features == "custom" || !d.fields.empty())) {
    throw ConfigError(fmt::format(
        "{}: data.features custom and data.fields are for MovieLens sources; a table's fields "
        "are data.table.fields",
        origin));
  }
  if (d.features == "custom" && d.fields.empty()) {
    throw ConfigError(fmt::format(
        "{}: data.features custom needs data.fields (the model fields over the joined MovieLens "
        "columns; got none)",
        origin));
  }
  if (d.features != "custom" && !d.fields.empty()) {
    throw ConfigError(
        fmt::format("{}: data.fields is read only with data.features custom (got data.features {})",
                    origin, d.features));
  }
  validate_fields(d.fields, "data.fields", "Rating", origin);
  for (std::size_t i = 0; i < d.fields.size(); ++i) {
    const TableFieldConfig& f = d.fields[i];
    if ((f.kind == "numeric" && f.transform != "standardize") ||
        (f.kind == "multi" && f.separator != "|")) {
      throw ConfigError(fmt::format(
          "{}: data.fields[{}] ({}): MovieLens numeric fields are standardised and multi-valued "
          "ones split at \"|\" (got {} {})",
          origin, i, f.name, f.kind, f.kind == "numeric" ? f.transform : f.separator));
    }
  }
}

// data.source table: the files its split needs, a schema (a preset or label + fields), and
// only what a table supports (the point-wise objective; full ranking needs MovieLens).
void validate_table(const Config& c, const std::string& origin) {
  const TableConfig& t = c.data.table;
  if (t.train.empty()) {
    throw ConfigError(fmt::format(
        "{}: data.table.train must name the file to read when data.source is table (got an "
        "empty value)",
        origin));
  }
  if (t.split == "files" && t.test.empty()) {
    throw ConfigError(fmt::format(
        "{}: data.table.split files needs data.table.test (the test file; got an empty value)",
        origin));
  }
  if (t.split != "files" && (!t.validation.empty() || !t.test.empty())) {
    throw ConfigError(fmt::format(
        "{}: data.table.validation and data.table.test are read only with data.table.split "
        "files (got split {})",
        origin, t.split));
  }
  if (t.preset != "none" && (!t.fields.empty() || !t.label.empty() || !t.columns.empty())) {
    throw ConfigError(
        fmt::format("{}: data.table.preset {} defines the columns, label and fields; leave "
                    "data.table.fields, label and columns empty (or use preset none)",
                    origin, t.preset));
  }
  if (t.preset == "none" && (t.label.empty() || t.fields.empty())) {
    throw ConfigError(fmt::format(
        "{}: data.table.label and data.table.fields must be set when data.table.preset is none "
        "(got {})",
        origin, t.label.empty() ? "no label" : "no fields"));
  }
  if (t.preset == "none" && !t.header && t.columns.empty()) {
    throw ConfigError(fmt::format(
        "{}: data.table.columns must name the columns when data.table.header is false", origin));
  }
  validate_fields(t.fields, "data.table.fields", t.label, origin);
  if (c.train.objective != "rating" || c.eval.protocol != "seed" || c.train.monitor == "ndcg" ||
      c.train.monitor == "recall") {
    throw ConfigError(fmt::format(
        "{}: data.source table trains and evaluates point-wise: it needs train.objective rating, "
        "eval.protocol seed and train.monitor logloss or auc (got {} / {} / {}); implicit "
        "training and full ranking build MovieLens candidate rows",
        origin, c.train.objective, c.eval.protocol, c.train.monitor));
  }
}

}  // namespace

void validate(const Config& c, const std::string& origin) {
  if (c.data.source == "movielens" && c.data.dir.empty()) {
    throw ConfigError(fmt::format(
        "{}: data.dir must name the ML-1M directory when data.source is movielens (got an "
        "empty value); set it in the config or with --set data.dir=PATH",
        origin));
  }
  if (c.data.source == "table")
    validate_table(c, origin);
  validate_custom_fields(c, origin);
  const auto& synth = c.data.synthetic;
  // users x movies can exceed int64 (both may be up to its max); then any ratings count fits.
  if (c.data.source == "synthetic" && synth.movies >= 1 && synth.users <= kMaxInt / synth.movies &&
      synth.ratings > synth.users * synth.movies) {
    throw ConfigError(
        fmt::format("{}: data.synthetic.ratings must be <= users x movies = {} (got {})", origin,
                    synth.users * synth.movies, synth.ratings));
  }
  // Full ranking (evaluation, implicit training, ranking validation) builds candidate rows of
  // the seed's 13 fields.
  const auto require_seed_fields = [&](const std::string& who, const std::string& advice) {
    if (c.data.features == "seed" && c.data.drop_fields.empty())
      return;
    throw ConfigError(fmt::format(
        "{}: {} builds candidate rows of the seed's fields, so it needs data.features seed and "
        "no data.drop_fields (got data.features {}{}){}",
        origin, who, c.data.features, c.data.drop_fields.empty() ? "" : " and dropped fields",
        advice));
  };
  if (c.eval.protocol != "seed")
    require_seed_fields("eval.protocol " + c.eval.protocol, "; use eval.protocol seed");
  if (c.train.patience > 0 && c.data.validation_fraction == 0) {
    throw ConfigError(fmt::format(
        "{}: train.patience {} needs a validation split, but data.validation_fraction is 0; "
        "set data.validation_fraction > 0 or train.patience 0 (no early stopping)",
        origin, c.train.patience));
  }
  const bool ranks =
      c.train.objective == "implicit" || c.train.monitor == "ndcg" || c.train.monitor == "recall";
  if (ranks) {
    require_seed_fields(
        fmt::format("train.objective {} with train.monitor {}", c.train.objective, c.train.monitor),
        "");
  }
  if (c.train.loss == "bpr" && c.train.objective != "implicit") {
    throw ConfigError(fmt::format(
        "{}: train.loss bpr compares a positive with its sampled negatives, so it needs "
        "train.objective implicit (got train.objective {}); use train.loss bce",
        origin, c.train.objective));
  }
  if ((c.train.monitor == "ndcg" || c.train.monitor == "recall") &&
      c.data.validation_fraction == 0) {
    throw ConfigError(fmt::format(
        "{}: train.monitor {} ranks the validation split, but data.validation_fraction is 0; "
        "set data.validation_fraction > 0 or train.monitor logloss",
        origin, c.train.monitor));
  }
  if (c.model.type == "autoint" && c.model.num_layers == 0) {
    throw ConfigError(fmt::format(
        "{}: model.num_layers must be >= 1 when model.type is autoint (got 0): plain AutoInt "
        "has no other branch",
        origin));
  }
  if (const auto& dot = c.model.dot_fields;
      !dot.empty() && (dot.size() != 2 || dot[0] == dot[1] || c.model.type == "lr")) {
    throw ConfigError(fmt::format(
        "{}: model.dot_fields must be empty or two different field names, with model.type "
        "autoint or autoint_plus (got [{}] with model.type {})",
        origin, fmt::join(dot, ", "), c.model.type));
  }
  if (c.model.dot_dim > 0 && c.model.dot_fields.empty()) {
    throw ConfigError(fmt::format(
        "{}: model.dot_dim {} needs model.dot_fields (the two fields whose own embeddings' dot "
        "product is added to the logit)",
        origin, c.model.dot_dim));
  }
  if (c.output.dir.empty()) {
    throw ConfigError(fmt::format(
        "{}: output.dir is empty; expected the run directory to write (e.g. runs/my_run)", origin));
  }
  const auto& history = c.data.history;
  const auto& dot = c.model.dot_fields;
  const bool dot_history = std::find(dot.begin(), dot.end(), "history") != dot.end();
  if (history.field.empty() && (dot_history || c.train.user_dropout > 0)) {
    throw ConfigError(fmt::format(
        "{}: {} needs a history input, but data.history.field is empty; set data.history.field "
        "(e.g. movie_id)",
        origin,
        dot_history ? "model.dot_fields naming history"
                    : fmt::format("train.user_dropout {}", format_double(c.train.user_dropout))));
  }
  if (!history.field.empty() && c.data.source == "table") {
    throw ConfigError(fmt::format(
        "{}: data.history.field {}: a history is built from each person's rated movies in time, "
        "which data.source table does not have (no user or time notion); use data.source "
        "movielens or synthetic, or leave data.history.field empty",
        origin, history.field));
  }
  if (dot_history && c.model.history_pooling == "tokens") {
    throw ConfigError(fmt::format(
        "{}: model.dot_fields names history, but model.history_pooling tokens keeps the history "
        "as {} fields, not one; use mean or attention",
        origin, history.max_len));
  }
  if (c.model.attention_kernel == "fused" && c.model.attention_dropout > 0) {
    throw ConfigError(
        fmt::format("{}: model.attention_kernel fused does not implement attention dropout (got "
                    "model.attention_dropout {}); use auto or plain",
                    origin, format_double(c.model.attention_dropout)));
  }
}

namespace {

// Emits the keys under `prefix` (declaration order), nesting sections as maps.
void emit_section(YAML::Emitter& out, const Config& config, const std::string& prefix) {
  std::vector<std::string> done;
  out << YAML::BeginMap;
  for (const auto& p : params()) {
    const std::string& key = p.info.key;
    if (key.compare(0, prefix.size(), prefix) != 0)
      continue;
    const std::string rest = key.substr(prefix.size());
    const auto dot = rest.find('.');
    if (dot == std::string::npos) {
      out << YAML::Key << rest << YAML::Value << p.get(config);
      continue;
    }
    const std::string section = rest.substr(0, dot);
    if (std::find(done.begin(), done.end(), section) != done.end())
      continue;
    done.push_back(section);
    out << YAML::Key << section << YAML::Value;
    emit_section(out, config, prefix + section + ".");
  }
  out << YAML::EndMap;
}

}  // namespace

std::string to_yaml(const Config& config) {
  YAML::Emitter out;
  out.SetSeqFormat(YAML::Flow);
  emit_section(out, config, "");
  std::string text = std::string(out.c_str()) + "\n";
  if (!config.grid.empty()) {
    YAML::Emitter grid;
    grid.SetSeqFormat(YAML::Flow);
    grid << YAML::BeginMap << YAML::Key << "grid" << YAML::Value << YAML::BeginMap;
    for (const auto& axis : config.grid) {
      grid << YAML::Key << axis.key << YAML::Value << YAML::BeginSeq;
      for (const auto& value : axis.values)
        grid << YAML::Load(value);
      grid << YAML::EndSeq;
    }
    grid << YAML::EndMap << YAML::EndMap;
    text += std::string(grid.c_str()) + "\n";
  }
  return text;
}

std::string reference_markdown() {
  std::string out =
      "# Configuration reference\n\n"
      "Generated from the parser's own declarations (`autoint-train --config-reference`); a "
      "test checks that this file matches them.\n\n"
      "A config is YAML with the sections below; nested keys are written as maps "
      "(`model:` then `embed_dim: 16`) or, in `--set` overrides, dotted "
      "(`--set model.embed_dim=8`). Unknown keys, wrong types and out-of-range values are "
      "errors naming the file, line and key.\n\n"
      "A `grid:` section maps any of the keys below to a list of values "
      "(`model.embed_dim: [8, 16]`); `autoint-train` then runs every combination, `repeats` "
      "times each, in sub-directories of `output.dir` named after the settings, and writes "
      "`results.csv`, `results.md` and `results.json` there. A re-run skips finished runs. "
      "Unknown keys, empty lists and values of the wrong type or range are errors naming the "
      "grid key. `repeats` and `output.dir` cannot be grid axes.\n\n"
      "| key | type | default | allowed | meaning |\n"
      "| --- | --- | --- | --- | --- |\n";
  for (const auto& p : parameters()) {
    out +=
        fmt::format("| `{}` | {} | `{}` | {} | {} |\n", p.key, p.type,
                    p.default_value.empty() ? "\"\"" : p.default_value, p.allowed, p.description);
  }
  return out;
}

}  // namespace autoint::config
