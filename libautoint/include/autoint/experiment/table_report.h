// Reading and encoding a table as training would, measured: what `autoint-data table` prints.
// No LibTorch in this header, so apps that only report need not compile against it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "autoint/config/config.h"

namespace autoint::train {

struct TableReport {
  int64_t rows = 0;
  int64_t fields = 0;
  int threads = 0;            // parsing threads (the hardware's)
  double read_seconds = 0;    // read_table: parsing and the per-field dictionaries
  double encode_seconds = 0;  // prepare_table: split, vocabulary, encoded tensors
  int64_t train_rows = 0;
  int64_t validation_rows = 0;
  int64_t test_rows = 0;
  std::vector<int64_t> cardinalities;  // embedding rows per field (out-of-vocabulary id included)
  double raw_bytes = 0;                // the columns read: codes, numeric values, labels, ids
  double encoded_bytes = 0;            // every tensor of the three splits
  std::vector<std::string> notes;
};

// Loads and encodes config.table (data.source table) as autoint-train does, timing each part.
// Throws ConfigError for another data.source, and what load_table / prepare_table throw.
TableReport measure_table(const config::DataConfig& config);

}  // namespace autoint::train
