// Splits and batch iteration over whole-split tensors.
#include "autoint/data/dataset.h"

#include <cmath>
#include <cstdint>
#include <numeric>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>

namespace autoint::data {
namespace {

// Unbiased integer in [0, bound): reject the incomplete top block, then reduce.
uint64_t bounded(std::mt19937_64& rng, uint64_t bound) {
  const uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
  uint64_t x = rng();
  while (x >= limit)
    x = rng();
  return x % bound;
}

std::vector<int64_t> shuffled(int64_t n, std::mt19937_64& rng) {
  std::vector<int64_t> p(static_cast<std::size_t>(n));
  std::iota(p.begin(), p.end(), 0);
  for (int64_t i = n - 1; i > 0; --i) {
    std::swap(p[i], p[bounded(rng, static_cast<uint64_t>(i) + 1)]);
  }
  return p;
}

}  // namespace

std::vector<int64_t> permutation(int64_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  return shuffled(n, rng);
}

Split split_rows(int64_t rows, double test_fraction, double validation_fraction, uint64_t seed) {
  if (rows < 2)
    throw std::invalid_argument(fmt::format("cannot split {} rows", rows));
  if (!(test_fraction > 0 && test_fraction < 1) ||
      !(validation_fraction >= 0 && validation_fraction < 1)) {
    throw std::invalid_argument(fmt::format(
        "test_fraction must be in (0, 1) and validation_fraction in [0, 1) (got {}, {})",
        test_fraction, validation_fraction));
  }
  const std::vector<int64_t> p = permutation(rows, seed);
  const auto n_test = std::min<int64_t>(
      rows - 1, std::max<int64_t>(1, static_cast<int64_t>(std::ceil(rows * test_fraction))));
  const int64_t n_train_part = rows - n_test;
  const auto n_val = static_cast<int64_t>(std::floor(n_train_part * validation_fraction));
  Split split;
  split.test.assign(p.begin(), p.begin() + n_test);
  split.train.assign(p.begin() + n_test, p.end() - n_val);
  split.validation.assign(p.end() - n_val, p.end());
  return split;
}

TensorDataset TensorDataset::to(const torch::Device& device) const {
  return {features.to(device),
          labels.to(device),
          user_ids,
          item_ids,
          ratings,
          has_numeric() ? numeric.to(device) : numeric,
          has_history() ? history.to(device) : history};
}

BatchIterator::BatchIterator(const TensorDataset& dataset, int64_t batch_size, bool shuffle,
                             uint64_t shuffle_seed)
    : dataset_(dataset), batch_size_(batch_size), shuffle_(shuffle), rng_(shuffle_seed) {
  if (batch_size < 1) {
    throw std::invalid_argument(fmt::format("batch_size must be >= 1 (got {})", batch_size));
  }
}

void BatchIterator::start_epoch() {
  position_ = 0;
  if (!shuffle_) {
    features_ = dataset_.features;
    labels_ = dataset_.labels;
    numeric_ = dataset_.has_numeric() ? dataset_.numeric : torch::Tensor();
    history_ = dataset_.history;
    return;
  }
  pass_start_rng_ = rng_;
  const std::vector<int64_t> order = shuffled(dataset_.rows(), rng_);
  auto index = torch::from_blob(const_cast<int64_t*>(order.data()),
                                {static_cast<int64_t>(order.size())}, torch::kInt64)
                   .to(dataset_.features.device());
  features_ = dataset_.features.index_select(0, index);
  labels_ = dataset_.labels.index_select(0, index);
  numeric_ = dataset_.has_numeric() ? dataset_.numeric.index_select(0, index) : torch::Tensor();
  history_ = dataset_.has_history() ? dataset_.history.index_select(0, index) : torch::Tensor();
}

bool BatchIterator::next(Batch& batch) {
  if (!features_.defined())
    start_epoch();
  const int64_t rows = features_.size(0);
  if (position_ >= rows)
    return false;
  const int64_t len = std::min(batch_size_, rows - position_);
  batch.features = features_.narrow(0, position_, len);
  batch.labels = labels_.narrow(0, position_, len);
  batch.numeric = numeric_.defined() ? numeric_.narrow(0, position_, len) : torch::Tensor();
  batch.history = history_.defined() ? history_.narrow(0, position_, len) : torch::Tensor();
  position_ += len;
  return true;
}

int64_t BatchIterator::batches_per_epoch() const {
  return (dataset_.rows() + batch_size_ - 1) / batch_size_;
}

BatchIteratorState BatchIterator::state() const {
  BatchIteratorState out;
  out.in_pass = features_.defined();
  out.position = position_;
  std::ostringstream text;
  text << (out.in_pass && shuffle_ ? pass_start_rng_ : rng_);
  out.rng = text.str();
  return out;
}

void BatchIterator::restore(const BatchIteratorState& state) {
  std::mt19937_64 rng;
  std::istringstream text(state.rng);
  text >> rng;
  if (!text) {
    throw std::invalid_argument("batch iterator state: the generator state does not parse");
  }
  if (state.position < 0 || state.position > dataset_.rows()) {
    throw std::invalid_argument(fmt::format("batch iterator state: position {} is outside [0, {}]",
                                            state.position, dataset_.rows()));
  }
  rng_ = rng;
  features_ = torch::Tensor();
  labels_ = torch::Tensor();
  numeric_ = torch::Tensor();
  history_ = torch::Tensor();
  position_ = 0;
  if (state.in_pass) {
    start_epoch();
    position_ = state.position;
  }
}

}  // namespace autoint::data
