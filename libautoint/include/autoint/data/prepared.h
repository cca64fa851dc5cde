// A data set ready for training: its fitted vocabulary, its split and the encoded tensors of
// each part (experiment/pipeline.h prepares one from MovieLens or a table).
#pragma once

#include <string>
#include <vector>

#include "autoint/data/dataset.h"
#include "autoint/data/history.h"
#include "autoint/data/vocabulary.h"

namespace autoint::data {

struct PreparedData {
  Vocabulary vocabulary;
  Split split;
  TensorDataset train;
  TensorDataset validation;
  TensorDataset test;
  // data.history (empty without): every person's positives in the training split (the
  // histories of training and validation rows, and of validation ranking), and in the whole
  // training part, validation included (of test rows, test ranking and serving).
  Histories histories;
  Histories test_histories;
  double featurize_seconds = 0;    // fields, split, vocabulary, tensors
  std::vector<std::string> notes;  // for the log, e.g. a multi-valued field that was cut
};

}  // namespace autoint::data
