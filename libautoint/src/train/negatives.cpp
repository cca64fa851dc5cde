// Negative sampling: rejection from the item distribution, or from the user's allowed
// items directly when most of the distribution's weight is excluded for them.
#include "autoint/train/negatives.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <stdexcept>
#include <unordered_map>

#include <fmt/format.h>

namespace autoint::data {
namespace {

// Below this share of allowed weight a user's draws come from their allowed items directly,
// so that rejection never loops for long.
constexpr double kRejectionMinMass = 0.25;

double unit_interval(std::mt19937_64& rng) {
  return static_cast<double>(rng() >> 11) * 0x1.0p-53;  // [0, 1), identical on every platform
}

// Index of the first cumulative weight above u * total.
int64_t draw_index(const std::vector<double>& cumulative, double u) {
  const double target = u * cumulative.back();
  const auto it = std::upper_bound(cumulative.begin(), cumulative.end(), target);
  return std::min<int64_t>(it - cumulative.begin(), static_cast<int64_t>(cumulative.size()) - 1);
}

}  // namespace

uint64_t epoch_seed(uint64_t seed, int64_t epoch) {
  // splitmix64 of the pair: nearby seeds and epochs give unrelated streams.
  uint64_t z = seed * 0x9E3779B97F4A7C15ULL + static_cast<uint64_t>(epoch) + 0x632BE59BD9B4E019ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

NegativeSampler::NegativeSampler(int64_t items, std::vector<std::vector<int64_t>> excluded,
                                 const std::vector<double>& counts,
                                 const NegativeSamplerOptions& options)
    : items_(items), excluded_(std::move(excluded)) {
  if (items < 1)
    throw std::invalid_argument(fmt::format("NegativeSampler: items must be >= 1 (got {})", items));
  if (options.distribution != "uniform" && options.distribution != "popularity") {
    throw std::invalid_argument(
        fmt::format("NegativeSampler: distribution must be uniform or popularity (got \"{}\")",
                    options.distribution));
  }
  if (!(options.exponent >= 0)) {
    throw std::invalid_argument(
        fmt::format("NegativeSampler: exponent must be >= 0 (got {})", options.exponent));
  }
  std::vector<double> weights(static_cast<std::size_t>(items), 1.0);
  if (options.distribution == "popularity") {
    if (static_cast<int64_t>(counts.size()) != items) {
      throw std::invalid_argument(
          fmt::format("NegativeSampler: {} popularity counts for {} items", counts.size(), items));
    }
    for (std::size_t i = 0; i < weights.size(); ++i)
      weights[i] = std::pow(std::max(counts[i], 0.0) + 1.0, options.exponent);
  }
  cumulative_.resize(weights.size());
  double sum = 0;
  for (std::size_t i = 0; i < weights.size(); ++i)
    cumulative_[i] = sum += weights[i];
  allowed_mass_.reserve(excluded_.size());
  for (std::size_t u = 0; u < excluded_.size(); ++u) {
    auto& list = excluded_[u];
    std::sort(list.begin(), list.end());
    list.erase(std::unique(list.begin(), list.end()), list.end());
    double mass = 0;
    for (int64_t item : list) {
      if (item < 0 || item >= items) {
        throw std::invalid_argument(fmt::format(
            "NegativeSampler: user {} excludes item {}, outside [0, {})", u, item, items));
      }
      mass += weights[static_cast<std::size_t>(item)];
    }
    allowed_mass_.push_back(list.size() == weights.size() ? 0.0 : 1.0 - mass / sum);
  }
}

bool NegativeSampler::is_excluded(int64_t user, int64_t item) const {
  const auto& list = excluded_[static_cast<std::size_t>(user)];
  return std::binary_search(list.begin(), list.end(), item);
}

double NegativeSampler::probability(int64_t item) const {
  const auto i = static_cast<std::size_t>(item);
  return (cumulative_[i] - (i == 0 ? 0.0 : cumulative_[i - 1])) / cumulative_.back();
}

std::vector<int64_t> NegativeSampler::sample(const std::vector<int64_t>& users,
                                             int64_t per_positive, uint64_t seed) const {
  if (per_positive < 1) {
    throw std::invalid_argument(
        fmt::format("NegativeSampler::sample: per_positive must be >= 1 (got {})", per_positive));
  }
  std::mt19937_64 rng(seed);
  std::vector<int64_t> out(users.size() * static_cast<std::size_t>(per_positive));
  // Users drawn from their allowed items directly: those items and their running weights.
  std::unordered_map<int64_t, std::pair<std::vector<int64_t>, std::vector<double>>> direct;
  std::size_t o = 0;
  for (int64_t user : users) {
    if (user < 0 || user >= this->users()) {
      throw std::invalid_argument(
          fmt::format("NegativeSampler::sample: user {} is outside [0, {})", user, this->users()));
    }
    if (allowed(user) == 0) {
      std::fill_n(out.begin() + static_cast<std::ptrdiff_t>(o), per_positive, -1);
      o += static_cast<std::size_t>(per_positive);
      continue;
    }
    if (allowed_mass_[static_cast<std::size_t>(user)] < kRejectionMinMass) {
      auto [it, inserted] = direct.try_emplace(user);
      auto& [allowed_items, cumulative] = it->second;
      if (inserted) {
        double sum = 0;
        for (int64_t i = 0; i < items_; ++i) {
          if (!is_excluded(user, i)) {
            allowed_items.push_back(i);
            cumulative.push_back(sum += probability(i));
          }
        }
      }
      for (int64_t k = 0; k < per_positive; ++k)
        out[o++] =
            allowed_items[static_cast<std::size_t>(draw_index(cumulative, unit_interval(rng)))];
      continue;
    }
    for (int64_t k = 0; k < per_positive; ++k) {
      int64_t item = 0;
      do {
        item = draw_index(cumulative_, unit_interval(rng));
      } while (is_excluded(user, item));
      out[o++] = item;
    }
  }
  return out;
}

}  // namespace autoint::data
