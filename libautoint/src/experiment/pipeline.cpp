// Config-driven data preparation and model construction.
#include "autoint/experiment/pipeline.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <tuple>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "autoint/data/table/encoding.h"
#include "autoint/error.h"
#include "autoint/movielens/synthetic.h"
#include "autoint/util/clock.h"

namespace autoint::train {
namespace {

// The rows' values of a per-row column; undefined when the raw features have none (a table
// without a user or item column).
template <class T>
torch::Tensor gather_column(const std::vector<T>& column, const std::vector<int64_t>& rows,
                            torch::ScalarType type) {
  if (column.empty() && !rows.empty())
    return {};
  const auto n = static_cast<int64_t>(rows.size());
  auto out = torch::empty({n}, type);
  T* o = out.data_ptr<T>();
  for (int64_t i = 0; i < n; ++i)
    o[i] = column[static_cast<std::size_t>(rows[static_cast<std::size_t>(i)])];
  return out;
}

data::TensorDataset make_dataset(const data::RawFeatures& raw, const data::Vocabulary& vocab,
                                 const std::vector<int64_t>& rows) {
  auto encoded = vocab.encode(raw, rows);
  return {encoded.ids,
          gather_column(raw.labels, rows, torch::kFloat32),
          gather_column(raw.user_ids, rows, torch::kInt64),
          gather_column(raw.movie_ids, rows, torch::kInt64),
          gather_column(raw.ratings, rows, torch::kFloat32),
          encoded.numeric,
          {}};
}

// Splits rows [0, rows) in order: the last ceil(rows * test_fraction) are the test split, the
// last floor(rest * validation_fraction) of the rest the validation split.
data::Split split_in_order(int64_t begin, int64_t rows, double test_fraction,
                           double validation_fraction) {
  data::Split split;
  const auto test = static_cast<int64_t>(std::ceil(static_cast<double>(rows) * test_fraction));
  const int64_t rest = rows - test;
  const auto validation =
      static_cast<int64_t>(std::floor(static_cast<double>(rest) * validation_fraction));
  for (int64_t r = 0; r < rows; ++r) {
    auto& part = r >= rest ? split.test : r >= rest - validation ? split.validation : split.train;
    part.push_back(begin + r);
  }
  return split;
}

// A configured field (data.table.fields or data.fields), with `min_count` and `max_width`
// where it leaves them at 0.
data::TableField table_field(const config::TableFieldConfig& f, int64_t min_count,
                             int64_t max_width) {
  data::TableField field;
  field.name = f.name;
  field.column = f.column;
  if (!parse_field_kind(f.kind, field.kind))
    throw ConfigError(fmt::format("fields ({}): unknown kind {}", f.name, f.kind));
  field.min_count = f.min_count > 0 ? f.min_count : min_count;
  field.separator = f.separator.empty() ? '|' : f.separator[0];
  field.max_width = f.max_width > 0 ? f.max_width : max_width;
  field.transform = f.transform;
  field.boundaries = f.boundaries;
  field.derive = f.derive;
  field.index = f.index;
  return field;
}

// The vocabulary's min_counts and multi-valued width of a schema's fields.
std::pair<std::vector<int64_t>, int64_t> vocabulary_limits(
    const std::vector<data::TableField>& fields) {
  std::vector<int64_t> min_counts;
  int64_t max_width = 1;
  for (const auto& f : fields) {
    min_counts.push_back(f.min_count);
    if (f.kind == FieldKind::multi_categorical)
      max_width = std::max(max_width, f.max_width);
  }
  return {min_counts, max_width};
}

// The positives (data.positives) of `rows` of `raw` as history events of the item field.
void add_events(const data::RawFeatures& raw, const data::TensorDataset& part,
                const std::vector<int64_t>& rows, int64_t column, bool rated,
                std::vector<int64_t>& users, std::vector<int64_t>& items,
                std::vector<int64_t>& times) {
  const auto ids = part.features.select(1, column).to(torch::kInt64).contiguous();
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto r = static_cast<std::size_t>(rows[i]);
    if (!rated && raw.labels[r] < 0.5F)
      continue;
    users.push_back(raw.user_ids[r]);
    items.push_back(ids.data_ptr<int64_t>()[i]);
    times.push_back(raw.timestamps[r]);
  }
}

// Each part's history rows: its person's positives of `histories`, without the row's own item
// (bag) or before its time (recent).
void fill_history(const data::RawFeatures& raw, const data::Histories& histories,
                  const std::vector<int64_t>& rows, int64_t column, data::TensorDataset& part) {
  std::vector<int64_t> users, own, before;
  const auto ids = part.features.select(1, column).to(torch::kInt64).contiguous();
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto r = static_cast<std::size_t>(rows[i]);
    users.push_back(raw.user_ids[r]);
    own.push_back(ids.data_ptr<int64_t>()[i]);
    before.push_back(raw.timestamps[r]);
  }
  part.history = histories.rows(users, own, before);
}

