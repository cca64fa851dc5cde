// A data set ready for training: its fitted vocabulary, its split and the encoded tensors of
// each part (experiment/pipeline.h prepares one from MovieLens or a table).
#pragma once

#include <string>
#include <vector>

#include "autoint/data/dataset.h"
#include "autoint/data/vocabulary.h"

namespace autoint::data {

struct PreparedData {
  Vocabulary vocabulary;
  Split split;
  TensorDataset train;
  TensorDataset validation;
  TensorDataset test;
  double featurize_seconds = 0;    // fields, split, vocabulary, tensors
  std::vector<std::string> notes;  // for the log, e.g. a multi-valued field that was cut
};

}  // namespace autoint::data
