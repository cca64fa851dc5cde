// Data-parallel training across processes over LibTorch's c10d: where a process stands in
// the world (torchrun's environment), the process group (Gloo on CPU, NCCL on CUDA),
// gradient averaging in flat buckets, sharded scoring, and a local launcher.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <torch/types.h>

#include "autoint/data/dataset.h"
#include "autoint/nn/autoint.h"

namespace autoint::train {

// Where this process stands in a distributed run.
struct WorldSpec {
  int64_t world_size = 1;
  int64_t rank = 0;
  int64_t local_rank = 0;  // the process's index on its machine: its CUDA device
  std::string master_addr = "127.0.0.1";
  int64_t master_port = 29500;
  // WORLD_SIZE was given: even a world of one then trains through a process group (with
  // NCCL, a 1-GPU check of that path; the dropout masks follow the distributed stream).
  bool launched = false;
  bool distributed() const { return world_size > 1 || launched; }
};

// A value for one of the world's variables given on the command line, e.g. {"RANK", "1",
// "--rank"}: it wins over the environment, and errors name `source`.
struct WorldOverride {
  std::string variable;  // WORLD_SIZE, RANK, LOCAL_RANK, MASTER_ADDR or MASTER_PORT
  std::string value;
  std::string source;
};

// Reads WORLD_SIZE, RANK, LOCAL_RANK, MASTER_ADDR and MASTER_PORT (what torchrun and most
// cluster scripts set), with `overrides` taking precedence. Without WORLD_SIZE the world is
// one process. Throws ConfigError naming the variable (or flag) and its value for a
// non-number, WORLD_SIZE < 1, RANK or LOCAL_RANK outside [0, WORLD_SIZE), RANK missing when
// WORLD_SIZE > 1, or a port outside 1..65535.
WorldSpec world_from_environment(const std::vector<WorldOverride>& overrides = {});

// Which c10d backends this build of libautoint has ("gloo", "nccl").
std::vector<std::string> available_backends();

// distributed.backend resolved for a device: auto is NCCL on CUDA and Gloo on the CPU.
// Throws ConfigError when the backend cannot run on the device or is not in this build.
std::string resolve_backend(const std::string& backend, const torch::Device& device);

// The c10d process group of one run. Rank 0 hosts the rendezvous TCPStore at
// master_addr:master_port; every rank also reports a heartbeat there, so that when a
// collective fails the survivors can say which rank was lost. Every call is collective:
// all ranks make the same calls in the same order.
class ProcessGroup {
 public:
  // Connects (waiting at most `timeout` for the store and the other ranks). Throws Error
  // naming the address, port and timeout when the rendezvous fails.
  ProcessGroup(const WorldSpec& world, const std::string& backend,
               std::chrono::milliseconds timeout, const torch::Device& device);
  ~ProcessGroup();
  ProcessGroup(const ProcessGroup&) = delete;
  ProcessGroup& operator=(const ProcessGroup&) = delete;

  int64_t rank() const;
  int64_t size() const;
  const std::string& backend() const;
  // Where the collectives' tensors live (the rank's CUDA device with NCCL, else the CPU).
  const torch::Device& device() const;

  // Sums `tensor` over the ranks, in place (moved to device() and back when needed).
  // `what` says where the run stands, for the error raised when a rank is lost: Error
  // naming the lost rank(s) and the backend's message.
  void allreduce_sum(torch::Tensor& tensor, const std::string& what);
  // Replaces `tensor` with rank 0's, in place.
  void broadcast(torch::Tensor& tensor, const std::string& what);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Gradient averaging for data-parallel steps: the parameters' gradients are copied into a
// few flat buckets (at most `bucket_bytes` each, in parameter order), each bucket is summed
// with one allreduce, and the sums copied back. Each rank scales its loss by its share of
// the global batch (local rows / global rows), so the sum is the global batch's gradient.
class GradientSync {
 public:
  GradientSync(const std::vector<torch::Tensor>& parameters, int64_t bucket_bytes);

  // Sums the gradients over the ranks; `extras` (scalars, e.g. the step's loss sum and a
  // stop flag) ride along in the last bucket and come back summed, as a float64 tensor on
  // the parameters' device. A parameter without a gradient counts as zero and gets one.
  torch::Tensor allreduce(ProcessGroup& group, const std::vector<torch::Tensor>& extras,
                          const std::string& what);

  int64_t buckets() const { return static_cast<int64_t>(buckets_.size()); }
  // Bytes each rank sends into allreduce per step (gradients and extras).
  int64_t bytes_per_step(int64_t extras) const;
  // Wall seconds spent in allreduce so far (copies and waiting for the slowest rank included).
  double seconds() const { return seconds_; }

 private:
  struct Bucket {
    std::vector<std::size_t> members;  // indices into parameters_
    int64_t elements = 0;
  };
  std::vector<torch::Tensor> parameters_;
  std::vector<Bucket> buckets_;
  double seconds_ = 0;
};

// Gives every rank rank 0's parameters and buffers (one broadcast of a flat copy).
void broadcast_parameters(ProcessGroup& group, nn::AutoInt& model, const std::string& what);

// Rows [begin, end) of `dataset`'s shard `rank` of `ranks`: contiguous, sizes differing by
// at most one row, in rank order.
std::pair<int64_t, int64_t> shard_bounds(int64_t rows, int64_t rank, int64_t ranks);

// predict() (evaluate.h) with each rank scoring its shard of the rows; every rank gets all
// the probabilities [rows] (CPU float32).
torch::Tensor predict_sharded(ProcessGroup& group, nn::AutoInt& model,
                              const data::TensorDataset& dataset, int64_t batch_size,
                              const std::string& what);

// Runs `nproc` copies of `program` with `args` on this machine as ranks 0..nproc-1
// (WORLD_SIZE, RANK, LOCAL_RANK, MASTER_ADDR 127.0.0.1 and a free MASTER_PORT in their
// environment), forwarding their standard output; waits for them all. When one fails the
// others get `grace` to fail on their own (they notice within distributed.timeout_s) before
// being terminated. Returns 0 when every rank exited 0; otherwise throws Error (or
// Interrupted when a rank was interrupted) whose message says how each failed rank ended
// and the last line it wrote to stderr.
int launch_local_workers(int64_t nproc, const std::string& program,
                         const std::vector<std::string>& args, std::chrono::seconds grace);

}  // namespace autoint::train
