// The run directory: what training writes and what evaluation and inference load.
#pragma once

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

// Writes `content` to `path` through a temporary file and a rename, so a reader never
// sees half a file. Throws RunError on failure.
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

// FNV-1a 64-bit hash of a file's bytes, as 16 hex digits.
std::string file_hash(const std::string& path);

}  // namespace autoint::train
