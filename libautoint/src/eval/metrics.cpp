// AUC, log-loss and per-user ranking metrics (seed-compatible and standard), all in
// O(n log n) or better so evaluation stays negligible next to inference.
#include "autoint/eval/metrics.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <stdexcept>
#include <unordered_map>

#include <fmt/format.h>

namespace autoint::metrics {
namespace {

// A strict weak order even with NaN scores (a diverged model): NaN ranks below every
// number, and all NaNs tie. Without this std::sort's preconditions would be violated.
inline bool score_less(float a, float b) {
  if (std::isnan(a))
    return !std::isnan(b);
  if (std::isnan(b))
    return false;
  return a < b;
}

inline bool score_equal(float a, float b) {
  return !score_less(a, b) && !score_less(b, a);
}

void check_sizes(const char* function, const char* first_name, size_t first,
                 const char* second_name, size_t second) {
  if (first != second) {
    throw std::invalid_argument(fmt::format("{}: {} has {} rows but {} has {}", function,
                                            first_name, first, second_name, second));
  }
}

// Rank-based metrics only make sense for hard labels; a soft or corrupt label would
// otherwise be silently counted as negative.
void check_binary_labels(const char* function, const std::vector<float>& labels) {
  for (size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] != 0.0f && labels[i] != 1.0f) {
      throw std::invalid_argument(
          fmt::format("{}: label at row {} is {}, expected 0 or 1", function, i, labels[i]));
    }
  }
}

// Maps arbitrary user ids to 0..n_users-1 in first-seen order. Dense id ranges (the
// usual case: MovieLens ids 1..6040) use a lookup table; anything else a hash map.
std::vector<int32_t> dense_user_index(const std::vector<int64_t>& user_ids, int32_t& n_users) {
  const size_t n = user_ids.size();
  std::vector<int32_t> dense(n);
  n_users = 0;
  if (n == 0)
    return dense;
  const auto [min_it, max_it] = std::minmax_element(user_ids.begin(), user_ids.end());
  const int64_t lo = *min_it;
  // Unsigned difference: max - min can overflow int64 for adversarial ids.
  const uint64_t span = static_cast<uint64_t>(*max_it) - static_cast<uint64_t>(lo);
  if (span < 4 * static_cast<uint64_t>(n) + 1024) {
    std::vector<int32_t> table(static_cast<size_t>(span) + 1, -1);
    for (size_t i = 0; i < n; ++i) {
      int32_t& slot = table[static_cast<size_t>(static_cast<uint64_t>(user_ids[i]) -
                                                static_cast<uint64_t>(lo))];
      if (slot < 0)
        slot = n_users++;
      dense[i] = slot;
    }
  } else {
    std::unordered_map<int64_t, int32_t> table;
    table.reserve(n / 8 + 16);
    for (size_t i = 0; i < n; ++i) {
      const auto [it, inserted] = table.try_emplace(user_ids[i], n_users);
      if (inserted)
        ++n_users;
      dense[i] = it->second;
    }
  }
  return dense;
}

}  // namespace

double auc(const std::vector<float>& scores, const std::vector<float>& labels) {
  check_sizes("auc", "scores", scores.size(), "labels", labels.size());
  check_binary_labels("auc", labels);

  struct Row {
    float score;
    bool positive;
  };
  std::vector<Row> rows(scores.size());
  int64_t n_pos = 0;
  for (size_t i = 0; i < scores.size(); ++i) {
    rows[i] = {scores[i], labels[i] == 1.0f};
    n_pos += rows[i].positive ? 1 : 0;
  }
  const int64_t n_neg = static_cast<int64_t>(rows.size()) - n_pos;
  if (n_pos == 0 || n_neg == 0)
    return std::numeric_limits<double>::quiet_NaN();

  // Sorting the compact rows rather than indices keeps the sort cache-friendly.
  std::sort(rows.begin(), rows.end(),
            [](const Row& a, const Row& b) { return score_less(a.score, b.score); });

  // Sum of the (1-based, tie-averaged) ranks of the positives.
  double positive_rank_sum = 0;
  size_t i = 0;
  while (i < rows.size()) {
    size_t j = i + 1;
    int64_t group_pos = rows[i].positive ? 1 : 0;
    while (j < rows.size() && score_equal(rows[j].score, rows[i].score)) {
      group_pos += rows[j].positive ? 1 : 0;
      ++j;
    }
    // Ranks i+1 .. j share their mean.
    const double average_rank = 0.5 * (static_cast<double>(i + 1) + static_cast<double>(j));
    positive_rank_sum += average_rank * static_cast<double>(group_pos);
    i = j;
  }
  const double pos = static_cast<double>(n_pos);
  const double u = positive_rank_sum - pos * (pos + 1) / 2;
  return u / (pos * static_cast<double>(n_neg));
}

