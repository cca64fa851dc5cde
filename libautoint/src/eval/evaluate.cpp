// Batched scoring and metric computation on a split.
#include "autoint/eval/evaluate.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "autoint/error.h"

namespace autoint::train {

torch::Tensor predict(nn::AutoInt& model, const data::TensorDataset& dataset, int64_t batch_size) {
  torch::NoGradGuard no_grad;
  const bool was_training = model->is_training();
  model->eval();
  std::vector<torch::Tensor> parts;
  const int64_t rows = dataset.rows();
  for (int64_t start = 0; start < rows; start += batch_size) {
    const int64_t len = std::min(batch_size, rows - start);
    const torch::Tensor numeric =
        dataset.has_numeric() ? dataset.numeric.narrow(0, start, len) : torch::Tensor();
    const torch::Tensor history =
        dataset.has_history() ? dataset.history.narrow(0, start, len) : torch::Tensor();
    parts.push_back(
        torch::sigmoid(model->forward(dataset.features.narrow(0, start, len), numeric, history)));
  }
  model->train(was_training);
  if (parts.empty())
    return torch::empty({0}, torch::kFloat32);
  return torch::cat(parts).to(torch::kCPU).contiguous();
}

namespace {

template <class T>
std::vector<T> to_vector(const torch::Tensor& t) {
  const torch::Tensor c = t.to(torch::kCPU).contiguous();
  return std::vector<T>(c.data_ptr<T>(), c.data_ptr<T>() + c.numel());
}

}  // namespace

EvalResult evaluate_scores(const data::TensorDataset& dataset, const torch::Tensor& probabilities,
                           int64_t k) {
  const auto scores = to_vector<float>(probabilities);
  const auto labels = to_vector<float>(dataset.labels);
  // A NaN score would come out as a plausible AUC of 0.5 and a logloss of nan.
  const auto is_nan = [](float score) { return std::isnan(score); };
  if (const auto first = std::find_if(scores.begin(), scores.end(), is_nan);
      first != scores.end()) {
    throw Error(fmt::format(
        "the model scored {} of {} rows as NaN (the first: row {}); its weights or inputs hold "
        "NaN or infinity, so no metric can be computed",
        std::count_if(first, scores.end(), is_nan), scores.size(), first - scores.begin()));
  }
  EvalResult result;
  result.k = k;
  result.rows = dataset.rows();
  result.auc = metrics::auc(scores, labels);
  result.logloss = metrics::logloss(scores, labels);
  result.per_user = dataset.user_ids.defined();
  if (result.per_user) {
    result.ranking =
        metrics::ranking_metrics(to_vector<int64_t>(dataset.user_ids), scores, labels, k);
  }
  return result;
}

EvalResult evaluate(nn::AutoInt& model, const data::TensorDataset& dataset, int64_t batch_size,
                    int64_t k) {
  return evaluate_scores(dataset, predict(model, dataset, batch_size), k);
}

std::vector<std::pair<std::string, double>> metric_entries(const EvalResult& r) {
  const auto at = [&](const char* name) { return fmt::format("{}@{}", name, r.k); };
  if (!r.per_user)
    return {{"auc", r.auc}, {"logloss", r.logloss}, {"test_rows", static_cast<double>(r.rows)}};
  return {{"auc", r.auc},
          {"logloss", r.logloss},
          {at("seed_ndcg"), r.ranking.seed_ndcg},
          {at("seed_hr"), r.ranking.seed_hr},
          {at("ndcg"), r.ranking.ndcg},
          {at("hr"), r.ranking.hr},
          {at("recall"), r.ranking.recall},
          {at("precision"), r.ranking.precision},
          {"users", static_cast<double>(r.ranking.users)},
          {"test_rows", static_cast<double>(r.rows)}};
}

}  // namespace autoint::train
