// Throughput and latency measurements behind `autoint-bench` (not tests: figures, not verdicts).
#pragma once

#include <cstdint>
#include <ostream>
#include <string>

#include "autoint/config/config.h"

namespace autoint::bench {

struct BenchOptions {
  config::Config config;      // model and training settings (the seed's AutoInt+ by default)
  std::string data_dir;       // ML-1M directory; empty: synthetic data of ML-1M's shape
  int64_t batch_size = 2048;  // for the throughput measurements
  int64_t steps = 40;         // timed steps for throughput (after `warmup` steps)
  int64_t warmup = 5;
  int64_t threads = 1;
  std::string device = "cpu";
  bool throughput_only = false;  // skip load, epoch, full-ranking and recommendation timings
  // Full ranking of the test split after the epoch (model only, no baselines): this many
  // test users, a seeded sample; 0: every test user with a positive; -1: skipped.
  int64_t full_ranking_users = 0;
  int64_t full_ranking_batch_rows = 0;  // rows per forward pass; 0: the library's default
};

struct BenchResult {
  double train_samples_per_s = 0;
  double eval_samples_per_s = 0;
  double load_seconds = 0;   // read + featurise + split + encode the whole data set
  double epoch_seconds = 0;  // one training pass over the training split
  double recommend_ms = 0;   // median top-10 latency for one user, model loaded
  double liked_ms = 0;       // history-aware: median top-10 for a new visitor (10 liked), explained
  double full_ranking_seconds = 0;  // scoring and ranking every candidate of the users
  int64_t full_ranking_users = 0;
  int64_t full_ranking_pairs = 0;  // (user, movie) candidates ranked
  double peak_rss_mb = 0;
  int64_t threads = 0;
  int64_t batch_size = 0;
  std::string device;
  std::string data;    // "ml-1m: DIR" or "synthetic (ML-1M shape)"
  std::string kernel;  // attention kernel used
};

// Runs the measurements, writing progress lines to `log`. Throughput is measured as
// the speed peer (../shared/bench/ref_autoint.py) does: random ids over ML-1M's field
// cardinalities, `warmup` untimed steps, then `steps` timed Adam steps; evaluation is
// the forward pass under NoGradGuard over the same batches.
BenchResult run_benchmark(const BenchOptions& options, std::ostream& log);

// The result as a JSON object with the keys train_samples_per_s, eval_samples_per_s,
// load_seconds, epoch_seconds, recommend_ms, peak_rss_mb, threads, device, ...
std::string to_json(const BenchResult& result);

// A fixed-width table for a terminal.
std::string format_table(const BenchResult& result);

}  // namespace autoint::bench
