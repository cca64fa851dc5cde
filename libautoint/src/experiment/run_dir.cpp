// Saving and loading run directories, with a manifest that detects damage.
#include "autoint/experiment/run_dir.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "autoint/error.h"
#include "autoint/experiment/pipeline.h"
#include "autoint/movielens/features.h"
#include "autoint/train/checkpoint.h"
#include "autoint/util/files.h"
#include "autoint/util/fnv1a.h"
#include "autoint/version.h"

namespace autoint::train {
namespace fs = std::filesystem;

namespace {

std::string join(const std::string& dir, const char* name) {
  return (fs::path(dir) / name).string();
}

// The names in `dir` (not recursive, sorted), run.lock left out.
std::vector<std::string> entries(const std::string& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name != run_files::kLock)
      names.push_back(name);
  }
  if (ec)
    throw RunError(fmt::format("{}: cannot list the directory: {}", dir, ec.message()));
  std::sort(names.begin(), names.end());
  return names;
}

// "a, b, c and 12 more"
std::string some_names(const std::vector<std::string>& names) {
  constexpr std::size_t kShown = 4;
  std::string out;
  for (std::size_t i = 0; i < names.size() && i < kShown; ++i)
    out += (i ? ", " : "") + names[i];
  if (names.size() > kShown)
    out += fmt::format(" and {} more", names.size() - kShown);
  return out;
}

// The manifest's JSON, or nothing when there is none or it is not an autoint run manifest.
std::optional<nlohmann::json> run_manifest(const std::string& dir) {
  const std::string path = join(dir, run_files::kManifest);
  if (!fs::is_regular_file(path))
    return std::nullopt;
  try {
    auto manifest = nlohmann::json::parse(util::read_file(path));
    if (manifest.is_object() && manifest.value("format", "") == "autoint-run")
      return manifest;
  } catch (const nlohmann::json::exception&) {
  }
  return std::nullopt;
}

}  // namespace

void check_output_dir(const std::string& dir, OutputKind kind) {
  std::error_code ec;
  const auto status = fs::status(dir, ec);
  if (!fs::exists(status))
    return;
  const char* expected =
      kind == OutputKind::run
          ? "a new or empty directory, or an autoint run directory (one with an autoint "
            "manifest.json) to replace"
          : "a new or empty directory, or an autoint grid directory (one with grid.yaml)";
  if (!fs::is_directory(status))
    throw RunError(fmt::format("{}: exists and is not a directory; expected {}", dir, expected));
  const auto names = entries(dir);
  if (names.empty())
    return;
  if (kind == OutputKind::run && run_manifest(dir))
    return;
  if (kind == OutputKind::grid && fs::is_regular_file(join(dir, run_files::kGridConfig)))
    return;
  throw RunError(fmt::format(
      "{}: holds {} file(s) or folder(s) ({}) and is not an autoint {}; autoint writes only "
      "into {}: choose another output directory (nothing was changed)",
      dir, names.size(), some_names(names), kind == OutputKind::run ? "run" : "grid", expected));
}

RunLock::RunLock(const std::string& dir) {
  const std::string path = join(dir, run_files::kLock);
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    throw RunError(fmt::format("{}: cannot open the lock file: {}", path,
                               std::generic_category().message(errno)));
  }
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    std::string holder;
    char buffer[64] = {};
    const ssize_t n = ::pread(fd_, buffer, sizeof buffer - 1, 0);
    if (n > 0)
      holder = std::string(buffer, static_cast<std::size_t>(n));
    while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' '))
      holder.pop_back();
    ::close(fd_);
    fd_ = -1;
    if (error == EWOULDBLOCK) {
      throw RunError(fmt::format(
          "{}: in use by another autoint process ({}); wait for it to finish or choose another "
          "output directory",
          dir, holder.empty() ? std::string("pid unknown") : holder));
    }
    throw RunError(
        fmt::format("{}: cannot lock: {}", path, std::generic_category().message(error)));
  }
  // Who holds it, for the message above; written once the lock is ours. Best effort: the
  // lock holds either way, only another process's message would lack the pid.
  const std::string me = fmt::format("pid {}\n", ::getpid());
  if (::ftruncate(fd_, 0) == 0) {
    [[maybe_unused]] const ssize_t written = ::pwrite(fd_, me.data(), me.size(), 0);
  }
}

