// The training loop and the train/evaluate jobs the apps run.
#include "autoint/train/trainer.h"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <limits>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "autoint/device.h"
#include "autoint/error.h"
#include "autoint/train/run_dir.h"
#include "autoint/version.h"

namespace autoint::train {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// A deep copy of every parameter and buffer, to restore the best epoch's weights.
std::vector<torch::Tensor> snapshot(nn::AutoInt& model) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> out;
  for (const auto& p : model->parameters())
    out.push_back(p.detach().clone());
  for (const auto& b : model->buffers())
    out.push_back(b.detach().clone());
  return out;
}

void restore(nn::AutoInt& model, const std::vector<torch::Tensor>& saved) {
  torch::NoGradGuard no_grad;
  std::size_t i = 0;
  for (auto& p : model->parameters())
    p.copy_(saved[i++]);
  for (auto& b : model->buffers())
    b.copy_(saved[i++]);
}

nlohmann::ordered_json metrics_json(const EvalResult& result) {
  nlohmann::ordered_json out;
  for (const auto& [key, value] : metric_entries(result)) {
    if (key == "users" || key == "test_rows") {
      out[key] = static_cast<int64_t>(value);
    } else {
      out[key] = value;
    }
  }
  return out;
}

}  // namespace

void seed_everything(const config::TrainConfig& config) {
  if (config.threads > 0)
    at::set_num_threads(static_cast<int>(config.threads));
  torch::manual_seed(static_cast<uint64_t>(config.seed));
}

FitResult fit(nn::AutoInt& model, const PreparedData& data, const config::Config& config,
              const torch::Device& device, util::Log& log, util::ProgressMode progress) {
  const auto& tc = config.train;
  const data::TensorDataset train = data.train.to(device);
  const data::TensorDataset validation = data.validation.to(device);
  data::BatchIterator batches(train, tc.batch_size, /*shuffle=*/true,
                              static_cast<uint64_t>(tc.seed));
  torch::optim::Adam optimizer(model->parameters(), torch::optim::AdamOptions(tc.learning_rate));
  // Loss values are read back every few steps only: each read is a device sync on CUDA.
  const int64_t sync_every = device.is_cuda() ? 20 : 1;

  FitResult result;
  double best_logloss = std::numeric_limits<double>::infinity();
  std::vector<torch::Tensor> best_weights;
  int64_t epochs_without_improvement = 0;

  for (int64_t epoch = 1; epoch <= tc.epochs; ++epoch) {
    model->train();
    batches.start_epoch();
    util::Progress bar(std::cout, progress, fmt::format("epoch {}/{}", epoch, tc.epochs),
                       train.rows());
    const auto start = Clock::now();
    auto loss_sum = torch::zeros({}, torch::TensorOptions().device(device));
    double last_loss_sum = 0;
    int64_t step = 0, seen = 0;
    data::Batch batch;
    while (batches.next(batch)) {
      ++step;
      optimizer.zero_grad();
      auto [logits, embeddings] = model->forward_with_embeddings(batch.features);
      auto loss = torch::binary_cross_entropy_with_logits(logits, batch.labels);
      if (tc.l2_embedding > 0) {
        loss = loss + tc.l2_embedding * embeddings.pow(2).sum() / batch.labels.size(0);
      }
      loss.backward();
      optimizer.step();
      const int64_t len = batch.labels.size(0);
      loss_sum += loss.detach() * static_cast<double>(len);
      seen += len;
      if (step % sync_every == 0 || seen == train.rows()) {
        last_loss_sum = loss_sum.item<double>();
        if (!std::isfinite(last_loss_sum)) {
          throw Error(fmt::format(
              "training diverged: the loss became {} at epoch {}, step {} (learning_rate {}); "
              "lower train.learning_rate",
              last_loss_sum, epoch, step, tc.learning_rate));
        }
        bar.update(seen, last_loss_sum / static_cast<double>(seen));
      }
    }
    EpochStats stats;
    stats.epoch = epoch;
    stats.seconds = seconds_since(start);
    stats.train_loss = last_loss_sum / static_cast<double>(std::max<int64_t>(seen, 1));
    stats.samples_per_s = static_cast<double>(seen) / std::max(stats.seconds, 1e-9);
    bar.finish(seen, stats.train_loss);
    stats.validation_logloss = std::numeric_limits<double>::quiet_NaN();
    stats.validation_auc = std::numeric_limits<double>::quiet_NaN();
    if (validation.rows() > 0) {
      const auto probabilities = predict(model, validation, config.eval.batch_size);
      const auto v = evaluate_scores(data.validation, probabilities, config.eval.top_k);
      stats.validation_logloss = v.logloss;
      stats.validation_auc = v.auc;
    }
    result.history.push_back(stats);
    log.line(fmt::format(
        "epoch {}/{}: train loss {:.4f}, validation logloss {:.4f}, validation AUC {:.4f}, "
        "{:.1f} s, {:.0f} samples/s",
        epoch, tc.epochs, stats.train_loss, stats.validation_logloss, stats.validation_auc,
        stats.seconds, stats.samples_per_s));

    result.best_epoch = epoch;
    if (tc.patience > 0 && validation.rows() > 0) {
      if (stats.validation_logloss < best_logloss) {
        best_logloss = stats.validation_logloss;
        best_weights = snapshot(model);
        epochs_without_improvement = 0;
      } else if (++epochs_without_improvement >= tc.patience) {
        result.stopped_early = true;
        break;
      }
    }
  }
  if (!best_weights.empty()) {
    int64_t best = 0;
    for (const auto& s : result.history) {
      if (s.validation_logloss == best_logloss)
        best = s.epoch;
    }
    if (best != result.best_epoch) {
      restore(model, best_weights);
      log.line(fmt::format("restored the weights of epoch {} (validation logloss {:.4f})", best,
                           best_logloss));
    }
    result.best_epoch = best;
  }
  return result;
}

