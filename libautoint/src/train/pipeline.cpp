// Config-driven data preparation and model construction.
#include "autoint/train/pipeline.h"

#include <chrono>

#include <fmt/format.h>

#include "autoint/data/synthetic.h"
#include "autoint/error.h"

namespace autoint::train {
namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

data::TensorDataset make_dataset(const data::RawFeatures& raw, const data::Vocabulary& vocab,
                                 const std::vector<int64_t>& rows) {
  const auto n = static_cast<int64_t>(rows.size());
  auto labels = torch::empty({n}, torch::kFloat32);
  auto users = torch::empty({n}, torch::kInt64);
  auto movies = torch::empty({n}, torch::kInt64);
  auto ratings = torch::empty({n}, torch::kFloat32);
  float* l = labels.data_ptr<float>();
  int64_t* u = users.data_ptr<int64_t>();
  int64_t* m = movies.data_ptr<int64_t>();
  float* r = ratings.data_ptr<float>();
  for (int64_t i = 0; i < n; ++i) {
    l[i] = raw.labels[rows[i]];
    u[i] = raw.user_ids[rows[i]];
    m[i] = raw.movie_ids[rows[i]];
    r[i] = raw.ratings[rows[i]];
  }
  auto encoded = vocab.encode(raw, rows);
  return {encoded.ids, labels, users, movies, ratings, encoded.numeric};
}

}  // namespace

data::FeatureOptions feature_options(const config::DataConfig& config) {
  data::FeatureOptions options;
  options.feature_set = config.features;
  options.label_threshold = config.label_threshold;
  options.drop_ratings = config.drop_ratings;
  options.drop_fields = config.drop_fields;
  return options;
}

data::MovieLens load_movielens(const config::DataConfig& config) {
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

PreparedData prepare_data(const data::MovieLens& movielens, const config::DataConfig& config,
                          const std::optional<data::Vocabulary>& vocabulary) {
  const auto start = std::chrono::steady_clock::now();
  data::RawFeatures raw;
  try {
    raw = data::featurize(movielens, feature_options(config));
  } catch (const std::invalid_argument& e) {  // an unknown or over-eager data.drop_fields
    throw ConfigError(fmt::format("data.drop_fields: {}", e.what()));
  }
  PreparedData out;
  out.split = data::split_rows(raw.rows(), config.test_fraction, config.validation_fraction,
                               static_cast<uint64_t>(config.split_seed));
  if (vocabulary) {
    out.vocabulary = *vocabulary;
  } else {
    std::vector<int64_t> fit_rows = out.split.train;
    fit_rows.insert(fit_rows.end(), out.split.validation.begin(), out.split.validation.end());
    out.vocabulary = data::Vocabulary::fit(raw, fit_rows, config.max_multi_values, &out.notes);
  }
  out.train = make_dataset(raw, out.vocabulary, out.split.train);
  out.validation = make_dataset(raw, out.vocabulary, out.split.validation);
  out.test = make_dataset(raw, out.vocabulary, out.split.test);
  out.featurize_seconds = seconds_since(start);
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
                                 const data::Vocabulary& vocabulary) {
  return model_options(config, vocabulary.cardinalities())
      .field_kinds(vocabulary.kinds())
      .field_widths(vocabulary.widths());
}

nn::AutoIntOptions model_options(const config::ModelConfig& c,
                                 const std::vector<int64_t>& cardinalities) {
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

}  // namespace autoint::train
