// Training AutoInt models: the epoch loop, validation, early stopping and a full run.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "autoint/config/config.h"
#include "autoint/nn/autoint.h"
#include "autoint/train/baselines.h"
#include "autoint/train/evaluate.h"
#include "autoint/train/full_ranking.h"
#include "autoint/train/pipeline.h"
#include "autoint/util/log.h"
#include "autoint/util/progress.h"

namespace autoint::train {

struct EpochStats {
  int64_t epoch = 0;  // 1-based
  double train_loss = 0;
  double validation_logloss = 0;  // NaN without a validation split
  double validation_auc = 0;      // NaN without a validation split
  double seconds = 0;             // the training pass only
  double samples_per_s = 0;
};

struct FitResult {
  std::vector<EpochStats> history;
  int64_t best_epoch = 0;  // the epoch whose weights the model holds at the end
  bool stopped_early = false;
};

// Sets LibTorch's thread count (when > 0) and seeds its generator: call before
// building the model so that the same seed, device and threads give the same weights.
void seed_everything(const config::TrainConfig& config);

// Trains `model` (already on `device`) with Adam and binary cross-entropy on logits,
// validating each epoch. With train.patience > 0 it stops after that many epochs
// without a lower validation logloss and restores the best epoch's weights.
// Throws Error naming the epoch and step if the loss becomes NaN or infinite.
FitResult fit(nn::AutoInt& model, const PreparedData& data, const config::Config& config,
              const torch::Device& device, util::Log& log, util::ProgressMode progress);

// Everything one evaluation of a model reports: its test-split metrics, every baseline
// under the same protocol, and the full-ranking figures when eval.protocol asks for them.
struct Evaluation {
  std::string protocol = "seed";  // eval.protocol: which tables format_evaluation shows
  EvalResult test;
  std::vector<BaselineResult> baselines;
  std::optional<FullRankingResult> full_ranking;
};

// Evaluates `model` on data.test as config.eval says (top_k, batch_size, protocol,
// full_ranking_users), with the baselines fitted on the training part (train.seed seeds
// the random baseline and the user sample).
Evaluation evaluate_model(nn::AutoInt& model, const data::MovieLens& movielens,
                          const PreparedData& data, const config::Config& config,
                          const torch::Device& device);

// The model's metrics beside every baseline's, one table per protocol, and a line that
// says whether the model beats every baseline (or which baseline matches or beats it).
std::string format_evaluation(const Evaluation& evaluation);

struct RunSummary {
  std::string run_dir;
  FitResult fit;
  Evaluation evaluation;
  double load_seconds = 0;
  double featurize_seconds = 0;
  double train_seconds = 0;
  std::string device;
};

// The whole job: checks the output directory, loads and prepares the data, builds
// and trains the model, evaluates it on the test split and writes the run directory
// (config.yaml, vocabulary.txt, model.pt, manifest.json, metrics.json, train.log).
// Progress and log lines go to `console`.
RunSummary run_experiment(const config::Config& config, std::ostream& console);

// Reloads a run directory, re-prepares its data (optionally from another data
// directory) with the saved vocabulary and split settings, and recomputes the evaluation
// (with the run's eval.protocol unless `protocol_override` names another).
Evaluation evaluate_run(const std::string& run_dir, const std::string& data_dir_override,
                        const std::string& device, const std::string& protocol_override = "");

}  // namespace autoint::train
