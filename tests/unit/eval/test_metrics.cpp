// Metrics against hand-computed values, including the seed's NDCG and "hit rate" quirks.
// Discounts used below: 1/log2(i+2) for 0-based rank i.
#include "autoint/eval/metrics.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <vector>

#include "autoint_catch.h"

using autoint::metrics::auc;
using autoint::metrics::logloss;
using autoint::metrics::ranking_metrics;
using autoint::metrics::RankingMetrics;
using Catch::Matchers::Contains;

namespace {

Approx near(double value) {
  return Approx(value).margin(1e-9).epsilon(0);
}

struct Rows {
  std::vector<int64_t> users;
  std::vector<float> scores;
  std::vector<float> labels;
  void add(int64_t user, float score, float label) {
    users.push_back(user);
    scores.push_back(score);
    labels.push_back(label);
  }
};

// The 15-candidate user of several tests: rows are already in descending-score order,
// and the irrelevant ones sit at ranks 2, 5 and 12, so 12 of 15 are relevant and the
// top 10 hold 8 of them (ranks 0,1,3,4,6,7,8,9).
void add_twelve_of_fifteen(Rows& rows, int64_t user) {
  for (int i = 0; i < 15; ++i) {
    const bool irrelevant = i == 2 || i == 5 || i == 12;
    rows.add(user, 1.0f - 0.05f * static_cast<float>(i), irrelevant ? 0.0f : 1.0f);
  }
}

// One relevant row at rank 2 (the third) among five.
void add_one_at_rank_three(Rows& rows, int64_t user) {
  const float scores[] = {0.9f, 0.8f, 0.7f, 0.6f, 0.5f};
  for (int i = 0; i < 5; ++i)
    rows.add(user, scores[i], i == 2 ? 1.0f : 0.0f);
}

// DCG = 1/log2(2)+1/log2(3)+1/log2(5)+1/log2(6)+1/log2(8)+1/log2(9)+1/log2(10)+1/log2(11)
//     = 1 + .63093 + .43068 + .38685 + .33333 + .31546 + .30103 + .28906 = 3.687352150980324
// IDCG@10 = sum_{i<10} 1/log2(i+2) = 4.543559338088346
// seed IDCG = sum_{i<12} = 4.543559338088346 + 1/log2(12) + 1/log2(13) = 5.092740438166795
constexpr double kTwelveNdcg = 3.687352150980324 / 4.543559338088346;      // 0.8115558478722846
constexpr double kTwelveSeedNdcg = 3.687352150980324 / 5.092740438166795;  // 0.7240408569315657

}  // namespace

TEST_CASE("auc is 1 for a perfect ranking and 0 for a reversed one", "[metrics][auc]") {
  const std::vector<float> labels = {0, 0, 1, 1};
  // Every positive outscores every negative: 4 of 4 pairs correct.
  CHECK(auc({0.1f, 0.2f, 0.8f, 0.9f}, labels) == near(1.0));
  // Every negative outscores every positive: 0 of 4 pairs correct.
  CHECK(auc({0.9f, 0.8f, 0.2f, 0.1f}, labels) == near(0.0));
}

TEST_CASE("auc is 0.5 when all scores are equal", "[metrics][auc]") {
  // One tie group of 5 with average rank 3; positive rank sum 2*3 = 6;
  // U = 6 - 2*3/2 = 3; AUC = 3 / (2*3) = 0.5.
  CHECK(auc({0.4f, 0.4f, 0.4f, 0.4f, 0.4f}, {1, 0, 1, 0, 0}) == near(0.5));
}

TEST_CASE("auc of a small mixed example", "[metrics][auc]") {
  // Positives 0.9, 0.4, 0.3; negatives 0.5, 0.1.
  // Ascending: 0.1(-) 0.3(+) 0.4(+) 0.5(-) 0.9(+): positive ranks 2+3+5 = 10;
  // U = 10 - 3*4/2 = 4; AUC = 4 / (3*2) = 0.666...
  CHECK(auc({0.9f, 0.5f, 0.4f, 0.3f, 0.1f}, {1, 0, 1, 1, 0}) == near(4.0 / 6.0));
}

TEST_CASE("auc gives tied positive-negative pairs half credit", "[metrics][auc]") {
  // Positives 0.5, 0.8; negatives 0.5, 0.2. Pairs: (0.5,0.5) tie = 0.5, (0.5,0.2) = 1,
  // (0.8,0.5) = 1, (0.8,0.2) = 1 -> 3.5 / 4 = 0.875.
  // By ranks: 0.2(1) 0.5,0.5(2.5 each) 0.8(4): positives 2.5+4 = 6.5; U = 6.5-3 = 3.5.
  CHECK(auc({0.5f, 0.8f, 0.5f, 0.2f}, {1, 1, 0, 0}) == near(0.875));
}

