// From a config to tensors and a model: load or generate ratings, featurise, split, encode.
#pragma once

#include <optional>

#include "autoint/config/config.h"
#include "autoint/data/dataset.h"
#include "autoint/data/features.h"
#include "autoint/data/movielens.h"
#include "autoint/nn/autoint.h"

namespace autoint::train {

// The featurisation data.features, data.label_threshold, data.drop_ratings and
// data.drop_fields describe.
data::FeatureOptions feature_options(const config::DataConfig& config);

// ML-1M files from data.dir, or the synthetic generator's output for data.synthetic.
data::MovieLens load_movielens(const config::DataConfig& config);

struct PreparedData {
  data::Vocabulary vocabulary;
  data::Split split;
  data::TensorDataset train;
  data::TensorDataset validation;
  data::TensorDataset test;
  double featurize_seconds = 0;    // fields, split, vocabulary, tensors
  std::vector<std::string> notes;  // for the log, e.g. a multi-valued field that was cut
};

// Featurises and splits `movielens` as the config says. The vocabulary is fitted on
// the training part (train + validation) unless one is given (a saved run's).
PreparedData prepare_data(const data::MovieLens& movielens, const config::DataConfig& config,
                          const std::optional<data::Vocabulary>& vocabulary = std::nullopt);

// The model options a config describes, for a fitted encoding's fields.
nn::AutoIntOptions model_options(const config::ModelConfig& config,
                                 const data::Vocabulary& vocabulary);
// As above for all-categorical fields with the given embedding table sizes.
nn::AutoIntOptions model_options(const config::ModelConfig& config,
                                 const std::vector<int64_t>& cardinalities);

nn::AttentionKernel attention_kernel(const std::string& name);

}  // namespace autoint::train