double logloss(const std::vector<float>& probabilities, const std::vector<float>& labels) {
  check_sizes("logloss", "probabilities", probabilities.size(), "labels", labels.size());
  if (probabilities.empty()) {
    throw std::invalid_argument("logloss: no rows (the mean of zero losses is undefined)");
  }
  constexpr double kEps = 1e-7;
  double total = 0;
  for (size_t i = 0; i < probabilities.size(); ++i) {
    // std::clamp lets NaN through, so a diverged model shows up as a NaN loss.
    const double p = std::clamp(static_cast<double>(probabilities[i]), kEps, 1 - kEps);
    const double y = labels[i];
    total -= y * std::log(p) + (1 - y) * std::log(1 - p);
  }
  return total / static_cast<double>(probabilities.size());
}

RankingMetrics ranking_metrics(const std::vector<int64_t>& user_ids,
                               const std::vector<float>& scores, const std::vector<float>& labels,
                               int64_t k) {
  check_sizes("ranking_metrics", "user_ids", user_ids.size(), "scores", scores.size());
  check_sizes("ranking_metrics", "user_ids", user_ids.size(), "labels", labels.size());
  if (k < 1) {
    throw std::invalid_argument(fmt::format("ranking_metrics: k must be at least 1, got {}", k));
  }
  check_binary_labels("ranking_metrics", labels);

  const size_t n = user_ids.size();
  // Row indices are stored as uint32 to halve the memory traffic of the grouping.
  if (n > std::numeric_limits<uint32_t>::max()) {
    throw std::invalid_argument(fmt::format("ranking_metrics: {} rows exceed the supported {}", n,
                                            std::numeric_limits<uint32_t>::max()));
  }
  int32_t n_users = 0;
  const std::vector<int32_t> dense = dense_user_index(user_ids, n_users);

  // Counting sort of row indices by user: no per-user allocations, and rows stay in input
  // order within a user, which is what makes the tie-break below "stable".
  std::vector<uint32_t> offsets(static_cast<size_t>(n_users) + 1, 0);
  for (size_t i = 0; i < n; ++i)
    ++offsets[static_cast<size_t>(dense[i]) + 1];
  size_t longest = 0;
  for (size_t u = 0; u < static_cast<size_t>(n_users); ++u) {
    longest = std::max<size_t>(longest, offsets[u + 1]);
    offsets[u + 1] += offsets[u];
  }
  std::vector<uint32_t> order(n);
  {
    std::vector<uint32_t> cursor(offsets.begin(), offsets.end() - 1);
    for (size_t i = 0; i < n; ++i)
      order[cursor[static_cast<size_t>(dense[i])]++] = static_cast<uint32_t>(i);
  }

  // discount[i] = 1/log2(i+2); ideal[m] = the IDCG of m relevant items, for any m a
  // user can have (the seed's IDCG is not cut at k, so k positions are not enough).
  std::vector<double> discount(longest);
  std::vector<double> ideal(longest + 1, 0.0);
  for (size_t i = 0; i < longest; ++i) {
    discount[i] = 1.0 / std::log2(static_cast<double>(i) + 2);
    ideal[i + 1] = ideal[i] + discount[i];
  }

  // Descending score, then ascending row: a total order, so partial_sort is deterministic.
  const auto ranks_before = [&scores](uint32_t a, uint32_t b) {
    if (score_less(scores[b], scores[a]))
      return true;
    if (score_less(scores[a], scores[b]))
      return false;
    return a < b;
  };

  RankingMetrics sum;
  const double kd = static_cast<double>(k);
  for (size_t u = 0; u < static_cast<size_t>(n_users); ++u) {
    const auto first = order.begin() + offsets[u];
    const auto last = order.begin() + offsets[u + 1];
    int64_t relevant = 0;
    for (auto it = first; it != last; ++it)
      relevant += labels[*it] == 1.0f ? 1 : 0;
    if (relevant == 0)
      continue;

    const int64_t length = last - first;
    const int64_t top = std::min(k, length);
    std::partial_sort(first, first + top, last, ranks_before);
    double dcg = 0;
    int64_t hits = 0;
    for (int64_t i = 0; i < top; ++i) {
      if (labels[first[i]] == 1.0f) {
        dcg += discount[static_cast<size_t>(i)];
        ++hits;
      }
    }
    const double r = static_cast<double>(relevant);
    const double h = static_cast<double>(hits);
    sum.seed_ndcg += dcg / ideal[static_cast<size_t>(relevant)];
    sum.ndcg += dcg / ideal[static_cast<size_t>(std::min(relevant, k))];
    sum.seed_hr += h / r;
    sum.recall += h / r;
    sum.hr += hits > 0 ? 1.0 : 0.0;
    sum.precision += h / kd;
    ++sum.users;
  }

  if (sum.users > 0) {
    const double users = static_cast<double>(sum.users);
    sum.seed_ndcg /= users;
    sum.seed_hr /= users;
    sum.ndcg /= users;
    sum.hr /= users;
    sum.recall /= users;
    sum.precision /= users;
  }
  return sum;
}

}  // namespace autoint::metrics
