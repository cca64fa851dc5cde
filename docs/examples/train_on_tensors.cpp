// Trains AutoInt+ on the caller's own tensors through libautoint's public headers: three
// categorical fields whose label depends on a pair of them, then the test AUC. Built and run
// by ctest against the installed package (tests/consumer/run_consumer.sh).
#include <iostream>

#include <autoint/eval/evaluate.h>
#include <autoint/experiment/pipeline.h>
#include <autoint/train/trainer.h>

int main() {
  using namespace autoint;
  torch::manual_seed(0);
  const int64_t rows = 20000;
  const std::vector<int64_t> cardinalities{10, 10, 5};  // ids per field: 0 .. n-1
  const torch::Tensor ids = torch::stack(
      {torch::randint(10, {rows}), torch::randint(10, {rows}), torch::randint(5, {rows})}, 1);
  const torch::Tensor labels = ((ids.select(1, 0) + ids.select(1, 1)) % 2 == 0).to(torch::kFloat);
  const auto part = [&](int64_t begin, int64_t end) {
    data::TensorDataset d;  // no user ids: AUC and logloss, no per-user ranking
    d.features = ids.slice(0, begin, end);
    d.labels = labels.slice(0, begin, end);
    return d;
  };
  data::PreparedData data;
  data.train = part(0, 14000);
  data.validation = part(14000, 16000);
  data.test = part(16000, rows);
  config::ModelConfig model_config;  // the defaults (AutoInt+) with no dropout
  model_config.dropout = 0.0;
  train::FitOptions options;  // the defaults (Adam, batch 2048, ...) with a few changes
  options.train.epochs = 8;
  options.train.learning_rate = 0.01;
  nn::AutoInt model(train::model_options(model_config, cardinalities));
  util::Log log(&std::cout, "");
  train::fit(model, data, options, torch::kCPU, log, util::ProgressMode::none);
  const double auc = train::evaluate(model, data.test, 4096, 10).auc;
  std::cout << "test AUC " << auc << "\n";
  return auc > 0.9 ? 0 : 1;
}