TEST_CASE("auc is undefined (NaN), not 0.5, when only one class is present", "[metrics][auc]") {
  CHECK(std::isnan(auc({0.1f, 0.7f, 0.3f}, {1, 1, 1})));
  CHECK(std::isnan(auc({0.1f, 0.7f, 0.3f}, {0, 0, 0})));
  CHECK(std::isnan(auc({}, {})));
}

TEST_CASE("auc ranks NaN scores below every number", "[metrics][auc]") {
  // The positive is NaN, so the negative (0.1) outranks it: 0 of 1 pairs.
  const float nan = std::numeric_limits<float>::quiet_NaN();
  CHECK(auc({nan, 0.1f}, {1, 0}) == near(0.0));
  // Two NaNs tie: half credit.
  CHECK(auc({nan, nan}, {1, 0}) == near(0.5));
}

TEST_CASE("auc rejects bad input", "[metrics][auc]") {
  CHECK_THROWS_AS(auc({0.1f, 0.2f, 0.3f}, {0, 1}), std::invalid_argument);
  CHECK_THROWS_WITH(auc({0.1f, 0.2f, 0.3f}, {0, 1}), Contains("3") && Contains("2"));
  CHECK_THROWS_WITH(auc({0.1f, 0.2f}, {0, 0.5f}), Contains("0.5"));
}

TEST_CASE("logloss of a hand example", "[metrics][logloss]") {
  // -(ln 0.75 + ln(1 - 0.25) + ln 0.5) / 3 = (2 * 0.2876820724517809 + 0.6931471805599453) / 3
  //                                        = 0.4228371084878357
  CHECK(logloss({0.75f, 0.25f, 0.5f}, {1, 0, 1}) == near(0.4228371084878357));
}

TEST_CASE("logloss clamps probabilities of 0 and 1", "[metrics][logloss]") {
  // p = 0 with y = 1 is clamped to 1e-7: -ln(1e-7) = 16.11809565095832, not infinity.
  CHECK(logloss({0.0f}, {1}) == Approx(16.11809565095832).epsilon(1e-9));
  // p = 1 with y = 0 is clamped to 1 - 1e-7: -ln(1e-7) again.
  CHECK(logloss({1.0f}, {0}) == Approx(16.11809565095832).epsilon(1e-9));
  // Confident and right: -ln(1 - 1e-7) ~= 1e-7, tiny but finite.
  CHECK(logloss({1.0f, 0.0f}, {1, 0}) == Approx(1e-7).epsilon(1e-6));
}

TEST_CASE("logloss rejects bad input", "[metrics][logloss]") {
  CHECK_THROWS_AS(logloss({0.5f}, {1, 0}), std::invalid_argument);
  CHECK_THROWS_WITH(logloss({0.5f}, {1, 0}), Contains("1") && Contains("2"));
  CHECK_THROWS_AS(logloss({}, {}), std::invalid_argument);
}

TEST_CASE("12 relevant of 15: seed NDCG is below NDCG and seed HR is recall",
          "[metrics][ranking]") {
  Rows rows;
  add_twelve_of_fifteen(rows, 42);
  const RankingMetrics m = ranking_metrics(rows.users, rows.scores, rows.labels, 10);
  CHECK(m.users == 1);
  CHECK(m.ndcg == near(kTwelveNdcg));           // 3.68735 / 4.54356 = 0.81156
  CHECK(m.seed_ndcg == near(kTwelveSeedNdcg));  // 3.68735 / 5.09274 = 0.72404
  CHECK(m.seed_ndcg < m.ndcg);
  CHECK(m.recall == near(8.0 / 12.0));   // 8 of 12 relevant in the top 10
  CHECK(m.seed_hr == near(8.0 / 12.0));  // the seed's "hit rate" is recall
  CHECK(m.hr == near(1.0));              // at least one hit
  CHECK(m.precision == near(0.8));       // 8 / 10
}

TEST_CASE("one relevant row at rank 3", "[metrics][ranking]") {
  Rows rows;
  add_one_at_rank_three(rows, 1);
  const RankingMetrics m = ranking_metrics(rows.users, rows.scores, rows.labels, 10);
  CHECK(m.users == 1);
  CHECK(m.ndcg == near(0.5));       // (1/log2(4)) / (1/log2(2)) = 0.5 / 1
  CHECK(m.seed_ndcg == near(0.5));  // one relevant: both IDCGs are 1
  CHECK(m.hr == near(1.0));
  CHECK(m.recall == near(1.0));
  CHECK(m.seed_hr == near(1.0));
  CHECK(m.precision == near(0.1));  // 1 / 10
}