RunSummary run_experiment(const config::Config& config, std::ostream& console) {
  const torch::Device device = DeviceSpec::parse(config.device).resolve();
  const util::ProgressMode progress = util::progress_mode(config.train.progress);
  const std::string dir = config.output.dir;
  prepare_run_dir(dir);
  const std::string log_path = (std::filesystem::path(dir) / run_files::kLog).string();
  std::filesystem::remove(log_path);
  util::Log log(&console, log_path);

  RunSummary summary;
  summary.run_dir = dir;
  summary.device = device.str();
  log.line(fmt::format("autoint {} | model {} | device {} | threads {}", AUTOINT_VERSION_STRING,
                       config.model.type, summary.device, at::get_num_threads()));

  auto start = Clock::now();
  const data::MovieLens movielens = load_movielens(config.data);
  summary.load_seconds = seconds_since(start);
  const PreparedData data = prepare_data(movielens, config.data);
  summary.featurize_seconds = data.featurize_seconds;
  log.line(fmt::format(
      "data: {} ({} users, {} movies, {} ratings) loaded in {:.2f} s, featurised in {:.2f} s; "
      "split train {} / validation {} / test {}",
      config.data.source == "synthetic" ? "synthetic" : config.data.dir, movielens.users.size(),
      movielens.movies.size(), movielens.ratings.size(), summary.load_seconds,
      summary.featurize_seconds, data.train.rows(), data.validation.rows(), data.test.rows()));

  seed_everything(config.train);
  nn::AutoInt model(model_options(config.model, data.vocabulary.cardinalities()));
  model->to(device);
  int64_t parameters = 0;
  for (const auto& p : model->parameters())
    parameters += p.numel();
  std::ostringstream description;
  model->pretty_print(description);
  log.line(fmt::format("model: {} ({} parameters)", description.str(), parameters));

  start = Clock::now();
  summary.fit = fit(model, data, config, device, log, progress);
  summary.train_seconds = seconds_since(start);

  const data::TensorDataset test = data.test.to(device);
  summary.test = evaluate(model, test, config.eval.batch_size, config.eval.top_k);
  save_run(dir, config, data.vocabulary, model);

  nlohmann::ordered_json metrics = metrics_json(summary.test);
  nlohmann::ordered_json info;
  info["metrics_split"] = "test";
  info["seed_metrics"] =
      "seed_ndcg and seed_hr reproduce the origin project's formulas (IDCG without the cut at k; "
      "'hit rate' = recall); ndcg, hr, recall, precision are the standard definitions";
  info["data"] = config.data.source == "synthetic" ? "synthetic" : config.data.dir;
  info["device"] = summary.device;
  info["threads"] = at::get_num_threads();
  info["best_epoch"] = summary.fit.best_epoch;
  info["epochs_run"] = summary.fit.history.size();
  info["stopped_early"] = summary.fit.stopped_early;
  info["load_seconds"] = summary.load_seconds;
  info["featurize_seconds"] = summary.featurize_seconds;
  info["train_seconds"] = summary.train_seconds;
  nlohmann::ordered_json history = nlohmann::ordered_json::array();
  for (const auto& s : summary.fit.history) {
    history.push_back({{"epoch", s.epoch},
                       {"train_loss", s.train_loss},
                       {"validation_logloss", std::isnan(s.validation_logloss)
                                                  ? nlohmann::ordered_json()
                                                  : nlohmann::ordered_json(s.validation_logloss)},
                       {"validation_auc", std::isnan(s.validation_auc)
                                              ? nlohmann::ordered_json()
                                              : nlohmann::ordered_json(s.validation_auc)},
                       {"seconds", s.seconds},
                       {"samples_per_s", s.samples_per_s}});
  }
  info["history"] = history;
  metrics["run"] = info;
  write_file_atomically((std::filesystem::path(dir) / run_files::kMetrics).string(),
                        metrics.dump(2) + "\n");
  log.line("test metrics:\n" + format_metrics(summary.test));
  log.line(fmt::format("run directory: {}", dir));
  return summary;
}

EvalResult evaluate_run(const std::string& run_dir, const std::string& data_dir_override,
                        const std::string& device_text) {
  const torch::Device device = DeviceSpec::parse(device_text).resolve();
  LoadedRun run = load_run(run_dir, device);
  config::DataConfig data_config = run.config.data;
  if (!data_dir_override.empty()) {
    if (data_config.source != "movielens") {
      throw ConfigError(fmt::format(
          "--data {}: the run {} was trained on data.source {}, which reads no directory",
          data_dir_override, run_dir, data_config.source));
    }
    data_config.dir = data_dir_override;
  }
  const PreparedData data = prepare_data(load_movielens(data_config), data_config, run.vocabulary);
  return evaluate(run.model, data.test.to(device), run.config.eval.batch_size,
                  run.config.eval.top_k);
}

std::string format_metrics(const EvalResult& r) {
  std::string out;
  for (const auto& [key, value] : metric_entries(r)) {
    const bool count = key == "users" || key == "test_rows";
    const char* kind = key.rfind("seed_", 0) == 0                    ? "  (seed formula)"
                       : (key == "auc" || key == "logloss" || count) ? ""
                                                                     : "  (standard)";
    out += count ? fmt::format("  {:<14} {}\n", key, static_cast<int64_t>(value))
                 : fmt::format("  {:<14} {:.4f}{}\n", key, value, kind);
  }
  if (!out.empty())
    out.pop_back();
  return out;
}

}  // namespace autoint::train
