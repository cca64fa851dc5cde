// From a config to tensors and a model: load or generate ratings, featurise, split, encode.
#pragma once

#include <optional>

#include "autoint/config/config.h"
#include "autoint/data/dataset.h"
#include "autoint/data/prepared.h"
#include "autoint/data/table/reader.h"
#include "autoint/movielens/features.h"
#include "autoint/movielens/format.h"
#include "autoint/nn/autoint.h"

namespace autoint::train {

// The featurisation data.features, data.label_threshold, data.drop_ratings and
// data.drop_fields describe.
data::FeatureOptions feature_options(const config::DataConfig& config);

// ML-1M files from data.dir, or the synthetic generator's output for data.synthetic. Throws
// ConfigError for data.source table, which has no MovieLens data.
data::MovieLens load_movielens(const config::DataConfig& config);

// The schema data.table describes (a preset, or its label, columns and fields), with
// data.table.min_count and data.max_multi_values filled in where a field leaves them at 0.
data::TableSchema table_schema(const config::DataConfig& config);

// The files of data.table (train, then validation and test with split files) read with
// table_schema(config) into columns; `info` gets the rows per file.
data::TableColumns load_table(const config::DataConfig& config, data::TableInfo& info);

// Featurises and splits `movielens` as the config says. The vocabulary is fitted on
// the training part (train + validation) unless one is given (a saved run's).
data::PreparedData prepare_data(const data::MovieLens& movielens, const config::DataConfig& config,
                                const std::optional<data::Vocabulary>& vocabulary = std::nullopt);

// As prepare_data for a table (data.source table): split by data.table.split, the vocabulary
// fitted with each field's min_count, encoded in place (data::encode_table: the columns are
// consumed; features are int32, the splits views of one set of tensors); user_ids / item_ids
// are undefined without a user / item column, and ratings hold the labels.
data::PreparedData prepare_table(data::TableColumns&& columns, const data::TableInfo& info,
                                 const config::DataConfig& config,
                                 const std::optional<data::Vocabulary>& vocabulary = std::nullopt);

// The data a config names, loaded: a table's raw features (encoded by prepare_source) or
// MovieLens, whose users, movies and ratings full ranking and implicit training keep using.
struct SourceData {
  bool table = false;
  data::MovieLens movielens;
  data::TableColumns table_columns;
  data::TableInfo table_info;
};

// data.source's files (or the synthetic generator's output), not yet featurised.
SourceData load_source(const config::DataConfig& config);

// What a run records of its data in the manifest (data::fingerprint of either kind).
data::DataFingerprint source_fingerprint(const SourceData& source);

// prepare_table or prepare_data, as the source is; a table's columns become the tensors
// (encoded in place, so `source.table_columns` is consumed).
data::PreparedData prepare_source(SourceData& source, const config::DataConfig& config,
                                  const std::optional<data::Vocabulary>& vocabulary = std::nullopt);

// The model options a config describes, for a fitted encoding's fields; model.dot_fields are
// resolved to the vocabulary's field indices (ConfigError for an unknown name), and a
// history input (data.history, model.history_pooling) to its item field.
nn::AutoIntOptions model_options(const config::ModelConfig& config,
                                 const data::Vocabulary& vocabulary,
                                 const config::HistoryConfig& history = {});
// As above for all-categorical fields with the given embedding table sizes.
nn::AutoIntOptions model_options(const config::ModelConfig& config,
                                 const std::vector<int64_t>& cardinalities);

nn::AttentionKernel attention_kernel(const std::string& name);

// For serving a history-aware run (data.history): every person's positives (data.positives,
// data.label_threshold) among all of `movielens`' ratings, as ids of data.history.field in
// `vocabulary` (movies unseen in training left out). Empty without data.history.
data::Histories serving_histories(const data::MovieLens& movielens,
                                  const data::Vocabulary& vocabulary,
                                  const config::DataConfig& config);

// The index of data.history.field among `vocabulary`'s fields; ConfigError when no
// categorical field has that name.
int64_t history_field(const data::Vocabulary& vocabulary, const std::string& name);

}  // namespace autoint::train
