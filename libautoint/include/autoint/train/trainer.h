// Training AutoInt models: the epoch loop, validation, early stopping, checkpoints and resuming
// (the jobs that load data, train and write a run directory: experiment/experiment.h).
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "autoint/config/config.h"
#include "autoint/data/prepared.h"
#include "autoint/eval/full_ranking.h"
#include "autoint/movielens/format.h"
#include "autoint/nn/autoint.h"
#include "autoint/train/distributed.h"
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
  // short checks such as the numerics fingerprint (experiment/numerics_fingerprint.h).
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
FitResult fit(nn::AutoInt& model, const data::PreparedData& data, const FitOptions& options,
              const torch::Device& device, util::Log& log, util::ProgressMode progress,
              const FitControl& control = {});

}  // namespace autoint::train
