// Negative sampling for implicit feedback: for each positive (user, item), items the user
// never interacted with, drawn uniformly or by popularity, reproducibly for a seed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace autoint::data {

struct NegativeSamplerOptions {
  std::string distribution = "uniform";  // "uniform" or "popularity"
  double exponent = 0.75;                // popularity: weight (count + 1)^exponent
};

class NegativeSampler {
 public:
  // Items are 0 .. items-1. excluded[u] lists the items user u must never be given (any
  // order, duplicates allowed); counts[i] is item i's popularity (interactions), used by
  // the popularity distribution only (may be empty for uniform). Throws
  // std::invalid_argument for an unknown distribution, a negative exponent, counts of the
  // wrong size or an item outside [0, items).
  NegativeSampler(int64_t items, std::vector<std::vector<int64_t>> excluded,
                  const std::vector<double>& counts, const NegativeSamplerOptions& options);

  int64_t users() const { return static_cast<int64_t>(excluded_.size()); }
  int64_t items() const { return items_; }
  // Items user u may be given.
  int64_t allowed(int64_t user) const {
    return items_ - static_cast<int64_t>(excluded_[static_cast<std::size_t>(user)].size());
  }

  // For each entry of `users`, per_positive items drawn (with replacement) from the
  // distribution restricted to that user's allowed items: row-major
  // [users.size() x per_positive]. The same seed gives the same draws. A user with no
  // allowed item gets -1 in each slot (callers skip them). Throws std::invalid_argument
  // for a user index out of range or per_positive < 1.
  std::vector<int64_t> sample(const std::vector<int64_t>& users, int64_t per_positive,
                              uint64_t seed) const;

  // The probability of item i for a user with nothing excluded (for tests and docs).
  double probability(int64_t item) const;

 private:
  bool is_excluded(int64_t user, int64_t item) const;

  int64_t items_;
  std::vector<std::vector<int64_t>> excluded_;  // per user, sorted, unique
  std::vector<double> cumulative_;              // popularity: running sum of weights
  std::vector<double> allowed_mass_;            // per user: share of the weight allowed
};

// A generator seed for (seed, epoch), so that each epoch's draws differ and a resumed
// run draws exactly what an uninterrupted one did.
uint64_t epoch_seed(uint64_t seed, int64_t epoch);

}  // namespace autoint::data
