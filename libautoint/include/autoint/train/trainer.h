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
#include "autoint/train/distributed.h"
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
  // Full ranking of the validation split at eval.top_k (train.objective implicit or
  // train.monitor ndcg / recall); NaN when not measured.
  double validation_ndcg = 0;
  double validation_recall = 0;
  double seconds = 0;  // the training pass only
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

// What fit needs besides the model, the data and where it logs: small structs a caller fills
// in without a config file (fit_options derives them from one).
struct FitOptions {
  // Epochs, batch size, Adam's learning rate, L2 on embeddings, seed, train.objective with its
  // loss and negatives, early stopping (patience, monitor) and ranking_validation_users.
  // (threads and progress are not fit's: seed_everything and the progress argument.)
  config::TrainConfig train;
  // Rows per forward pass when scoring the validation split.
  int64_t validation_batch_size = config::EvalConfig{}.batch_size;
  // Validation by full ranking (train.objective implicit, train.monitor ndcg or recall): k
  // (also the point-wise validation's top k), the user sample's seed, time fields and the
  // baselines' settings; fit sets max_users, split and baselines itself. Its
  // rated_interactions also says what the implicit objective's positives are (data.positives).
  FullRankingOptions ranking;
  // A distributed run allreduces gradients in flat buckets of at most this many MiB.
  int64_t bucket_mb = config::DistributedConfig{}.bucket_mb;
  // Each epoch's training pass stops after this many optimizer steps (0: the whole pass), for
  // short checks such as the numerics fingerprint (train/numerics_fingerprint.h).
  int64_t max_steps = 0;
};

// The fit options a config describes (train, eval, data.positives, data.split_seed,
// distributed.bucket_mb).
FitOptions fit_options(const config::Config& config);

// The full-ranking options a config's eval section describes, with the user sample seeded by
// data.split_seed (the same users for every repeat) and data.positives' interactions.
FullRankingOptions full_ranking_options(const config::Config& config);

// Checkpointing and resuming for fit.
struct FitControl {
  // A run directory: after every epoch a checkpoint goes to its checkpoints/ folder (see
  // checkpoint.h), and on interruption one of the step reached. Empty: no checkpoints.
  std::string run_dir;
  // Continue from run_dir's latest checkpoint (from the start when it has none).
  bool resume = false;
  // The movies and users the data was prepared from: needed by train.objective implicit
  // (negatives are drawn from every movie) and full-ranking validation (train.monitor ndcg
  // or recall); fit throws std::invalid_argument if they are needed and null.
  const data::MovieLens* movielens = nullptr;
  // A distributed run's process group (distributed.h), null for one process. Each rank
  // trains on its shard of every global batch (train.batch_size rows in all), gradients
  // are summed in buckets of distributed.bucket_mb, validation scoring is sharded; only rank
  // 0 writes checkpoints, and every rank reads them to resume.
  ProcessGroup* group = nullptr;
};

// Trains `model` (already on `device`) with Adam, validating each epoch (progress bars on
// `log`'s console): with train.objective rating, binary cross-entropy on the rated rows' labels;
// with implicit, train.loss on the training split's interactions and negatives sampled every epoch
// (train/implicit.h). With train.patience > 0 it stops after that many epochs without a
// better train.monitor and restores the best epoch's weights.
// Throws Error naming the epoch and step if the loss becomes NaN or infinite, and
// Interrupted, after checkpointing, when util::interrupt_requested() turns true.
// A resumed fit ends exactly as an uninterrupted one (same seed, device and threads).
FitResult fit(nn::AutoInt& model, const PreparedData& data, const FitOptions& options,
              const torch::Device& device, util::Log& log, util::ProgressMode progress,
              const FitControl& control = {});

// Everything one evaluation of a model reports: its test-split metrics, every baseline
// under the same protocol, and the full-ranking figures when eval.protocol asks for them.
struct Evaluation {
  std::string protocol = "seed";  // eval.protocol: which tables format_evaluation shows
  EvalResult test;
  std::vector<BaselineResult> baselines;
  std::optional<FullRankingResult> full_ranking;
  // Shown before the tables, e.g. that the data differs from the run's (evaluate_run).
  std::vector<std::string> warnings;
};

// Evaluates `model` on data.test as config.eval says (top_k, batch_size, protocol,
// full_ranking_users), with the baselines fitted on the training part (train.seed seeds
// the random baseline of the seed protocol; data.split_seed the full-ranking user sample
// and its random baseline).
// With a process group every rank must call it: the test split is scored in shards, and
// only rank 0 adds the baselines and full ranking (the others get the test metrics alone).
Evaluation evaluate_model(nn::AutoInt& model, const data::MovieLens& movielens,
                          const PreparedData& data, const config::Config& config,
                          const torch::Device& device, ProcessGroup* group = nullptr);

// The evaluation as metrics.json writes it (without its "run" part), as JSON text.
std::string evaluation_json(const Evaluation& evaluation);

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

struct RunOptions {
  // Continue the run in output.dir from its latest checkpoint instead of starting afresh
  // (which deletes an earlier run's checkpoints, manifest and metrics there).
  bool resume = false;
  // This process's place in a distributed run (world_from_environment()); one process by
  // default. With WORLD_SIZE > 1 every rank calls run_experiment with the same config; rank 0
  // alone writes the run directory and the console output, and the others return after the
  // test scoring with an empty evaluation.
  WorldSpec world;
};

// The whole job: checks the output directory (writable, enough free space), loads and
// prepares the data, builds and trains the model (checkpointing every epoch),
// evaluates it on the test split and writes the run directory (config.yaml,
// vocabulary.txt, model.pt, manifest.json, metrics.json, train.log, checkpoints/).
// Progress and log lines go to `console`.
RunSummary run_experiment(const config::Config& config, std::ostream& console,
                          const RunOptions& options = {});

// Continues an unfinished run directory with its own config.yaml (run_experiment with
// resume). Throws RunError if it is not a run directory or if the run already finished.
RunSummary resume_experiment(const std::string& run_dir, std::ostream& console,
                             const WorldSpec& world = {});

// Reloads a run directory, re-prepares its data (optionally from another data
// directory) with the saved vocabulary and split settings, and recomputes the evaluation
// (with the run's eval.protocol unless `protocol_override` names another). Data other than
// the run was trained on (its manifest's fingerprint) is a RunError, or with
// `allow_other_data` a warning in the result.
Evaluation evaluate_run(const std::string& run_dir, const std::string& data_dir_override,
                        const std::string& device, const std::string& protocol_override = "",
                        bool allow_other_data = false);

}  // namespace autoint::train