// data.history.order, parsed.
data::HistoryOrder history_order(const config::HistoryConfig& history) {
  data::HistoryOrder order = data::HistoryOrder::bag;
  if (!data::parse_history_order(history.order, order)) {
    throw ConfigError(
        fmt::format("data.history.order must be bag or recent (got \"{}\")", history.order));
  }
  return order;
}

// data.history: the training split's and the training part's histories, and every row's.
void add_histories(const data::RawFeatures& raw, const config::DataConfig& config,
                   data::PreparedData& out) {
  const auto& h = config.history;
  const data::HistoryOrder order = history_order(h);
  if (raw.timestamps.size() != raw.labels.size())
    throw ConfigError("data.history needs each rating's time (a MovieLens source)");
  const int64_t column =
      out.vocabulary.id_column(static_cast<std::size_t>(history_field(out.vocabulary, h.field)));
  const bool rated = config.positives == "rated";
  std::vector<int64_t> users, items, times;
  add_events(raw, out.train, out.split.train, column, rated, users, items, times);
  out.histories = data::Histories(h.max_len, order, users, items, times);
  add_events(raw, out.validation, out.split.validation, column, rated, users, items, times);
  out.test_histories = data::Histories(h.max_len, order, users, items, times);
  fill_history(raw, out.histories, out.split.train, column, out.train);
  fill_history(raw, out.histories, out.split.validation, column, out.validation);
  fill_history(raw, out.test_histories, out.split.test, column, out.test);
}

}  // namespace

int64_t history_field(const data::Vocabulary& vocabulary, const std::string& name) {
  const auto& fields = vocabulary.fields();
  std::vector<std::string> names;
  for (std::size_t f = 0; f < fields.size(); ++f) {
    if (fields[f].name == name) {
      if (fields[f].kind != FieldKind::categorical) {
        throw ConfigError(fmt::format(
            "data.history.field {}: a history holds ids of a categorical field (got a {} field)",
            name, to_string(fields[f].kind)));
      }
      return static_cast<int64_t>(f);
    }
    names.push_back(fields[f].name);
  }
  throw ConfigError(fmt::format("data.history.field: no field \"{}\" (the fields are {})", name,
                                fmt::join(names, ", ")));
}

data::Histories serving_histories(const data::MovieLens& movielens,
                                  const data::Vocabulary& vocabulary,
                                  const config::DataConfig& config) {
  const auto& h = config.history;
  if (h.field.empty())
    return {};
  const data::HistoryOrder order = history_order(h);
  const int64_t field = history_field(vocabulary, h.field);
  const bool rated = config.positives == "rated";
  std::vector<int64_t> users, items, times;
  for (const auto& r : movielens.ratings) {
    if (!rated && r.rating < config.label_threshold)
      continue;
    const int64_t id = vocabulary.id(field, std::to_string(r.movie_id));
    if (id == 0)
      continue;  // not in the training part: the model has no embedding for it
    users.push_back(r.user_id);
    items.push_back(id);
    times.push_back(r.timestamp);
  }
  return data::Histories(h.max_len, order, users, items, times);
}

data::FeatureOptions feature_options(const config::DataConfig& config) {
  data::FeatureOptions options;
  options.feature_set = config.features;
  for (const auto& f : config.fields)
    options.fields.push_back(table_field(f, 1, config.max_multi_values));
  options.label_threshold = config.label_threshold;
  options.drop_ratings = config.drop_ratings;
  options.drop_fields = config.drop_fields;
  return options;
}

data::MovieLens load_movielens(const config::DataConfig& config) {
  if (config.source == "table") {
    throw ConfigError(fmt::format(
        "data.source table ({}): this needs MovieLens data (users, movies and ratings), which a "
        "table does not have",
        config.table.train));
  }
  if (config.source == "synthetic") {
    data::SyntheticOptions options;
    options.users = config.synthetic.users;
    options.movies = config.synthetic.movies;
    options.ratings = config.synthetic.ratings;
    options.seed = static_cast<uint64_t>(config.synthetic.seed);
    return data::generate_synthetic(options);
  }
  return data::read_movielens(config.dir);
}

