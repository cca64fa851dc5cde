// The run directory: what training writes and what evaluation and inference load.
#pragma once

#include <cstdint>
#include <string>

#include <torch/torch.h>

#include "autoint/config/config.h"
#include "autoint/data/features.h"
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
}  // namespace run_files

// Bumped when a run directory's layout or a file format changes incompatibly.
inline constexpr int kRunFormatVersion = 1;

// Creates `dir` (and parents) and checks that a file can be written there; throws
// RunError naming the directory otherwise. Called before training starts.
void prepare_run_dir(const std::string& dir);

// Throws RunError naming `dir` unless its file system has at least `bytes` available.
// A rough early check, so a full disk is reported before hours of training, not after.
void check_free_space(const std::string& dir, uint64_t bytes);

// Writes `content` to `path` through a temporary file that is flushed to disk (fsync)
// before it is renamed over `path`, so neither a reader nor a crash ever sees half a
// file. On failure (disk full, ...) the temporary is removed, `path` keeps its old
// content, and RunError names the file and the reason.
void write_file_atomically(const std::string& path, const std::string& content);

// Writes config.yaml, vocabulary.txt, model.pt and then manifest.json (which records
// each file's size and FNV-1a hash, the format version and the library version).
void save_run(const std::string& dir, const config::Config& config,
              const data::Vocabulary& vocabulary, nn::AutoInt& model);

struct LoadedRun {
  config::Config config;
  data::Vocabulary vocabulary;
  nn::AutoInt model{nullptr};
};

// Loads a run saved by save_run onto `device`, in eval mode. Throws RunError naming
// the file when the directory or a file is missing, a file's size or hash differs
// from the manifest (corrupt or truncated), or the format version is not ours.
LoadedRun load_run(const std::string& dir, const torch::Device& device);

// A file's bytes; throws RunError naming it when it is missing or unreadable.
std::string read_file(const std::string& path);

// FNV-1a 64-bit hash of a file's bytes, as 16 hex digits.
std::string file_hash(const std::string& path);

// The same hash of bytes in memory.
std::string bytes_hash(const std::string& bytes);

}  // namespace autoint::train