TEST_CASE("a hit below the cut-off counts nothing", "[metrics][ranking]") {
  Rows rows;
  add_one_at_rank_three(rows, 1);
  // k = 2: the relevant row (rank 2) is outside the top 2.
  const RankingMetrics m = ranking_metrics(rows.users, rows.scores, rows.labels, 2);
  CHECK(m.users == 1);
  CHECK(m.ndcg == near(0.0));
  CHECK(m.seed_ndcg == near(0.0));
  CHECK(m.hr == near(0.0));
  CHECK(m.recall == near(0.0));
  CHECK(m.precision == near(0.0));
}

TEST_CASE("users without a relevant row are skipped", "[metrics][ranking]") {
  Rows rows;
  add_one_at_rank_three(rows, 1);
  // User 2 has only negatives: not counted, and does not dilute the averages.
  rows.add(2, 0.99f, 0);
  rows.add(2, 0.10f, 0);
  const RankingMetrics m = ranking_metrics(rows.users, rows.scores, rows.labels, 10);
  CHECK(m.users == 1);
  CHECK(m.ndcg == near(0.5));
  CHECK(m.precision == near(0.1));

  Rows none;
  none.add(3, 0.5f, 0);
  const RankingMetrics empty = ranking_metrics(none.users, none.scores, none.labels, 10);
  CHECK(empty.users == 0);
  CHECK(empty.ndcg == 0.0);
  CHECK(empty.seed_ndcg == 0.0);
  CHECK(ranking_metrics({}, {}, {}, 10).users == 0);
}

TEST_CASE("metrics are averaged over users", "[metrics][ranking]") {
  Rows rows;
  add_twelve_of_fifteen(rows, 5);
  add_one_at_rank_three(rows, 6);
  rows.add(7, 0.3f, 0);  // skipped
  const RankingMetrics m = ranking_metrics(rows.users, rows.scores, rows.labels, 10);
  CHECK(m.users == 2);
  CHECK(m.ndcg == near((kTwelveNdcg + 0.5) / 2));           // (0.81156 + 0.5) / 2 = 0.65578
  CHECK(m.seed_ndcg == near((kTwelveSeedNdcg + 0.5) / 2));  // (0.72404 + 0.5) / 2 = 0.61202
  CHECK(m.recall == near((8.0 / 12.0 + 1.0) / 2));          // (0.66667 + 1) / 2 = 0.83333
  CHECK(m.seed_hr == near((8.0 / 12.0 + 1.0) / 2));
  CHECK(m.hr == near(1.0));                     // (1 + 1) / 2
  CHECK(m.precision == near((0.8 + 0.1) / 2));  // 0.45
}

TEST_CASE("rows of a user need not be contiguous", "[metrics][ranking]") {
  // User 7: scores 0.2(rel), 0.9, 0.5 -> ranked 0.9, 0.5, 0.2(rel): relevant at rank 2,
  //   NDCG = 1/log2(4) = 0.5. User 9: scores 0.8(rel), 0.1 -> relevant at rank 0, NDCG = 1.
  Rows rows;
  rows.add(7, 0.2f, 1);
  rows.add(9, 0.1f, 0);
  rows.add(7, 0.9f, 0);
  rows.add(9, 0.8f, 1);
  rows.add(7, 0.5f, 0);
  const RankingMetrics m = ranking_metrics(rows.users, rows.scores, rows.labels, 10);
  CHECK(m.users == 2);
  CHECK(m.ndcg == near((0.5 + 1.0) / 2));  // 0.75
  CHECK(m.seed_ndcg == near(0.75));
  CHECK(m.precision == near((0.1 + 0.1) / 2));  // 1/10 each
  // k = 1: user 7's top row (0.9) misses, user 9's (0.8) hits.
  const RankingMetrics top1 = ranking_metrics(rows.users, rows.scores, rows.labels, 1);
  CHECK(top1.hr == near(0.5));
  CHECK(top1.ndcg == near(0.5));
  CHECK(top1.precision == near(0.5));
}