data::PreparedData prepare_data(const data::MovieLens& movielens, const config::DataConfig& config,
                                const std::optional<data::Vocabulary>& vocabulary) {
  const auto start = util::Clock::now();
  data::RawFeatures raw;
  const data::FeatureOptions options = feature_options(config);
  try {
    raw = data::featurize(movielens, options);
  } catch (const std::invalid_argument& e) {  // data.fields, or an unknown data.drop_fields
    throw ConfigError(fmt::format(
        "{}: {}", config.features == "custom" ? "data.fields" : "data.drop_fields", e.what()));
  }
  data::PreparedData out;
  out.split = data::split_rows(raw.rows(), config.test_fraction, config.validation_fraction,
                               static_cast<uint64_t>(config.split_seed));
  if (vocabulary) {
    out.vocabulary = *vocabulary;
  } else {
    std::vector<int64_t> fit_rows = out.split.train;
    fit_rows.insert(fit_rows.end(), out.split.validation.begin(), out.split.validation.end());
    if (config.features == "custom") {
      // The kept fields' min_counts (data.drop_fields may have left some out).
      std::vector<data::TableField> kept;
      for (const auto& f : options.fields) {
        if (std::find(config.drop_fields.begin(), config.drop_fields.end(), f.name) ==
            config.drop_fields.end())
          kept.push_back(f);
      }
      const auto [min_counts, max_width] = vocabulary_limits(kept);
      out.vocabulary = data::Vocabulary::fit(raw, fit_rows, max_width, &out.notes, min_counts);
    } else {
      out.vocabulary = data::Vocabulary::fit(raw, fit_rows, config.max_multi_values, &out.notes);
    }
  }
  out.train = make_dataset(raw, out.vocabulary, out.split.train);
  out.validation = make_dataset(raw, out.vocabulary, out.split.validation);
  out.test = make_dataset(raw, out.vocabulary, out.split.test);
  if (!config.history.field.empty())
    add_histories(raw, config, out);
  out.featurize_seconds = util::seconds_since(start);
  return out;
}

data::TableSchema table_schema(const config::DataConfig& config) {
  const config::TableConfig& t = config.table;
  data::TableSchema schema;
  if (t.preset != "none") {
    schema = data::table_preset(t.preset, t.min_count);
  } else {
    schema.separator = t.separator.empty() ? ',' : t.separator[0];
    schema.header = t.header;
    schema.columns = t.columns;
    schema.label = t.label;
    for (const auto& f : t.fields)
      schema.fields.push_back(table_field(f, t.min_count, config.max_multi_values));
  }
  schema.label_threshold = t.label_threshold;
  schema.user = t.user;
  schema.item = t.item;
  schema.max_rows = config.max_rows;
  return schema;
}

data::TableColumns load_table(const config::DataConfig& config, data::TableInfo& info) {
  std::vector<std::string> paths{config.table.train};
  if (config.table.split == "files") {
    if (!config.table.validation.empty())
      paths.push_back(config.table.validation);
    paths.push_back(config.table.test);
  }
  return data::read_table_columns(paths, table_schema(config), &info);
}

data::PreparedData prepare_table(data::TableColumns&& columns, const data::TableInfo& info,
                                 const config::DataConfig& config,
                                 const std::optional<data::Vocabulary>& vocabulary) {
  const auto start = util::Clock::now();
  data::PreparedData out;
  const int64_t rows = columns.rows();
  const config::TableConfig& t = config.table;
  if (t.split == "random") {
    out.split = data::split_rows(rows, config.test_fraction, config.validation_fraction,
                                 static_cast<uint64_t>(config.split_seed));
  } else if (t.split == "order") {
    out.split = split_in_order(0, rows, config.test_fraction, config.validation_fraction);
  } else {
    const std::vector<int64_t>& n = info.file_rows;
    const bool validation_file = !t.validation.empty();
    if (n.size() != (validation_file ? 3u : 2u)) {
      throw DataError(fmt::format(
          "{}: data.max_rows {} ends the rows before the test file (split files reads every file; "
          "use data.max_rows 0)",
          t.train, config.max_rows));
    }
    if (validation_file) {
      out.split = split_in_order(0, n[0], 0.0, 0.0);
      for (int64_t r = 0; r < n[1]; ++r)
        out.split.validation.push_back(n[0] + r);
    } else {
      out.split = split_in_order(0, n[0], 0.0, config.validation_fraction);
    }
    const int64_t test_begin = rows - n.back();
    for (int64_t r = test_begin; r < rows; ++r)
      out.split.test.push_back(r);
  }
  if (out.split.train.empty() || out.split.test.empty()) {
    throw DataError(
        fmt::format("{}: {} rows give {} training and {} test rows; expected at least one of each",
                    t.train, rows, out.split.train.size(), out.split.test.size()));
  }
  data::TableEncodingOptions encoding;
  std::tie(encoding.min_counts, encoding.max_width) =
      vocabulary_limits(table_schema(config).fields);
  if (vocabulary)
    encoding.vocabulary = &*vocabulary;
  data::EncodedTable encoded = data::encode_table(std::move(columns), out.split, encoding);
  out.vocabulary = std::move(encoded.vocabulary);
  out.train = std::move(encoded.train);
  out.validation = std::move(encoded.validation);
  out.test = std::move(encoded.test);
  out.notes = std::move(encoded.notes);
  out.featurize_seconds = util::seconds_since(start);
  return out;
}

