// Typed experiment configuration, parsed and validated from YAML in one place.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "autoint/nn/defaults.h"

namespace autoint::config {

struct SyntheticConfig {
  int64_t users = 1000;
  int64_t movies = 400;
  int64_t ratings = 100000;
  int64_t seed = 7;
};

// One model field of a delimited-text table (data.table.fields; see data/table/reader.h).
struct TableFieldConfig {
  std::string name;
  std::string column;                     // the source column; "": the same as name
  std::string kind = "categorical";       // "categorical", "multi" or "numeric"
  int64_t min_count = 0;                  // 0: data.table.min_count
  std::string separator = "|";            // multi: between values (one character)
  int64_t max_width = 0;                  // multi: 0: data.max_multi_values
  std::string transform = "standardize";  // numeric: "standardize", "log" or "bucketize"
  std::vector<double> boundaries;         // bucketize: strictly ascending
  // categorical: "" (the text), "element" (value `index` of the text split at `separator`),
  // "decade", "utc_year" or "utc_month" (data::derive_value).
  std::string derive;
  int64_t index = 0;
  bool operator==(const TableFieldConfig& o) const {
    return name == o.name && column == o.column && kind == o.kind && min_count == o.min_count &&
           separator == o.separator && max_width == o.max_width && transform == o.transform &&
           boundaries == o.boundaries && derive == o.derive && index == o.index;
  }
};

// data.source table: delimited text files read with a schema (a preset or the fields below).
struct TableConfig {
  std::string preset = "none";  // "none" (the keys below), "criteo" or "avazu"
  std::string train;            // the file to read (with split files: the training part)
  std::string validation;       // split files: optional; "" carves data.validation_fraction
  std::string test;             // split files: the test part
  // "random" (seeded by data.split_seed, as for MovieLens), "files" (train / validation /
  // test files) or "order" (the last data.test_fraction of the rows is the test split).
  std::string split = "random";
  std::string separator = ",";  // one character; "\t" for tabs
  bool header = true;
  std::vector<std::string> columns;  // the column names when there is no header row
  std::string label;
  // label = (value >= threshold); NaN (YAML "none"): the label column holds 0 and 1.
  double label_threshold = std::numeric_limits<double>::quiet_NaN();
  std::string user;  // optional: per-user ranking metrics
  std::string item;  // optional: per-item baselines
  int64_t min_count = 1;
  std::vector<TableFieldConfig> fields;
};

// data.history: each row's history of liked items (data/history.h), an input of the model.
struct HistoryConfig {
  std::string field;          // the item field the history holds ids of; "": no history
  int64_t max_len = 100;      // the most recent this many are kept
  std::string order = "bag";  // "bag" (all but the row's own item) or "recent" (before its time)
};

struct DataConfig {
  // "movielens" (files in dir), "synthetic" (the ML-1M-shaped generator) or "table"
  std::string source = "movielens";
  std::string dir;  // ML-1M directory (users.dat, movies.dat, ratings.dat)
  SyntheticConfig synthetic;
  // "seed" (13 categorical fields), "paper" (7 fields) or "custom" (`fields`, below).
  std::string features = "seed";
  std::vector<std::string> drop_fields;  // fields of the feature set left out
  double label_threshold = 4.0;          // rating >= threshold is a positive
  // What counts as an interaction for train.objective implicit and the item-item
  // full-ranking baselines: "liked" (rating >= label_threshold) or "rated" (any rating).
  std::string positives = "liked";
  std::vector<int64_t> drop_ratings;  // rows with these ratings (1-5) are left out
  int64_t max_multi_values = 32;      // a multi-valued field keeps this many values per row
  double test_fraction = 0.2;
  double validation_fraction = 0.1;  // of the training part, taken from its end (as Keras)
  int64_t split_seed = 42;
  TableConfig table;
  int64_t max_rows = 0;  // table: read at most this many rows (0: all)
  // features custom: MovieLens fields of one's own over the joined columns
  // (data::movielens_columns()), in the form of data.table.fields.
  std::vector<TableFieldConfig> fields;
  HistoryConfig history;
};

struct ModelConfig {
  std::string type = "autoint_plus";  // "autoint", "autoint_plus" or "lr" (first order only)
  // Defaults: nn/defaults.h (shared with nn::AutoIntOptions).
  int64_t embed_dim = nn::defaults::kEmbedDim;
  int64_t num_layers = nn::defaults::kNumLayers;
  int64_t num_heads = nn::defaults::kNumHeads;
  int64_t attention_dim = nn::defaults::kAttentionDim;  // per head; 0 means embed_dim (the seed)
  bool scale_attention = nn::defaults::kScaleAttention;
  bool use_residual = nn::defaults::kUseResidual;
  bool layer_norm = nn::defaults::kLayerNorm;
  double attention_dropout = nn::defaults::kAttentionDropout;
  std::vector<int64_t> dnn_hidden_units{nn::defaults::kDnnHiddenUnits.begin(),
                                        nn::defaults::kDnnHiddenUnits.end()};
  double dropout = nn::defaults::kDnnDropout;  // DNN dropout
  std::string attention_kernel = "auto";       // "auto", "plain" or "fused"
  // Empty, or two field names whose embeddings' dot product is added to the logit.
  std::vector<std::string> dot_fields;
  // 0: the dot product over the shared embeddings; > 0: over embeddings of their own, this wide.
  int64_t dot_dim = 0;
  // With data.history: "mean", "attention" (DIN) or "tokens" (BST); nn/history.h.
  std::string history_pooling = "mean";
};

// Sampled negatives of train.objective implicit.
struct NegativesConfig {
  int64_t per_positive = 16;        // movies drawn for each training positive, every epoch
  std::string sampler = "uniform";  // "uniform" or "popularity"
  double exponent = 0.75;           // popularity: weight (positives + 1)^exponent
};

struct TrainConfig {
  // "rating": rated rows with label rating >= threshold (the seed); "implicit": the
  // training part's interactions (data.positives) against sampled negatives.
  std::string objective = "rating";
  std::string loss = "bce";  // "bce" or "bpr" (implicit only: positive vs its negatives)
  NegativesConfig negatives;
  int64_t epochs = 5;
  int64_t batch_size = 2048;
  double learning_rate = 1e-4;
  double l2_embedding = 0.0;
  // The share of training rows (implicit: groups) whose user_id is replaced by the unknown id
  // 0, so that a history-aware model learns to score people it has no id for.
  double user_dropout = 0.0;
  int64_t seed = 42;
  int64_t threads = 0;   // 0: LibTorch's default
  int64_t patience = 0;  // 0: no early stopping
  // Validation metric for early stopping: "logloss", "auc", or (full ranking of the
  // validation split at eval.top_k) "ndcg" or "recall".
  std::string monitor = "logloss";
  int64_t ranking_validation_users = 0;  // full-ranking validation: seeded user sample; 0: all
  std::string progress = "auto";         // "auto", "bar", "lines" or "none"
};

struct EvalConfig {
  int64_t top_k = 10;
  int64_t batch_size = 16384;
  std::string protocol = "seed";                // "seed", "full_ranking" or "both"
  int64_t full_ranking_users = 0;               // 0: every test user with a positive
  std::string full_ranking_time = "user_last";  // or "data_last"
  int64_t knn_neighbours = 200;                 // the item_knn baseline's k
  double ease_lambda = 500.0;                   // the ease baseline's L2 weight
};

// Data-parallel training over c10d (docs/distributed.md); the world itself (WORLD_SIZE,
// RANK, ...) comes from the environment or autoint-train's flags.
struct DistributedConfig {
  std::string backend = "auto";  // "auto" (NCCL on CUDA, Gloo on CPU), "gloo" or "nccl"
  int64_t timeout_s = 300;       // rendezvous and every collective
  int64_t bucket_mb = 25;        // gradients are allreduced in flat buckets of at most this
};

struct OutputConfig {
  std::string dir = "runs/default";
};

// One axis of a grid: a declared key and the values to try, each as YAML text (the form
// `--set key=value` takes), e.g. {"model.embed_dim", {"8", "16"}}.
struct GridAxis {
  std::string key;
  std::vector<std::string> values;
};

struct Config {
  DataConfig data;
  ModelConfig model;
  TrainConfig train;
  EvalConfig eval;
  std::string device = "auto";
  DistributedConfig distributed;
  OutputConfig output;
  // A `grid:` section (key: [values]) makes autoint-train run the Cartesian product of the
  // axes, each combination `repeats` times with seeds train.seed, train.seed + 1, ...
  std::vector<GridAxis> grid;
  int64_t repeats = 1;
  // A grid of more runs (combinations x repeats) than this is refused before it is expanded.
  int64_t max_runs = 10000;
};

// One declared parameter, as documented: dotted key, type, default, allowed values.
struct ParameterInfo {
  std::string key;
  std::string type;
  std::string default_value;
  std::string allowed;
  std::string description;
};

// Every parameter the parser accepts, in declaration order (the single source of truth).
const std::vector<ParameterInfo>& parameters();

// Loads a YAML config file, applies `key=value` overrides (values are YAML, so
// `model.dnn_hidden_units=[64,32]` works), then validates. Throws ConfigError
// naming the file, line and column (or the override), the dotted key, the bad
// value and what was expected, for unknown keys, wrong types and out-of-range values.
Config load_config(const std::string& path, const std::vector<std::string>& overrides = {});

// As load_config, from YAML text; `origin` names the text in messages.
Config parse_config(const std::string& yaml, const std::string& origin,
                    const std::vector<std::string>& overrides = {});

// Checks cross-field rules (e.g. data.dir required for movielens); throws ConfigError.
void validate(const Config& config, const std::string& origin);

// `config` with `key=value` overrides applied (as --set; each names itself in errors) and
// validated, `origin` naming the result in cross-field errors. The grid runner makes each
// combination's config with it.
Config with_overrides(Config config, const std::vector<std::string>& overrides,
                      const std::string& origin);

// The fully resolved config as YAML; parse_config(to_yaml(c)) reproduces c.
std::string to_yaml(const Config& config);

// A Markdown reference of every parameter (docs/configuration.md is this text).
std::string reference_markdown();

}  // namespace autoint::config
