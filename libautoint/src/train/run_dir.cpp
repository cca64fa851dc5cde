// Saving and loading run directories, with a manifest that detects damage.
#include "autoint/train/run_dir.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

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

}  // namespace

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw RunError(fmt::format("{}: missing or unreadable", path));
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::string bytes_hash(const std::string& bytes) {
  uint64_t hash = 1469598103934665603ULL;
  for (const char c : bytes) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ULL;
  }
  return fmt::format("{:016x}", hash);
}

std::string file_hash(const std::string& path) {
  return bytes_hash(read_file(path));
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

void check_free_space(const std::string& dir, uint64_t bytes) {
  std::error_code ec;
  const fs::space_info space = fs::space(dir, ec);
  if (ec) {
    throw RunError(fmt::format("{}: cannot read the free space: {}", dir, ec.message()));
  }
  if (space.available < bytes) {
    constexpr double kMiB = 1024.0 * 1024.0;
    throw RunError(fmt::format(
        "{}: only {:.1f} MiB free, but this run writes about {:.1f} MiB (model and "
        "checkpoints); free some space or choose another output.dir",
        dir, static_cast<double>(space.available) / kMiB, static_cast<double>(bytes) / kMiB));
  }
}

void write_file_atomically(const std::string& path, const std::string& content) {
  const std::string tmp = path + ".tmp";
  auto fail = [&](const std::string& what, int error) {
    ::unlink(tmp.c_str());
    return RunError(fmt::format("{}: {}: {}; {} is unchanged", tmp, what,
                                std::generic_category().message(error), path));
  };
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    throw RunError(fmt::format("{}: cannot open for writing: {}", tmp,
                               std::generic_category().message(errno)));
  }
  std::size_t written = 0;
  while (written < content.size()) {
    const ssize_t n = ::write(fd, content.data() + written, content.size() - written);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      const int error = n < 0 ? errno : ENOSPC;
      ::close(fd);
      throw fail(fmt::format("write failed after {} of {} bytes", written, content.size()), error);
    }
    written += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    const int error = errno;
    ::close(fd);
    throw fail("cannot flush to disk", error);
  }
  if (::close(fd) != 0)
    throw fail("cannot close", errno);
  if (::rename(tmp.c_str(), path.c_str()) != 0)
    throw fail("cannot rename into place", errno);
  // The rename itself is durable only once the directory is flushed; some file systems
  // cannot fsync a directory, which costs durability on a power cut, not consistency.
  const std::string parent = fs::path(path).parent_path().empty()
                                 ? std::string(".")
                                 : fs::path(path).parent_path().string();
  const int dir_fd = ::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
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
  run.model = nn::AutoInt(model_options(run.config.model, run.vocabulary));
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
