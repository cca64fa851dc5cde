// Seeded splits, the in-memory tensor dataset and its batch iterator.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <torch/torch.h>

namespace autoint::data {

// Row indices of the three splits.
struct Split {
  std::vector<int64_t> train;
  std::vector<int64_t> validation;
  std::vector<int64_t> test;
};

// A seeded random permutation of [0, n) (Fisher-Yates on mt19937_64, identical on
// every platform, unlike std::shuffle).
std::vector<int64_t> permutation(int64_t n, uint64_t seed);

// Shuffles the rows with `seed`; the first ceil(rows * test_fraction) are the test
// split, the rest the training part, whose last floor(size * validation_fraction)
// rows are the validation split (as Keras' validation_split). Deterministic for a seed.
Split split_rows(int64_t rows, double test_fraction, double validation_fraction, uint64_t seed);

// A split held as whole tensors: features [rows, id columns] int64, labels [rows] float32,
// user_ids and item_ids [rows] int64 (MovieLens: the user and movie ids; a table: its user and
// item columns' ids, undefined without them) and ratings [rows] float32 (the raw 1-5 rating; a
// table's labels; for grouping, baselines and reporting, CPU), and numeric [rows, numeric fields]
// float32 (undefined or without columns when the feature set has no numeric field), and history
// [rows, max_len] int64 (data/history.h: each row's history of item ids, 0-padded; undefined
// without data.history).
struct TensorDataset {
  torch::Tensor features;
  torch::Tensor labels;
  torch::Tensor user_ids;
  torch::Tensor item_ids;
  torch::Tensor ratings;
  torch::Tensor numeric;
  torch::Tensor history;
  int64_t rows() const { return features.defined() ? features.size(0) : 0; }
  bool has_numeric() const { return numeric.defined() && numeric.size(1) > 0; }
  bool has_history() const { return history.defined(); }
  // Features, numeric values, histories and labels on `device` (ids stay on the CPU).
  TensorDataset to(const torch::Device& device) const;
};

struct Batch {
  torch::Tensor features;  // [b, id columns] on the dataset's device
  torch::Tensor labels;    // [b]
  torch::Tensor numeric;   // [b, numeric fields], undefined when the dataset has none
  torch::Tensor history;   // [b, max_len], undefined when the dataset has none
};

// Where a BatchIterator stands, so that a resumed run draws the same batches.
struct BatchIteratorState {
  // The shuffling generator as operator<< writes it: before the current pass's shuffle
  // when a pass has started, else as it stands.
  std::string rng;
  bool in_pass = false;  // start_epoch (or next) has been called
  int64_t position = 0;  // rows of the current pass already served
};

// Iterates a dataset in batches: with shuffling, the rows are permuted once per
// epoch (one gather) and batches are contiguous slices of that, so no per-sample
// tensors are made. Batches live on the dataset's device; move the dataset once.
class BatchIterator {
 public:
  // shuffle_seed is used only when shuffle is true; each call to start_epoch draws a
  // new permutation from a generator seeded once with it.
  BatchIterator(const TensorDataset& dataset, int64_t batch_size, bool shuffle,
                uint64_t shuffle_seed = 0);
  // The iterator refers to the dataset: a temporary one would be gone before the first batch.
  BatchIterator(TensorDataset&& dataset, int64_t batch_size, bool shuffle,
                uint64_t shuffle_seed = 0) = delete;

  // Prepares the next pass over the data (reshuffles if shuffling).
  void start_epoch();
  // The next batch of the current pass; false at its end.
  bool next(Batch& batch);
  int64_t batches_per_epoch() const;

  BatchIteratorState state() const;
  // Continues from `state` (taken from an iterator over the same dataset, batch size and
  // seed): redraws the current pass's permutation and skips what was served. Throws
  // std::invalid_argument if the generator text does not parse or the position is out of range.
  void restore(const BatchIteratorState& state);

 private:
  const TensorDataset& dataset_;
  int64_t batch_size_;
  bool shuffle_;
  std::mt19937_64 rng_;
  std::mt19937_64 pass_start_rng_;  // rng_ before the current pass's shuffle
  torch::Tensor features_;
  torch::Tensor labels_;
  torch::Tensor numeric_;
  torch::Tensor history_;
  int64_t position_ = 0;
};

}  // namespace autoint::data
