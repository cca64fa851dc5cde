// A table's columns into the model's tensors, encoded in place (no second copy of the table).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "autoint/data/dataset.h"
#include "autoint/data/table/reader.h"
#include "autoint/data/vocabulary.h"

namespace autoint::data {

struct TableEncodingOptions {
  std::vector<int64_t> min_counts;  // per field, as Vocabulary::fit (empty: 1 each)
  int64_t max_width = 32;           // a multi-valued field's most ids, as Vocabulary::fit
  // Encode with this vocabulary (a saved run's) instead of fitting one; it must have the
  // columns' fields.
  const Vocabulary* vocabulary = nullptr;
  // Threads for counting, moving rows and mapping (0: the hardware's). The result does not
  // depend on it: each field is counted and summed over the rows in order on one thread.
  int threads = 0;
};

struct EncodedTable {
  Vocabulary vocabulary;
  TensorDataset train;
  TensorDataset validation;
  TensorDataset test;
  std::vector<std::string> notes;  // as Vocabulary::fit's
};

// Encodes the columns into the datasets of `split`, whose three row lists must together hold
// every row of the table once. In place: the vocabulary is fitted on the training and
// validation rows in table order, as Vocabulary::fit on them in ascending order does (unless one
// is given); the rows are moved within the columns' own buffers so that the training rows come
// first, then the validation and the test rows (only which rows a list holds matters, not its
// order: each split's rows end in the order encoded_row_order gives, table order for a split
// already in order); the codes become ids and the numeric values are standardised, and the
// tensors take the buffers over. The three datasets are views of one set of tensors: features
// int32 [rows, id columns], numeric float32 [rows, numeric fields], labels float32, ratings the
// labels (the same tensor), user_ids and item_ids int64 (the columns' user and item ids;
// undefined without them). Peak memory: the columns plus 1 byte per row and 1 per row and
// thread (and, with a multi-valued field wider than one id, the wider id buffer while it is
// filled). The ids, numbers and labels equal those of Vocabulary::fit and encode on
// to_raw_features(columns) for the same rows. Throws std::invalid_argument when the split is not
// a partition of the rows, the given vocabulary has other fields, or the columns are
// inconsistent (sizes that do not match the rows and fields, a code outside its field's
// dictionary; the first such code met in table order among the fitting rows is named).
EncodedTable encode_table(TableColumns&& columns, const Split& split,
                          const TableEncodingOptions& options = {});

// The rows of the table in the order encode_table leaves them for `split`: train, validation,
// test, row p of the encoded table being row order[p] of the columns. Each split's rows are
// moved to their region by swapping misplaced pairs (a training row found in the validation or
// test region with the first non-training row of the training region, and so on), so a row
// already in its region stays where it is. Throws as encode_table does for a split that is not
// a partition.
std::vector<int64_t> encoded_row_order(const Split& split);

}  // namespace autoint::data