nn::AttentionKernel attention_kernel(const std::string& name) {
  if (name == "auto")
    return nn::AttentionKernel::automatic;
  if (name == "plain")
    return nn::AttentionKernel::plain;
  if (name == "fused")
    return nn::AttentionKernel::fused;
  throw ConfigError(
      fmt::format("model.attention_kernel must be auto, plain or fused (got \"{}\")", name));
}

nn::AutoIntOptions model_options(const config::ModelConfig& config,
                                 const data::Vocabulary& vocabulary,
                                 const config::HistoryConfig& history) {
  std::vector<int64_t> dot;
  const auto& fields = vocabulary.fields();
  for (const std::string& name : config.dot_fields) {
    const auto it = std::find_if(fields.begin(), fields.end(),
                                 [&](const data::FieldSpec& f) { return f.name == name; });
    if (name == "history" && !history.field.empty()) {
      dot.push_back(static_cast<int64_t>(fields.size()));  // the pooled history field
      continue;
    }
    if (it == fields.end()) {
      std::vector<std::string> names;
      for (const auto& f : fields)
        names.push_back(f.name);
      throw ConfigError(fmt::format("model.dot_fields: no field \"{}\" (the fields are {}{})", name,
                                    fmt::join(names, ", "),
                                    history.field.empty() ? "" : ", history"));
    }
    dot.push_back(it - fields.begin());
  }
  nn::HistoryOptions history_options;
  if (!history.field.empty()) {
    nn::HistoryPooling pooling = nn::HistoryPooling::mean;
    if (!nn::parse_history_pooling(config.history_pooling, pooling)) {
      throw ConfigError(
          fmt::format("model.history_pooling must be mean, attention or tokens (got \"{}\")",
                      config.history_pooling));
    }
    history_options.item_field(history_field(vocabulary, history.field))
        .max_len(history.max_len)
        .pooling(pooling);
  }
  config::ModelConfig by_index = config;
  by_index.dot_fields.clear();
  return model_options(by_index, vocabulary.cardinalities())
      .field_kinds(vocabulary.kinds())
      .field_widths(vocabulary.widths())
      .dot_fields(dot)
      .dot_dim(config.dot_dim)
      .history(history_options);
}

nn::AutoIntOptions model_options(const config::ModelConfig& c,
                                 const std::vector<int64_t>& cardinalities) {
  if (!c.dot_fields.empty()) {
    throw ConfigError(fmt::format(
        "model.dot_fields [{}] names fields, but only field cardinalities were given (expected "
        "the data's vocabulary)",
        fmt::join(c.dot_fields, ", ")));
  }
  if (c.type == "lr") {
    // A linear function of the field embeddings (attention_out + dnn_out, no hidden layer):
    // logistic regression over the same ids and numeric values.
    return nn::AutoIntOptions(cardinalities)
        .embed_dim(c.embed_dim)
        .num_layers(0)
        .use_dnn(true)
        .dnn_hidden_units({})
        .dnn_dropout(0.0)
        .kernel(attention_kernel(c.attention_kernel));
  }
  return nn::AutoIntOptions(cardinalities)
      .embed_dim(c.embed_dim)
      .num_layers(c.num_layers)
      .num_heads(c.num_heads)
      .attention_dim(c.attention_dim)
      .use_residual(c.use_residual)
      .scale_attention(c.scale_attention)
      .layer_norm(c.layer_norm)
      .attention_dropout(c.attention_dropout)
      .use_dnn(c.type == "autoint_plus")
      .dnn_hidden_units(c.dnn_hidden_units)
      .dnn_dropout(c.dropout)
      .kernel(attention_kernel(c.attention_kernel));
}

SourceData load_source(const config::DataConfig& config) {
  SourceData out;
  out.table = config.source == "table";
  if (out.table)
    out.table_columns = load_table(config, out.table_info);
  else
    out.movielens = load_movielens(config);
  return out;
}

data::DataFingerprint source_fingerprint(const SourceData& source) {
  return source.table ? data::fingerprint(source.table_columns)
                      : data::fingerprint(source.movielens);
}

data::PreparedData prepare_source(SourceData& source, const config::DataConfig& config,
                                  const std::optional<data::Vocabulary>& vocabulary) {
  if (source.table)
    return prepare_table(std::move(source.table_columns), source.table_info, config, vocabulary);
  return prepare_data(source.movielens, config, vocabulary);
}

}  // namespace autoint::train