RunLock::~RunLock() {
  if (fd_ >= 0)
    ::close(fd_);  // releases the flock
}

std::string file_hash(const std::string& path) {
  return util::fnv1a_hex(util::read_file(path));
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

// What every manifest starts with.
nlohmann::ordered_json manifest_head(bool complete) {
  nlohmann::ordered_json manifest;
  manifest["format"] = "autoint-run";
  manifest["format_version"] = kRunFormatVersion;
  manifest["autoint_version"] = AUTOINT_VERSION_STRING;
  manifest["complete"] = complete;
  return manifest;
}

void write_started_manifest(const std::string& dir) {
  const nlohmann::ordered_json manifest = manifest_head(false);
  util::write_file_atomically(join(dir, run_files::kManifest), manifest.dump(2) + "\n");
}

void save_run_files(const std::string& dir, const config::Config& config,
                    const data::Vocabulary& vocabulary, nn::AutoInt& model) {
  util::write_file_atomically(join(dir, run_files::kConfig), config::to_yaml(config));

  const std::string vocab_path = join(dir, run_files::kVocabulary);
  vocabulary.save(vocab_path + ".tmp");
  fs::rename(vocab_path + ".tmp", vocab_path);

  // Weights are saved from the CPU so a run trained on CUDA loads anywhere.
  auto copy = std::dynamic_pointer_cast<nn::AutoIntImpl>(model->clone(torch::kCPU));
  std::ostringstream bytes;
  torch::save(nn::AutoInt(copy), bytes);
  util::write_file_atomically(join(dir, run_files::kModel), bytes.str());
}

void write_manifest(const std::string& dir, const std::optional<data::DataFingerprint>& data) {
  nlohmann::ordered_json manifest = manifest_head(true);
  if (data) {
    manifest["data"] = {{"users", data->users},
                        {"movies", data->movies},
                        {"ratings", data->ratings},
                        {"fnv1a64", data->fnv1a64}};
  }
  std::vector<std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file())
      continue;
    const std::string name = fs::relative(entry.path(), dir).generic_string();
    if (name == run_files::kManifest || name == run_files::kLock ||
        entry.path().extension() == ".tmp")
      continue;
    files.push_back(name);
  }
  std::sort(files.begin(), files.end());
  manifest["files"] = nlohmann::ordered_json::object();
  for (const auto& name : files) {
    const std::string path = (fs::path(dir) / name).string();
    manifest["files"][name] = {{"bytes", fs::file_size(path)}, {"fnv1a64", file_hash(path)}};
  }
  util::write_file_atomically(join(dir, run_files::kManifest), manifest.dump(2) + "\n");
}

void save_run(const std::string& dir, const config::Config& config,
              const data::Vocabulary& vocabulary, nn::AutoInt& model,
              const std::optional<data::DataFingerprint>& data) {
  save_run_files(dir, config, vocabulary, model);
  write_manifest(dir, data);
}

config::DataConfig run_data_config(const config::Config& config, const std::string& run_dir,
                                   const std::string& data_dir_override) {
  config::DataConfig data_config = config.data;
  if (!data_dir_override.empty()) {
    if (data_config.source != "movielens") {
      throw ConfigError(fmt::format(
          "--data {}: the run {} was trained on data.source {}, which reads no directory",
          data_dir_override, run_dir, data_config.source));
    }
    data_config.dir = data_dir_override;
  }
  return data_config;
}

std::string check_data(const std::string& run_dir,
                       const std::optional<data::DataFingerprint>& trained_on,
                       const data::DataFingerprint& given, bool allow_other_data) {
  if (!trained_on || *trained_on == given)
    return "";
  const std::string message = fmt::format("{} was trained on other data ({}) than this ({})",
                                          run_dir, trained_on->str(), given.str());
  if (!allow_other_data) {
    throw RunError(message +
                   "; its vocabulary and metrics do not describe this data (pass "
                   "--allow-other-data to use it anyway)");
  }
  return "warning: " + message;
}

