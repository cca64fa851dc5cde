// Full ranking: per-user candidate sets, blocked model scoring of several users at once,
// per-user top-k, the model beside per-movie and item-item baselines.
#include "autoint/eval/full_ranking.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <random>
#include <unordered_map>

#include <fmt/format.h>

#include "autoint/data/dataset.h"
#include "autoint/error.h"
#include "autoint/eval/baselines.h"
#include "autoint/movielens/candidates.h"
#include "autoint/util/clock.h"

namespace autoint::train {
namespace {

struct UserCase {
  int64_t user_id = 0;
  std::vector<int64_t> seen_rows;      // template rows rated in the training part
  std::vector<int64_t> positive_rows;  // template rows of the held-out positives
  std::vector<int64_t> interactions;   // training-part rows the item-item baselines fit on
};

// Adds each row of `dataset` to its user's seen rows (training part) or positive rows.
void collect(const data::TensorDataset& dataset, const data::CandidateRows& candidates,
             bool held_out, bool rated_interactions, std::map<int64_t, UserCase>& users) {
  if (dataset.rows() == 0)
    return;
  const auto user_ids = dataset.user_ids.to(torch::kCPU, torch::kInt64).contiguous();
  const auto movie_ids = dataset.item_ids.to(torch::kCPU, torch::kInt64).contiguous();
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
    if (held_out) {
      if (label[i] > 0.5F)
        entry.positive_rows.push_back(row);
      continue;
    }
    entry.seen_rows.push_back(row);
    if (rated_interactions || label[i] > 0.5F)
      entry.interactions.push_back(row);
  }
}

struct Accumulator {
  FullRankingMetrics sum;
  int64_t users = 0;
  FullRankingMetrics mean() const {
    const double n = users > 0 ? static_cast<double>(users) : 1.0;
    return {sum.hr / n, sum.ndcg / n, sum.recall / n, sum.precision / n};
  }
};

// Ranks `scores` (one per template row) without the rows marked in `seen`: the k best by
// descending score, ties by ascending row (= movie id); adds the metrics against
// `positive` (npos marked rows) to `acc`.
void rank_user(const float* scores, const std::vector<char>& seen,
               const std::vector<char>& positive, int64_t npos, int64_t k,
               std::vector<int64_t>& order, Accumulator& acc) {
  order.clear();
  for (std::size_t r = 0; r < seen.size(); ++r) {
    if (!seen[r])
      order.push_back(static_cast<int64_t>(r));
  }
  if (order.empty())
    return;
  const auto better = [scores](int64_t a, int64_t b) {
    return scores[a] > scores[b] || (scores[a] == scores[b] && a < b);
  };
  const auto cut = std::min<std::size_t>(static_cast<std::size_t>(k), order.size());
  std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(cut), order.end(),
                    better);
  double dcg = 0, idcg = 0;
  int64_t hits = 0;
  for (std::size_t i = 0; i < cut; ++i) {
    if (positive[static_cast<std::size_t>(order[i])]) {
      ++hits;
      dcg += 1.0 / std::log2(static_cast<double>(i) + 2.0);
    }
  }
  for (int64_t i = 0; i < std::min(npos, k); ++i)
    idcg += 1.0 / std::log2(static_cast<double>(i) + 2.0);
  acc.sum.hr += hits > 0 ? 1.0 : 0.0;
  acc.sum.ndcg += idcg > 0 ? dcg / idcg : 0.0;
  acc.sum.recall += static_cast<double>(hits) / static_cast<double>(npos);
  acc.sum.precision += static_cast<double>(hits) / static_cast<double>(k);
  ++acc.users;
}

// A user-independent baseline's per-row scores, or a random stream (empty scores).
struct MovieBaseline {
  std::string name;
  MovieScorer scorer;
  std::vector<float> per_row;
};

// An item-item baseline: weights [rows, rows] and its accumulator.
struct ItemItemBaseline {
  std::string name;
  torch::Tensor weights;
};

}  // namespace

