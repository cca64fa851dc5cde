// Point-wise (AUC, log-loss) and per-user ranking metrics, the seed's quirks included.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace autoint::metrics {

// Area under the ROC curve by the rank-sum formula, ties given their average rank.
// Undefined, so NaN (metrics.json: null with a note), when all labels are equal or there
// are none: a single class has no ranking of positives above negatives to measure.
// labels are 0/1. Sizes must match.
double auc(const std::vector<float>& scores, const std::vector<float>& labels);

// Mean binary cross-entropy of probabilities (clamped to [1e-7, 1 - 1e-7]).
double logloss(const std::vector<float>& probabilities, const std::vector<float>& labels);

// Ranking metrics averaged over users, at cut-off k.
struct RankingMetrics {
  double seed_ndcg = 0;  // seed quirk: IDCG sums over all |relevant| positions, no cut at k
  double seed_hr = 0;    // seed quirk: |top-k ∩ relevant| / |relevant| (that is recall@k)
  double ndcg = 0;       // standard: IDCG over min(|relevant|, k) positions
  double hr = 0;         // standard: 1 if any of the top k is relevant
  double recall = 0;     // |top-k ∩ relevant| / |relevant|
  double precision = 0;  // |top-k ∩ relevant| / k
  int64_t users = 0;     // users with at least one relevant row (the ones averaged over)
};

// Groups rows by user, ranks each user's rows by descending score (ties keep row
// order: stable), and averages the metrics over users with at least one relevant
// row (label 1). All three vectors have one entry per row.
RankingMetrics ranking_metrics(const std::vector<int64_t>& user_ids,
                               const std::vector<float>& scores, const std::vector<float>& labels,
                               int64_t k = 10);

}  // namespace autoint::metrics
