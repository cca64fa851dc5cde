// Saving and loading run directories, with a manifest that detects damage.
#include "autoint/train/run_dir.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "autoint/error.h"
#include "autoint/train/pipeline.h"
#include "autoint/version.h"

namespace autoint::train {
namespace fs = std::filesystem;

namespace {

std::string join(const std::string& dir, const char* name) {
  return (fs::path(dir) / name).string();
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw RunError(fmt::format("{}: missing or unreadable", path));
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

}  // namespace

std::string file_hash(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw RunError(fmt::format("{}: missing or unreadable", path));
  uint64_t hash = 1469598103934665603ULL;
  char buffer[1 << 16];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
    for (std::streamsize i = 0; i < in.gcount(); ++i) {
      hash ^= static_cast<unsigned char>(buffer[i]);
      hash *= 1099511628211ULL;
    }
  }
  return fmt::format("{:016x}", hash);
}

void prepare_run_dir(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec)
    throw RunError(fmt::format("{}: cannot create run directory: {}", dir, ec.message()));
  const std::string probe = join(dir, ".write-test");
  {
    std::ofstream out(probe, std::ios::binary);
    out << "ok";
    out.flush();
    if (!out) {
      throw RunError(fmt::format("{}: run directory is not writable", dir));
    }
  }
  fs::remove(probe, ec);
}

void write_file_atomically(const std::string& path, const std::string& content) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out)
      throw RunError(fmt::format("{}: cannot open for writing", tmp));
    out << content;
    out.flush();
    if (!out)
      throw RunError(fmt::format("{}: write failed (disk full?)", tmp));
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec)
    throw RunError(fmt::format("{}: cannot rename into place: {}", path, ec.message()));
}

void save_run(const std::string& dir, const config::Config& config,
              const data::Vocabulary& vocabulary, nn::AutoInt& model) {
  write_file_atomically(join(dir, run_files::kConfig), config::to_yaml(config));

  const std::string vocab_path = join(dir, run_files::kVocabulary);
  vocabulary.save(vocab_path + ".tmp");
  fs::rename(vocab_path + ".tmp", vocab_path);

  // Weights are saved from the CPU so a run trained on CUDA loads anywhere.
  const std::string model_path = join(dir, run_files::kModel);
  {
    auto copy = std::dynamic_pointer_cast<nn::AutoIntImpl>(model->clone(torch::kCPU));
    std::ostringstream bytes;
    torch::save(nn::AutoInt(copy), bytes);
    write_file_atomically(model_path, bytes.str());
  }

  nlohmann::ordered_json manifest;
  manifest["format"] = "autoint-run";
  manifest["format_version"] = kRunFormatVersion;
  manifest["autoint_version"] = AUTOINT_VERSION_STRING;
  for (const char* name : {run_files::kConfig, run_files::kVocabulary, run_files::kModel}) {
    const std::string path = join(dir, name);
    manifest["files"][name] = {{"bytes", fs::file_size(path)}, {"fnv1a64", file_hash(path)}};
  }
  write_file_atomically(join(dir, run_files::kManifest), manifest.dump(2) + "\n");
}

LoadedRun load_run(const std::string& dir, const torch::Device& device) {
  if (!fs::is_directory(dir)) {
    throw RunError(fmt::format("{}: run directory does not exist", dir));
  }
  const std::string manifest_path = join(dir, run_files::kManifest);
  nlohmann::json manifest;
  try {
    manifest = nlohmann::json::parse(read_file(manifest_path));
  } catch (const nlohmann::json::exception& e) {
    throw RunError(fmt::format("{}: corrupt manifest: {}", manifest_path, e.what()));
  }
  if (manifest.value("format", "") != "autoint-run" || !manifest.contains("format_version") ||
      !manifest["format_version"].is_number_integer()) {
    throw RunError(
        fmt::format("{}: not an autoint run manifest (expected \"format\": "
                    "\"autoint-run\" and an integer format_version)",
                    manifest_path));
  }
  const int version = manifest["format_version"].get<int>();
  if (version != kRunFormatVersion) {
    throw RunError(fmt::format(
        "{}: run format version {} (written by autoint {}) is not supported; this is autoint "
        "{}, which reads format version {}",
        manifest_path, version, manifest.value("autoint_version", "?"), AUTOINT_VERSION_STRING,
        kRunFormatVersion));
  }
  for (const char* name : {run_files::kConfig, run_files::kVocabulary, run_files::kModel}) {
    const std::string path = join(dir, name);
    if (!fs::exists(path))
      throw RunError(fmt::format("{}: missing from the run directory", path));
    if (!manifest.contains("files") || !manifest["files"].contains(name)) {
      throw RunError(fmt::format("{}: has no entry for {}", manifest_path, name));
    }
    const auto& entry = manifest["files"][name];
    const auto expected_bytes = entry.value("bytes", uint64_t{0});
    const auto actual_bytes = fs::file_size(path);
    if (actual_bytes != expected_bytes) {
      throw RunError(fmt::format("{}: corrupt or truncated: {} bytes, the manifest says {}", path,
                                 actual_bytes, expected_bytes));
    }
    const std::string hash = file_hash(path);
    if (hash != entry.value("fnv1a64", "")) {
      throw RunError(fmt::format("{}: corrupt: FNV-1a hash {} differs from the manifest's {}", path,
                                 hash, entry.value("fnv1a64", "")));
    }
  }
  LoadedRun run;
  const std::string config_path = join(dir, run_files::kConfig);
  run.config = config::load_config(config_path);
  run.vocabulary = data::Vocabulary::load(join(dir, run_files::kVocabulary));
  run.model = nn::AutoInt(model_options(run.config.model, run.vocabulary.cardinalities()));
  const std::string model_path = join(dir, run_files::kModel);
  try {
    torch::load(run.model, model_path);
  } catch (const c10::Error& e) {
    throw RunError(fmt::format("{}: cannot load weights into the model that {} describes: {}",
                               model_path, config_path, e.what_without_backtrace()));
  }
  run.model->to(device);
  run.model->eval();
  return run;
}

}  // namespace autoint::train
