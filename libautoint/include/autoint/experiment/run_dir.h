// The run directory: what training writes and what evaluation and inference load.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <torch/torch.h>

#include "autoint/config/config.h"
#include "autoint/movielens/features.h"
#include "autoint/movielens/format.h"
#include "autoint/nn/autoint.h"

namespace autoint::train {

// File names inside a run directory.
namespace run_files {
inline constexpr const char* kConfig = "config.yaml";  // the fully resolved config
inline constexpr const char* kModel = "model.pt";      // weights (torch::save archive)
inline constexpr const char* kVocabulary = "vocabulary.txt";
inline constexpr const char* kManifest = "manifest.json";  // format version, sizes, hashes
inline constexpr const char* kMetrics = "metrics.json";
inline constexpr const char* kLog = "train.log";
// The writer's lock (see RunLock): holds the pid of the last writer; not part of the run, so
// not in the manifest.
inline constexpr const char* kLock = "run.lock";
// A grid's directory holds this (the grid's resolved config) and one run directory per point.
inline constexpr const char* kGridConfig = "grid.yaml";
}  // namespace run_files

// Bumped when a run directory's layout or a file format changes incompatibly.
inline constexpr int kRunFormatVersion = 1;

// What autoint writes into: a run directory (autoint-train) or a grid's directory.
enum class OutputKind { run, grid };

// autoint writes only into a directory it owns. Returns when `dir` does not exist, is
// empty (but for run.lock), or is an autoint run (its manifest.json says "format":
// "autoint-run", finished or not) or, for OutputKind::grid, an autoint grid (it holds
// grid.yaml). Otherwise throws RunError naming the directory and what it found there.
// Only reads: call it before anything in `dir` changes.
void check_output_dir(const std::string& dir, OutputKind kind);

// Creates `dir` (and parents) and checks that a file can be written there; throws
// RunError naming the directory otherwise. Called before training starts.
void prepare_run_dir(const std::string& dir);

// An exclusive lock on DIR/run.lock (flock), so that two processes never write one run or
// grid: the second fails at once with a RunError naming the directory and the first one's
// pid. The kernel releases it when the holder exits or dies, so a killed run leaves no
// stale lock. Held until destruction.
class RunLock {
 public:
  explicit RunLock(const std::string& dir);
  ~RunLock();
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;

 private:
  int fd_ = -1;
};

// Throws RunError naming `dir` unless its file system has at least `bytes` available.
// A rough early check, so a full disk is reported before hours of training, not after.
void check_free_space(const std::string& dir, uint64_t bytes);

// Writes manifest.json for a run that has started and not finished ("complete": false):
// the directory is then an autoint run (check_output_dir) that load_run refuses to load.
void write_started_manifest(const std::string& dir);

// Writes config.yaml, vocabulary.txt and model.pt (each atomically).
void save_run_files(const std::string& dir, const config::Config& config,
                    const data::Vocabulary& vocabulary, nn::AutoInt& model);

// Writes manifest.json last ("complete": true): the format and library versions, the data
// the run was trained on (when known), and the size and FNV-1a hash of every file in the
// directory and below it (train.log, metrics.json and checkpoints/ included), but the
// manifest itself, run.lock and temporaries.
void write_manifest(const std::string& dir, const std::optional<data::DataFingerprint>& data);

// save_run_files, then write_manifest.
void save_run(const std::string& dir, const config::Config& config,
              const data::Vocabulary& vocabulary, nn::AutoInt& model,
              const std::optional<data::DataFingerprint>& data = std::nullopt);

struct LoadedRun {
  config::Config config;
  data::Vocabulary vocabulary;
  nn::AutoInt model{nullptr};
  // What it was trained on; absent for runs written before fingerprints were recorded.
  std::optional<data::DataFingerprint> data;
};

// Loads a run saved by save_run onto `device`, in eval mode. Throws RunError naming
// the file when the directory or a file is missing, a file's size or hash differs
// from the manifest (corrupt, truncated or swapped), the format version is not ours, the
// run has not finished, or the weights do not fit the model its config and vocabulary
// build (load_weights).
LoadedRun load_run(const std::string& dir, const torch::Device& device);

// Checks that `given` is the data the run in `run_dir` was trained on (`trained_on`;
// nothing to check when absent). When it is not, throws RunError naming both, unless
// `allow_other_data`, when it returns the same text as a warning to show. Empty when
// the data is the same.
std::string check_data(const std::string& run_dir,
                       const std::optional<data::DataFingerprint>& trained_on,
                       const data::DataFingerprint& given, bool allow_other_data);

// The data section of the run in `run_dir` (`config`), with data.dir replaced by
// `data_dir_override` when that is not empty (--data); ConfigError for a run whose data.source
// reads no directory.
config::DataConfig run_data_config(const config::Config& config, const std::string& run_dir,
                                   const std::string& data_dir_override);

// FNV-1a 64-bit hash of a file's bytes, as 16 hex digits.
std::string file_hash(const std::string& path);

}  // namespace autoint::train