TEST_CASE("tied scores keep row order", "[metrics][ranking]") {
  // All three rows score 0.5, so the earlier row ranks first; with k = 1 only row 0 counts.
  Rows irrelevant_first;
  irrelevant_first.add(1, 0.5f, 0);
  irrelevant_first.add(1, 0.5f, 1);
  irrelevant_first.add(1, 0.5f, 0);
  const RankingMetrics miss =
      ranking_metrics(irrelevant_first.users, irrelevant_first.scores, irrelevant_first.labels, 1);
  CHECK(miss.hr == near(0.0));
  CHECK(miss.ndcg == near(0.0));

  Rows relevant_first;
  relevant_first.add(1, 0.5f, 1);
  relevant_first.add(1, 0.5f, 0);
  relevant_first.add(1, 0.5f, 0);
  const RankingMetrics hit =
      ranking_metrics(relevant_first.users, relevant_first.scores, relevant_first.labels, 1);
  CHECK(hit.hr == near(1.0));
  CHECK(hit.ndcg == near(1.0));

  // With interleaved users, ties follow input row order too. User 2 ranks row 4 (0.9)
  // first, then its tied rows 1 (irrelevant) and 3 (relevant) in row order, so the
  // relevant row is at rank 2: NDCG = 1/log2(4) = 0.5.
  Rows mixed;
  mixed.add(1, 0.5f, 1);  // row 0, user 1: single relevant, NDCG 1
  mixed.add(2, 0.5f, 0);  // row 1
  mixed.add(1, 0.5f, 0);  // row 2
  mixed.add(2, 0.5f, 1);  // row 3
  mixed.add(2, 0.9f, 0);  // row 4
  const RankingMetrics m = ranking_metrics(mixed.users, mixed.scores, mixed.labels, 10);
  CHECK(m.users == 2);
  CHECK(m.ndcg == near((1.0 + 0.5) / 2));  // 0.75
}

TEST_CASE("k larger than the candidate count", "[metrics][ranking]") {
  // Three candidates, relevant at ranks 0 and 2, k = 10.
  // DCG = 1 + 1/log2(4) = 1.5; IDCG = 1 + 1/log2(3) = 1.6309297535714575 (both variants,
  // 2 relevant < k); NDCG = 1.5 / 1.63093 = 0.9197207891481876.
  Rows rows;
  rows.add(3, 0.9f, 1);
  rows.add(3, 0.6f, 0);
  rows.add(3, 0.3f, 1);
  const RankingMetrics m = ranking_metrics(rows.users, rows.scores, rows.labels, 10);
  CHECK(m.ndcg == near(0.9197207891481876));
  CHECK(m.seed_ndcg == near(0.9197207891481876));
  CHECK(m.recall == near(1.0));  // 2 / 2
  CHECK(m.hr == near(1.0));
  // Precision divides by k, not by the 3 candidates: 2 / 10.
  CHECK(m.precision == near(0.2));

  const RankingMetrics huge =
      ranking_metrics(rows.users, rows.scores, rows.labels, std::numeric_limits<int64_t>::max());
  CHECK(huge.ndcg == near(0.9197207891481876));
}

TEST_CASE("NaN scores rank last", "[metrics][ranking]") {
  // The NaN row is relevant but ranks below 0.1: relevant at rank 1, NDCG = 1/log2(3).
  Rows rows;
  rows.add(1, std::numeric_limits<float>::quiet_NaN(), 1);
  rows.add(1, 0.1f, 0);
  const RankingMetrics m = ranking_metrics(rows.users, rows.scores, rows.labels, 10);
  CHECK(m.ndcg == near(1.0 / std::log2(3.0)));  // 0.63093
}

TEST_CASE("sparse user ids give the same result as dense ones", "[metrics][ranking]") {
  // Ids far apart take the hash-map path; 0..2 take the lookup-table path.
  Rows dense;
  add_twelve_of_fifteen(dense, 0);
  add_one_at_rank_three(dense, 1);
  Rows sparse;
  add_twelve_of_fifteen(sparse, std::numeric_limits<int64_t>::max());
  add_one_at_rank_three(sparse, std::numeric_limits<int64_t>::min());
  const RankingMetrics a = ranking_metrics(dense.users, dense.scores, dense.labels, 10);
  const RankingMetrics b = ranking_metrics(sparse.users, sparse.scores, sparse.labels, 10);
  CHECK(b.users == 2);
  CHECK(b.ndcg == near(a.ndcg));
  CHECK(b.seed_ndcg == near(a.seed_ndcg));
  CHECK(b.ndcg == near((kTwelveNdcg + 0.5) / 2));
}

TEST_CASE("ranking_metrics rejects bad input", "[metrics][ranking]") {
  const std::vector<int64_t> users = {1, 1, 2};
  const std::vector<float> scores = {0.1f, 0.2f, 0.3f};
  const std::vector<float> labels = {0, 1, 1};
  CHECK_THROWS_AS(ranking_metrics(users, {0.1f, 0.2f}, labels, 10), std::invalid_argument);
  CHECK_THROWS_WITH(ranking_metrics(users, {0.1f, 0.2f}, labels, 10),
                    Contains("3") && Contains("2"));
  CHECK_THROWS_WITH(ranking_metrics(users, scores, {0, 1, 1, 0}, 10),
                    Contains("3") && Contains("4"));
  CHECK_THROWS_AS(ranking_metrics(users, scores, labels, 0), std::invalid_argument);
  CHECK_THROWS_WITH(ranking_metrics(users, scores, labels, -3), Contains("-3"));
  CHECK_THROWS_WITH(ranking_metrics(users, scores, {0, 2, 1}, 10), Contains("2"));
}