torch::Tensor score_all_movies(nn::AutoInt& model, const data::CandidateRows& candidates,
                               const std::vector<const data::User*>& users,
                               const std::vector<int64_t>& timestamps, int64_t batch_rows,
                               const torch::Tensor& histories) {
  if (users.size() != timestamps.size() || batch_rows < 1) {
    throw std::invalid_argument(fmt::format(
        "score_all_movies: {} users with {} timestamps, batch_rows {} (expected equal counts, "
        "batch_rows >= 1)",
        users.size(), timestamps.size(), batch_rows));
  }
  const torch::Device device = model->parameters().front().device();
  const int64_t movies = candidates.movies();
  const auto count = static_cast<int64_t>(users.size());
  if (count == 0 || movies == 0)
    return torch::zeros({count, movies}, torch::kFloat32);
  torch::NoGradGuard no_grad;
  const auto all_rows =
      torch::arange(movies, torch::TensorOptions().dtype(torch::kInt64).device(device));
  std::vector<torch::Tensor> features;
  for (std::size_t u = 0; u < users.size(); ++u)
    features.push_back(candidates.rows(all_rows, *users[u], timestamps[u]));
  const torch::Tensor rows = torch::cat(features);
  if (model->has_history() &&
      (!histories.defined() || histories.dim() != 2 || histories.size(0) != count)) {
    throw std::invalid_argument(
        fmt::format("score_all_movies: the model takes a history; expected histories [{}, {}]",
                    count, model->options.history().max_len()));
  }
  std::vector<torch::Tensor> logits;
  if (model->has_history()) {
    // Whole users per pass, each history shared by the user's rows.
    const torch::Tensor history = histories.to(device);
    const int64_t per_pass = std::max<int64_t>(1, batch_rows / movies);
    for (int64_t u = 0; u < count; u += per_pass) {
      const int64_t n = std::min(per_pass, count - u);
      logits.push_back(
          model->forward(rows.narrow(0, u * movies, n * movies), {}, history.narrow(0, u, n)));
    }
  } else {
    for (int64_t s = 0; s < rows.size(0); s += batch_rows)
      logits.push_back(model->forward(rows.narrow(0, s, std::min(batch_rows, rows.size(0) - s))));
  }
  return torch::cat(logits).to(torch::kCPU, torch::kFloat32).reshape({count, movies}).contiguous();
}

