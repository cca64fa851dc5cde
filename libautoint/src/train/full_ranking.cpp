// Full ranking: per-user candidate sets, vectorised model scoring, per-user top-k metrics.
#include "autoint/train/full_ranking.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <unordered_map>

#include <fmt/format.h>

#include "autoint/data/candidates.h"
#include "autoint/data/dataset.h"
#include "autoint/error.h"
#include "autoint/metrics/metrics.h"
#include "autoint/train/baselines.h"

namespace autoint::train {
namespace {

struct UserCase {
  int64_t user_id = 0;
  std::vector<int64_t> rated_rows;     // template rows rated in the training part
  std::vector<int64_t> positive_rows;  // template rows of the test positives
};

// Adds each row of `dataset` to its user's rated (training part) or positive (test) rows.
void collect(const data::TensorDataset& dataset, const data::CandidateRows& candidates, bool test,
             std::map<int64_t, UserCase>& users) {
  if (dataset.rows() == 0)
    return;
  const auto user_ids = dataset.user_ids.to(torch::kCPU, torch::kInt64).contiguous();
  const auto movie_ids = dataset.movie_ids.to(torch::kCPU, torch::kInt64).contiguous();
  const auto labels = dataset.labels.to(torch::kCPU, torch::kFloat32).contiguous();
  const int64_t* user = user_ids.data_ptr<int64_t>();
  const int64_t* movie = movie_ids.data_ptr<int64_t>();
  const float* label = labels.data_ptr<float>();
  for (int64_t i = 0; i < dataset.rows(); ++i) {
    const int64_t row = candidates.row_of(movie[i]);
    if (row < 0) {
      throw DataError(fmt::format(
          "full ranking: a rating of user {} names movie {}, which is not in the movies", user[i],
          movie[i]));
    }
    UserCase& entry = users[user[i]];
    entry.user_id = user[i];
    if (!test)
      entry.rated_rows.push_back(row);
    else if (label[i] > 0.5F)
      entry.positive_rows.push_back(row);
  }
}

struct Accumulator {
  FullRankingMetrics sum;
  int64_t users = 0;
  void add(const metrics::RankingMetrics& m) {
    sum.hr += m.hr;
    sum.ndcg += m.ndcg;
    sum.recall += m.recall;
    sum.precision += m.precision;
    ++users;
  }
  FullRankingMetrics mean() const {
    const double n = users > 0 ? static_cast<double>(users) : 1.0;
    return {sum.hr / n, sum.ndcg / n, sum.recall / n, sum.precision / n};
  }
};

}  // namespace

FullRankingResult evaluate_full_ranking(nn::AutoInt& model, const data::MovieLens& movielens,
                                        const PreparedData& data,
                                        const FullRankingOptions& options) {
  if (!options.timestamp && options.time != "user_last" && options.time != "data_last") {
    throw std::invalid_argument(fmt::format(
        "evaluate_full_ranking: time must be user_last or data_last (got \"{}\")", options.time));
  }
  if (options.k < 1 || options.batch_rows < 1 || options.max_users < 0) {
    throw std::invalid_argument(fmt::format(
        "evaluate_full_ranking: k ({}) and batch_rows ({}) must be >= 1, max_users ({}) >= 0",
        options.k, options.batch_rows, options.max_users));
  }
  const torch::Device device = model->parameters().front().device();
  const data::CandidateRows candidates(data.vocabulary, movielens.movies, device);

  std::map<int64_t, UserCase> by_user;
  collect(data.train, candidates, false, by_user);
  collect(data.validation, candidates, false, by_user);
  collect(data.test, candidates, true, by_user);
  std::vector<const UserCase*> users;
  for (const auto& [id, entry] : by_user) {
    if (!entry.positive_rows.empty())
      users.push_back(&entry);
  }
  if (options.max_users > 0 && options.max_users < static_cast<int64_t>(users.size())) {
    const auto order = data::permutation(static_cast<int64_t>(users.size()), options.seed);
    std::vector<const UserCase*> sample;
    for (int64_t i = 0; i < options.max_users; ++i)
      sample.push_back(users[static_cast<std::size_t>(order[static_cast<std::size_t>(i)])]);
    std::sort(sample.begin(), sample.end(),
              [](const UserCase* a, const UserCase* b) { return a->user_id < b->user_id; });
    users = std::move(sample);
  }
  std::unordered_map<int64_t, const data::User*> user_records;
  for (const auto& u : movielens.users)
    user_records.emplace(u.id, &u);

  FullRankingResult result;
  result.k = options.k;
  result.time = options.timestamp ? "fixed" : options.time;
  result.timestamp = options.timestamp.value_or(0);
  std::unordered_map<int64_t, int64_t> user_last;
  for (const auto& r : movielens.ratings) {
    if (!options.timestamp)
      result.timestamp = std::max(result.timestamp, r.timestamp);
    auto [it, inserted] = user_last.try_emplace(r.user_id, r.timestamp);
    if (!inserted)
      it->second = std::max(it->second, r.timestamp);
  }

  // Baselines score movies independently of the user (random draws anew per candidate).
  std::vector<std::pair<std::string, MovieScorer>> scorers;
  std::vector<std::vector<float>> movie_scores;  // per user-independent scorer, per template row
  if (options.baselines) {
    scorers = baseline_scorers(data, options.seed);
    for (const auto& [name, scorer] : scorers) {
      std::vector<float> per_row;
      if (name != "random") {
        for (int64_t movie_id : candidates.movie_ids())
          per_row.push_back(static_cast<float>(scorer(movie_id)));
      }
      movie_scores.push_back(std::move(per_row));
    }
  }

  const bool was_training = model->is_training();
  model->eval();
  torch::NoGradGuard no_grad;
  const auto start = std::chrono::steady_clock::now();
  Accumulator model_metrics;
  std::vector<Accumulator> baseline_metrics(scorers.size());
  std::vector<char> excluded(static_cast<std::size_t>(candidates.movies()));
  std::vector<int64_t> rows;
  std::vector<float> labels, scores;
  for (const UserCase* u : users) {
    const auto record = user_records.find(u->user_id);
    if (record == user_records.end()) {
      throw DataError(
          fmt::format("full ranking: user {} has ratings but is not in the users", u->user_id));
    }
    std::fill(excluded.begin(), excluded.end(), 0);
    for (int64_t r : u->rated_rows)
      excluded[static_cast<std::size_t>(r)] = 1;
    std::vector<char> positive(excluded.size(), 0);
    for (int64_t r : u->positive_rows)
      positive[static_cast<std::size_t>(r)] = 1;
    rows.clear();
    labels.clear();
    for (int64_t r = 0; r < candidates.movies(); ++r) {
      if (!excluded[static_cast<std::size_t>(r)]) {
        rows.push_back(r);
        labels.push_back(positive[static_cast<std::size_t>(r)] ? 1.0F : 0.0F);
      }
    }
    const auto count = static_cast<int64_t>(rows.size());
    if (count == 0)
      continue;
    result.candidates += count;
    const std::vector<int64_t> user_column(rows.size(), u->user_id);

    const auto index = torch::from_blob(rows.data(), {count}, torch::kInt64).to(device);
    const int64_t when = result.time == "user_last" ? user_last[u->user_id] : result.timestamp;
    const torch::Tensor features = candidates.rows(index, *record->second, when);
    std::vector<torch::Tensor> logits;
    for (int64_t s = 0; s < count; s += options.batch_rows)
      logits.push_back(
          model->forward(features.narrow(0, s, std::min(options.batch_rows, count - s))));
    const torch::Tensor all = (logits.size() == 1 ? logits.front() : torch::cat(logits))
                                  .to(torch::kCPU, torch::kFloat32)
                                  .contiguous();
    scores.assign(all.data_ptr<float>(), all.data_ptr<float>() + count);
    model_metrics.add(metrics::ranking_metrics(user_column, scores, labels, options.k));

    for (std::size_t b = 0; b < scorers.size(); ++b) {
      for (std::size_t i = 0; i < rows.size(); ++i) {
        scores[i] = movie_scores[b].empty()
                        ? static_cast<float>(scorers[b].second(
                              candidates.movie_ids()[static_cast<std::size_t>(rows[i])]))
                        : movie_scores[b][static_cast<std::size_t>(rows[i])];
      }
      baseline_metrics[b].add(metrics::ranking_metrics(user_column, scores, labels, options.k));
    }
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  model->train(was_training);
  result.users = model_metrics.users;
  result.model = model_metrics.mean();
  for (std::size_t b = 0; b < scorers.size(); ++b)
    result.baselines.emplace_back(scorers[b].first, baseline_metrics[b].mean());
  return result;
}

}  // namespace autoint::train