LoadedRun load_run(const std::string& dir, const torch::Device& device) {
  if (!fs::is_directory(dir)) {
    throw RunError(fmt::format("{}: run directory does not exist", dir));
  }
  const std::string manifest_path = join(dir, run_files::kManifest);
  nlohmann::json manifest;
  try {
    manifest = nlohmann::json::parse(util::read_file(manifest_path));
  } catch (const nlohmann::json::exception& e) {
    throw RunError(fmt::format("{}: corrupt manifest: {}", manifest_path, e.what()));
  }
  if (!manifest.is_object() || !manifest.contains("format") || !manifest["format"].is_string() ||
      manifest["format"] != "autoint-run" || !manifest.contains("format_version") ||
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
        manifest_path, version,
        (!manifest.contains("autoint_version") ? std::string("?")
         : manifest["autoint_version"].is_string()
             ? quoted_value(manifest["autoint_version"].get<std::string>())
             : quoted_value(manifest["autoint_version"].dump())),
        AUTOINT_VERSION_STRING, kRunFormatVersion));
  }
  if (manifest.contains("complete") && manifest["complete"] == false) {
    throw RunError(fmt::format(
        "{}: the run has not finished (its manifest says \"complete\": false); resume it with "
        "autoint-train --resume {} or wait for the process training it",
        dir, dir));
  }
  if (!manifest.contains("files") || !manifest["files"].is_object())
    throw RunError(fmt::format("{}: has no \"files\" object", manifest_path));
  for (const char* name : {run_files::kConfig, run_files::kVocabulary, run_files::kModel}) {
    if (!manifest["files"].contains(name))
      throw RunError(fmt::format("{}: has no entry for {}", manifest_path, name));
  }
  // Every file the run wrote, so that a train.log or metrics.json of another run is noticed.
  for (const auto& [name, entry] : manifest["files"].items()) {
    if (name.empty() || name.find("..") != std::string::npos || name.front() == '/')
      throw RunError(fmt::format("{}: bad file name \"{}\"", manifest_path, name));
    const std::string path = (fs::path(dir) / name).string();
    if (!fs::exists(path))
      throw RunError(fmt::format("{}: missing from the run directory", path));
    if (!entry.is_object())
      throw RunError(fmt::format("{}: the entry for {} is not an object", manifest_path, name));
    if (!entry.contains("bytes") || !entry["bytes"].is_number_unsigned() ||
        !entry.contains("fnv1a64") || !entry["fnv1a64"].is_string()) {
      throw RunError(fmt::format(
          "{}: the entry for {} must hold \"bytes\" (a non-negative integer) and \"fnv1a64\" (a "
          "string), got {}",
          manifest_path, name, quoted_value(entry.dump())));
    }
    const auto expected_bytes = entry["bytes"].get<uint64_t>();
    const auto actual_bytes = fs::file_size(path);
    if (actual_bytes != expected_bytes) {
      throw RunError(fmt::format("{}: corrupt or truncated: {} bytes, the manifest says {}", path,
                                 actual_bytes, expected_bytes));
    }
    const std::string hash = file_hash(path);
    if (hash != entry["fnv1a64"].get<std::string>()) {
      throw RunError(fmt::format("{}: corrupt: FNV-1a hash {} differs from the manifest's {}", path,
                                 hash, entry["fnv1a64"].get<std::string>()));
    }
  }
  LoadedRun run;
  const std::string config_path = join(dir, run_files::kConfig);
  run.config = config::load_config(config_path);
  // Runs of the first versions saved version-1 vocabularies: the seed's 13 fields.
  run.vocabulary =
      data::Vocabulary::load(join(dir, run_files::kVocabulary), data::feature_set_fields("seed"));
  run.model = nn::AutoInt(model_options(run.config.model, run.vocabulary, run.config.data.history));
  const std::string model_path = join(dir, run_files::kModel);
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(model_path);
    load_weights(*run.model, archive, model_path);
  } catch (const c10::Error& e) {
    throw RunError(fmt::format("{}: cannot load weights into the model that {} describes: {}",
                               model_path, config_path, e.what_without_backtrace()));
  }
  if (manifest.contains("data")) {
    const auto& d = manifest["data"];
    try {
      run.data =
          data::DataFingerprint{d.at("users").get<int64_t>(), d.at("movies").get<int64_t>(),
                                d.at("ratings").get<int64_t>(), d.at("fnv1a64").get<std::string>()};
    } catch (const nlohmann::json::exception& e) {
      throw RunError(fmt::format("{}: bad \"data\" entry: {}", manifest_path, e.what()));
    }
  }
  run.model->to(device);
  run.model->eval();
  return run;
}

}  // namespace autoint::train