FullRankingResult evaluate_full_ranking(nn::AutoInt& model, const data::MovieLens& movielens,
                                        const data::PreparedData& data,
                                        const FullRankingOptions& options) {
  if (!options.timestamp && options.time != "user_last" && options.time != "data_last") {
    throw std::invalid_argument(fmt::format(
        "evaluate_full_ranking: time must be user_last or data_last (got \"{}\")", options.time));
  }
  if (options.split != "test" && options.split != "validation") {
    throw std::invalid_argument(fmt::format(
        "evaluate_full_ranking: split must be test or validation (got \"{}\")", options.split));
  }
  if (options.k < 1 || options.batch_rows < 1 || options.max_users < 0) {
    throw std::invalid_argument(fmt::format(
        "evaluate_full_ranking: k ({}) and batch_rows ({}) must be >= 1, max_users ({}) >= 0",
        options.k, options.batch_rows, options.max_users));
  }
  const bool test = options.split == "test";
  const torch::Device device = model->parameters().front().device();
  const data::CandidateRows candidates(data.vocabulary, movielens.movies, device);

  std::map<int64_t, UserCase> by_user;
  collect(data.train, candidates, false, options.rated_interactions, by_user);
  collect(data.validation, candidates, !test, options.rated_interactions, by_user);
  if (test)
    collect(data.test, candidates, true, options.rated_interactions, by_user);
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

  const auto start = util::Clock::now();
  const int64_t movies = candidates.movies();
  std::vector<MovieBaseline> movie_baselines;
  std::vector<ItemItemBaseline> item_item;
  std::unordered_map<int64_t, int64_t> interaction_row;  // user id -> row of the matrix
  torch::Tensor interactions;
  if (options.baselines) {
    // Fitted on the training part: without the validation split when that is ranked.
    data::PreparedData fit_part = data;
    if (!test)
      fit_part.validation = data::TensorDataset{};
    for (auto& [name, scorer] : baseline_scorers(fit_part, options.seed)) {
      MovieBaseline b{name, scorer, {}};
      if (name != "random") {
        for (int64_t movie_id : candidates.movie_ids())
          b.per_row.push_back(static_cast<float>(b.scorer(movie_id)));
      }
      movie_baselines.push_back(std::move(b));
    }
    interactions = torch::zeros({static_cast<int64_t>(by_user.size()), movies}, torch::kFloat32);
    auto x = interactions.accessor<float, 2>();
    for (const auto& [id, entry] : by_user) {
      const auto row = static_cast<int64_t>(interaction_row.size());
      interaction_row.emplace(id, row);
      for (int64_t r : entry.interactions)
        x[row][r] = 1.0F;
    }
    item_item.push_back({"item_knn", item_knn_weights(interactions, options.knn_neighbours)});
    item_item.push_back({"ease", ease_weights(interactions, options.ease_lambda)});
  }

  const bool was_training = model->is_training();
  model->eval();
  torch::NoGradGuard no_grad;
  Accumulator model_metrics;
  std::vector<Accumulator> movie_metrics(movie_baselines.size());
  std::vector<Accumulator> item_metrics(item_item.size());
  std::vector<char> seen(static_cast<std::size_t>(movies)), positive(seen.size());
  std::vector<int64_t> order;
  std::vector<float> scores(seen.size());
  const int64_t block = std::max<int64_t>(1, options.batch_rows / std::max<int64_t>(movies, 1));
  for (std::size_t first = 0; first < users.size(); first += static_cast<std::size_t>(block)) {
    const std::size_t last = std::min(users.size(), first + static_cast<std::size_t>(block));
    std::vector<const data::User*> records;
    std::vector<int64_t> timestamps;
    for (std::size_t i = first; i < last; ++i) {
      const auto record = user_records.find(users[i]->user_id);
      if (record == user_records.end()) {
        throw DataError(fmt::format("full ranking: user {} has ratings but is not in the users",
                                    users[i]->user_id));
      }
      records.push_back(record->second);
      timestamps.push_back(result.time == "user_last" ? user_last[users[i]->user_id]
                                                      : result.timestamp);
    }
    torch::Tensor histories;
    if (model->has_history()) {
      // The whole history the ranked split may see: the training split's for validation,
      // the training part's (validation included) for test, as the baselines fit on.
      const data::Histories& known = test ? data.test_histories : data.histories;
      if (known.empty()) {
        throw std::invalid_argument(
            "evaluate_full_ranking: the model takes a history, but the data has none "
            "(data.history)");
      }
      std::vector<int64_t> ids, before;
      for (std::size_t i = first; i < last; ++i) {
        ids.push_back(users[i]->user_id);
        before.push_back(timestamps[i - first] + 1);
      }
      histories = known.rows(ids, {}, before);
    }
    const torch::Tensor logits =
        score_all_movies(model, candidates, records, timestamps, options.batch_rows, histories);
    if (const torch::Tensor nan = torch::isnan(logits).any(1); nan.any().item<bool>()) {
      const auto row = static_cast<std::size_t>(nan.to(torch::kInt32).argmax().item<int64_t>());
      throw Error(fmt::format(
          "full ranking: the model scored a movie as NaN for user {}; its weights hold NaN or "
          "infinity",
          users[first + row]->user_id));
    }
    std::vector<torch::Tensor> item_scores;
    if (!item_item.empty()) {
      std::vector<int64_t> rows;
      for (std::size_t i = first; i < last; ++i)
        rows.push_back(interaction_row.at(users[i]->user_id));
      const torch::Tensor x = interactions.index_select(
          0, torch::from_blob(rows.data(), {static_cast<int64_t>(rows.size())}, torch::kInt64));
      for (const auto& b : item_item)
        item_scores.push_back(x.mm(b.weights).contiguous());
    }
    for (std::size_t i = first; i < last; ++i) {
      const UserCase& u = *users[i];
      std::fill(seen.begin(), seen.end(), 0);
      std::fill(positive.begin(), positive.end(), 0);
      for (int64_t r : u.seen_rows)
        seen[static_cast<std::size_t>(r)] = 1;
      int64_t npos = 0;
      for (int64_t r : u.positive_rows) {
        if (!seen[static_cast<std::size_t>(r)] && !positive[static_cast<std::size_t>(r)]) {
          positive[static_cast<std::size_t>(r)] = 1;
          ++npos;
        }
      }
      const auto available =
          static_cast<int64_t>(std::count(seen.begin(), seen.end(), static_cast<char>(0)));
      if (npos == 0 || available == 0)
        continue;
      result.candidates += available;
      const auto b = static_cast<int64_t>(i - first);
      rank_user(logits[b].data_ptr<float>(), seen, positive, npos, options.k, order, model_metrics);
      for (std::size_t m = 0; m < movie_baselines.size(); ++m) {
        const MovieBaseline& base = movie_baselines[m];
        const float* row_scores = base.per_row.data();
        if (base.per_row.empty()) {  // random: a fresh draw per candidate, in row order
          for (int64_t r = 0; r < movies; ++r) {
            if (!seen[static_cast<std::size_t>(r)])
              scores[static_cast<std::size_t>(r)] = static_cast<float>(
                  base.scorer(candidates.movie_ids()[static_cast<std::size_t>(r)]));
          }
          row_scores = scores.data();
        }
        rank_user(row_scores, seen, positive, npos, options.k, order, movie_metrics[m]);
      }
      for (std::size_t m = 0; m < item_item.size(); ++m)
        rank_user(item_scores[m][b].data_ptr<float>(), seen, positive, npos, options.k, order,
                  item_metrics[m]);
    }
  }
  result.seconds = util::seconds_since(start);
  model->train(was_training);
  result.users = model_metrics.users;
  result.model = model_metrics.mean();
  for (std::size_t m = 0; m < movie_baselines.size(); ++m)
    result.baselines.emplace_back(movie_baselines[m].name, movie_metrics[m].mean());
  for (std::size_t m = 0; m < item_item.size(); ++m)
    result.baselines.emplace_back(item_item[m].name, item_metrics[m].mean());
  return result;
}

}  // namespace autoint::train
