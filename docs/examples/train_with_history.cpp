// Trains a history-aware AutoInt+ on the caller's own tensors: each row is (person, item) with
// the person's history, a padded [rows, L] tensor of item ids (0 is padding). Whether the
// person likes the item depends only on the history (items of the same parity as the ones they
// liked), so the model has to read it. Built and run by ctest against the installed package
// (tests/consumer/run_consumer.sh).
#include <iostream>

#include <autoint/eval/evaluate.h>
#include <autoint/experiment/pipeline.h>
#include <autoint/train/trainer.h>

int main() {
  using namespace autoint;
  torch::manual_seed(0);
  const int64_t rows = 20000, max_len = 6;
  const std::vector<int64_t> cardinalities{51, 41};  // person 1..50, item 1..40 (0: unknown)
  const torch::Tensor people = torch::randint(1, 51, {rows});
  const torch::Tensor items = torch::randint(1, 41, {rows});
  // Each person likes the items of one parity; their history holds 1..6 such items.
  const torch::Tensor taste = torch::randint(2, {51});
  const torch::Tensor parity = taste.index_select(0, people);
  torch::Tensor history =
      torch::randint(0, 20, {rows, max_len}) * 2 + 1 + (1 - parity).unsqueeze(1);
  const torch::Tensor length = torch::randint(1, max_len + 1, {rows, 1});
  history = history.masked_fill(torch::arange(max_len).unsqueeze(0).ge(length), 0);
  const torch::Tensor labels = (items % 2 == parity).to(torch::kFloat);  // the history's parity
  const auto part = [&](int64_t begin, int64_t end) {
    data::TensorDataset d;
    d.features = torch::stack({people, items}, 1).slice(0, begin, end);
    d.labels = labels.slice(0, begin, end);
    d.history = history.slice(0, begin, end);
    return d;
  };
  data::PreparedData data;
  data.train = part(0, 14000);
  data.validation = part(14000, 16000);
  data.test = part(16000, rows);
  config::ModelConfig model_config;
  model_config.dropout = 0.0;
  train::FitOptions options;
  options.train.epochs = 8;
  options.train.learning_rate = 0.01;
  // The history holds ids of field 1 (items), mean-pooled into a third field.
  nn::AutoInt model(train::model_options(model_config, cardinalities)
                        .history(nn::HistoryOptions().item_field(1).max_len(max_len)));
  util::Log log(&std::cout, "");
  train::fit(model, data, options, torch::kCPU, log, util::ProgressMode::none);
  const double auc = train::evaluate(model, data.test, 4096, 10).auc;
  std::cout << "test AUC " << auc << "\n";
  return auc > 0.9 ? 0 : 1;
}
