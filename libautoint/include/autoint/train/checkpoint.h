// Training checkpoints: everything fit needs to continue a run exactly where it stopped.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "autoint/data/dataset.h"
#include "autoint/nn/autoint.h"
#include "autoint/train/trainer.h"

namespace autoint::train {

// Names inside a run directory's checkpoints/ folder.
namespace checkpoint_files {
inline constexpr const char* kDir = "checkpoints";
inline constexpr const char* kBest = "best.ckpt";  // the epoch with the lowest validation logloss
}  // namespace checkpoint_files

// How many end-of-epoch checkpoints are kept (the newest); an older one is a fallback
// when the newest is damaged, and more would only fill the disk.
inline constexpr int kKeptEpochCheckpoints = 2;

// Where training stands, apart from the model and the optimizer.
struct TrainState {
  int64_t epoch = 0;  // epochs completed
  int64_t step = 0;   // optimizer steps taken in epoch `epoch + 1` (0 at an epoch boundary)
  FitResult result;   // history, best epoch, stopped early
  // Early stopping and best.ckpt.
  double best_score = 0;  // the monitored validation score, lower is better; +inf until seen
  int64_t epochs_without_improvement = 0;
  std::vector<torch::Tensor> best_weights;  // parameters then buffers; empty without patience
  // The part of the current epoch already done.
  torch::Tensor loss_sum;  // scalar, sum of loss * batch rows
  int64_t seen = 0;
  double seconds = 0;
  // Random state: the batch order and LibTorch's generators (dropout).
  data::BatchIteratorState batches;
  torch::Tensor cpu_generator;
  torch::Tensor cuda_generator;  // undefined unless training on CUDA
};

// The state of LibTorch's default generator for `device` (CPU or CUDA), and setting it back.
torch::Tensor generator_state(const torch::Device& device);
void set_generator_state(const torch::Device& device, const torch::Tensor& state);

// "epoch-0003.ckpt" after epoch 3; "epoch-0003-step-000017.ckpt" for 17 steps into epoch 3
// (written when interrupted). Names sort in training order.
std::string checkpoint_name(int64_t epochs_completed, int64_t step);

// The checkpoint files of a run directory (best.ckpt excepted), in training order.
std::vector<std::string> list_checkpoints(const std::string& run_dir);

// The checkpoint a resume starts from (the last of list_checkpoints); empty when none.
std::string latest_checkpoint(const std::string& run_dir);

// The whole checkpoint as bytes: a one-line header ("autoint-checkpoint <version> <bytes>
// <fnv1a64>") then a LibTorch archive of the model, the optimizer and `state`.
std::string encode_checkpoint(const TrainState& state, nn::AutoInt& model,
                              const torch::optim::Adam& optimizer);

// Verifies the header's size and hash against the bytes of `path` before reading any of
// it, then loads the model and optimizer (on `device`) and returns the state. Throws
// RunError naming the file and what differs (bytes or hash, expected vs actual).
TrainState load_checkpoint(const std::string& path, nn::AutoInt& model,
                           torch::optim::Adam& optimizer, const torch::Device& device);

// Deletes the checkpoints autoint wrote in run_dir/checkpoints (list_checkpoints, best.ckpt
// and their temporaries) and then the folder if that left it empty; anything else there is
// kept. For a run that replaces an earlier one in the same directory.
void remove_checkpoints(const std::string& run_dir);

// Deletes all but the newest `keep` end-of-epoch checkpoints and every mid-epoch one
// older than the newest end-of-epoch checkpoint.
void prune_checkpoints(const std::string& run_dir, int keep);

// Loads weights from `archive` (as torch::save wrote them) into `module`, after comparing
// every parameter's and buffer's name and shape with the module's: throws RunError naming
// `source`, the first missing or extra tensor or the first shape mismatch (name, expected
// shape, found shape) before anything is copied. LibTorch's own Module::load would instead
// replace a tensor of another shape without a word.
void load_weights(torch::nn::Module& module, torch::serialize::InputArchive& archive,
                  const std::string& source);

}  // namespace autoint::train
