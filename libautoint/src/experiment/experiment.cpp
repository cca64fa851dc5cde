// The jobs the apps run: train a config into a run directory, resume one, re-evaluate one.
#include "autoint/experiment/experiment.h"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <typeinfo>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "autoint/device.h"
#include "autoint/error.h"
#include "autoint/experiment/run_dir.h"
#include "autoint/train/checkpoint.h"
#include "autoint/util/clock.h"
#include "autoint/util/files.h"
#include "autoint/version.h"
#include "experiment/run_json.h"

namespace autoint::train {
namespace fs = std::filesystem;
namespace {

// A history value as JSON: NaN (not measured) as null.
nlohmann::ordered_json number_or_null(double value) {
  return std::isnan(value) ? nlohmann::ordered_json() : nlohmann::ordered_json(value);
}

// A rank's device: with CUDA, each rank of a distributed run takes cuda:LOCAL_RANK.
torch::Device run_device(const std::string& text, const WorldSpec& world) {
  const DeviceSpec spec = DeviceSpec::parse(text);
  const torch::Device device = spec.resolve();
  if (!world.distributed() || !device.is_cuda())
    return device;
  if (spec.index() >= 0) {
    throw ConfigError(fmt::format(
        "device: {} with WORLD_SIZE {}: each rank of a distributed run uses cuda:LOCAL_RANK; "
        "write device: cuda (or auto)",
        text, world.world_size));
  }
  return DeviceSpec::parse(fmt::format("cuda:{}", world.local_rank)).resolve();
}

}  // namespace

nlohmann::ordered_json history_json(const FitResult& fit, bool timing) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const auto& s : fit.history) {
    nlohmann::ordered_json epoch = {{"epoch", s.epoch},
                                    {"train_loss", s.train_loss},
                                    {"validation_logloss", number_or_null(s.validation_logloss)},
                                    {"validation_auc", number_or_null(s.validation_auc)},
                                    {"validation_ndcg", number_or_null(s.validation_ndcg)},
                                    {"validation_recall", number_or_null(s.validation_recall)}};
    if (timing) {
      epoch["seconds"] = s.seconds;
      epoch["samples_per_s"] = s.samples_per_s;
    }
    out.push_back(std::move(epoch));
  }
  return out;
}

RunSummary run_experiment(const config::Config& config, std::ostream& console,
                          const RunOptions& options) {
  const auto job_start = util::Clock::now();
  const torch::Device device = run_device(config.device, options.world);
  std::unique_ptr<ProcessGroup> group;
  if (options.world.distributed()) {
    group = std::make_unique<ProcessGroup>(
        options.world, resolve_backend(config.distributed.backend, device),
        std::chrono::seconds(config.distributed.timeout_s), device);
  }
  // Rank 0 alone writes the run directory and talks to the console.
  const bool writer = group == nullptr || group->rank() == 0;
  const util::ProgressMode progress =
      writer ? util::progress_mode(config.train.progress) : util::ProgressMode::none;
  const std::string dir = config.output.dir;
  // Nothing in the directory changes until it is known to be ours and the data and config
  // have loaded: a typo in data.dir must not cost a finished run its files.
  if (!options.resume && writer)
    check_output_dir(dir, OutputKind::run);
  RunSummary summary;
  summary.run_dir = dir;
  summary.device = device.str();
  auto start = util::Clock::now();
  SourceData source = load_source(config.data);
  summary.load_seconds = util::seconds_since(start);
  const bool table = source.table;
  const data::DataFingerprint fingerprint = source_fingerprint(source);
  const std::string data_summary =
      table ? fmt::format(
                  "table {} ({} rows, {} fields{}{})", config.data.table.train,
                  source.table_columns.rows(), source.table_columns.fields.size(),
                  source.table_info.has_users ? fmt::format(", {} users", fingerprint.users) : "",
                  source.table_info.has_items ? fmt::format(", {} items", fingerprint.movies) : "")
            : fmt::format("{} ({} users, {} movies, {} ratings)",
                          config.data.source == "synthetic" ? "synthetic" : config.data.dir,
                          source.movielens.users.size(), source.movielens.movies.size(),
                          source.movielens.ratings.size());
  const data::PreparedData data = prepare_source(source, config.data);
  summary.featurize_seconds = data.featurize_seconds;
  const data::MovieLens& movielens = source.movielens;
  const nn::AutoIntOptions model_config =
      model_options(config.model, data.vocabulary, config.data.history);

  if (device.is_cpu())
    check_model_memory(model_config, config);

  std::optional<RunLock> lock;
  if (writer) {
    prepare_run_dir(dir);
    lock.emplace(dir);
  }
  const std::string log_path =
      writer ? (std::filesystem::path(dir) / run_files::kLog).string() : std::string();
  if (!options.resume && writer) {
    check_output_dir(dir, OutputKind::run);  // again, now that no one else can write it
    // A replaced run's files must not make this one look finished, or resumable from its
    // checkpoints, if this one dies. Only what autoint writes is removed.
    write_started_manifest(dir);
    for (const char* name : {run_files::kMetrics, run_files::kLog, run_files::kModel})
      fs::remove(fs::path(dir) / name);
    remove_checkpoints(dir);
  }
  // Written first, so that a run killed at any point can be resumed with its own config.
  if (writer)
    util::write_file_atomically((fs::path(dir) / run_files::kConfig).string(),
                                config::to_yaml(config));
  util::Log log(writer ? &console : nullptr, log_path);
  log.line(fmt::format("autoint {} | model {} | device {} | threads {}", AUTOINT_VERSION_STRING,
                       config.model.type, summary.device, at::get_num_threads()));
  log.line(fmt::format(
      "data: {} loaded in {:.2f} s, featurised in {:.2f} s; split train {} / validation {} / "
      "test {}",
      data_summary, summary.load_seconds, summary.featurize_seconds, data.train.rows(),
      data.validation.rows(), data.test.rows()));
  for (const auto& note : data.notes)
    log.line(note);

  seed_everything(config.train);
  nn::AutoInt model(model_config);
  model->to(device);
  int64_t parameters = 0;
  for (const auto& p : model->parameters())
    parameters += p.numel();
  std::ostringstream description;
  model->pretty_print(description);
  log.line(fmt::format("model: {} ({} parameters)", description.str(), parameters));
  // A checkpoint holds the weights, Adam's two moments and the best weights (4 copies);
  // the kept epoch checkpoints, best.ckpt, one being written and model.pt are on disk at once.
  uint64_t weight_bytes = 0;
  for (const auto& t : model->parameters())
    weight_bytes += static_cast<uint64_t>(t.numel() * t.element_size());
  for (const auto& t : model->buffers())
    weight_bytes += static_cast<uint64_t>(t.numel() * t.element_size());
  if (writer)
    check_free_space(dir, weight_bytes * 4 * (kKeptEpochCheckpoints + 3) + (uint64_t{1} << 20));

  start = util::Clock::now();
  summary.fit = fit(model, data, fit_options(config), device, log, progress,
                    FitControl{dir, options.resume, table ? nullptr : &movielens, group.get()});
  summary.train_seconds = util::seconds_since(start);

  summary.evaluation = evaluate_model(model, movielens, data, config, device, group.get());
  if (!writer)
    return summary;
  save_run_files(dir, config, data.vocabulary, model);

  nlohmann::ordered_json metrics = evaluation_object(summary.evaluation);
  nlohmann::ordered_json info;
  info["metrics_split"] = "test";
  info["seed_metrics"] =
      "seed_ndcg and seed_hr reproduce the origin project's formulas (IDCG without the cut at k; "
      "'hit rate' = recall); ndcg, hr, recall, precision are the standard definitions";
  info["data"] = table                               ? config.data.table.train
                 : config.data.source == "synthetic" ? "synthetic"
                                                     : config.data.dir;
  info["device"] = summary.device;
  info["threads"] = at::get_num_threads();
  if (group) {
    info["distributed"] = {{"world_size", group->size()},
                           {"backend", group->backend()},
                           {"global_batch", config.train.batch_size}};
  }
  info["best_epoch"] = summary.fit.best_epoch;
  info["epochs_run"] = summary.fit.history.size();
  info["stopped_early"] = summary.fit.stopped_early;
  info["load_seconds"] = summary.load_seconds;
  info["featurize_seconds"] = summary.featurize_seconds;
  info["train_seconds"] = summary.train_seconds;
  info["total_seconds"] = util::seconds_since(job_start);
  info["history"] = history_json(summary.fit, /*timing=*/true);
  metrics["run"] = info;
  util::write_file_atomically((std::filesystem::path(dir) / run_files::kMetrics).string(),
                              metrics.dump(2) + "\n");
  log.line(format_evaluation(summary.evaluation));
  log.line(fmt::format("run directory: {}", dir));
  // Last: the manifest lists every file, train.log with its final line included.
  write_manifest(dir, fingerprint);
  return summary;
}

namespace {

// The memory this machine can give (MemAvailable of /proc/meminfo), or 0 when unknown.
double available_memory_bytes() {
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  double kib = 0;
  std::string unit;
  while (meminfo >> key >> kib >> unit) {
    if (key == "MemAvailable:")
      return kib * 1024.0;
  }
  return 0;
}

}  // namespace

void check_model_memory(const nn::AutoIntOptions& options, const config::Config& config) {
  const double needed = nn::estimated_training_bytes(options, config.train.batch_size);
  const double available = available_memory_bytes();
  if (available <= 0 || needed <= available)
    return;
  constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;
  throw ConfigError(fmt::format(
      "the model would need about {:.1f} GiB to train ({:.3g} parameters, and the activations "
      "of train.batch_size {} rows), but this machine has {:.1f} GiB available; the sizes come "
      "from model.embed_dim {}, model.num_layers {}, model.num_heads {}, model.attention_dim {}, "
      "model.dnn_hidden_units [{}]{} and the fields' vocabularies: make them smaller",
      needed / kGiB, static_cast<double>(nn::expected_parameter_count(options)),
      config.train.batch_size, available / kGiB, config.model.embed_dim, config.model.num_layers,
      config.model.num_heads, config.model.attention_dim,
      fmt::join(config.model.dnn_hidden_units, ", "),
      config.model.dot_dim > 0 ? fmt::format(", model.dot_dim {}", config.model.dot_dim) : ""));
}

namespace {

// A resumed run writes its log, checkpoints and manifest where they are: a symbolic link
// among them (a hand-made or unpacked directory) would have it write outside the run.
void refuse_links(const std::string& run_dir) {
  const fs::path dir(run_dir);
  std::vector<fs::path> paths;
  for (const char* name :
       {run_files::kConfig, run_files::kModel, run_files::kVocabulary, run_files::kManifest,
        run_files::kMetrics, run_files::kLog, run_files::kLock, checkpoint_files::kDir})
    paths.push_back(dir / name);
  std::error_code ec;
  const fs::path checkpoints = dir / checkpoint_files::kDir;
  if (!fs::is_symlink(checkpoints, ec) && fs::is_directory(checkpoints, ec)) {
    for (const auto& entry : fs::directory_iterator(checkpoints, ec))
      paths.push_back(entry.path());
  }
  for (const auto& path : paths) {
    if (fs::is_symlink(path, ec)) {
      throw RunError(
          fmt::format("{}: a symbolic link (to {}); a run writes only inside its own directory, so "
                      "--resume refuses it: replace the link with the file or directory itself",
                      path.string(), fs::read_symlink(path, ec).string()));
    }
  }
}

}  // namespace

RunSummary resume_experiment(const std::string& run_dir, std::ostream& console,
                             const WorldSpec& world) {
  if (!fs::is_directory(run_dir))
    throw RunError(fmt::format("{}: run directory does not exist", run_dir));
  refuse_links(run_dir);
  const std::string config_path = (fs::path(run_dir) / run_files::kConfig).string();
  if (!fs::exists(config_path)) {
    throw RunError(fmt::format("{}: missing, so {} is not a run directory autoint-train started",
                               config_path, run_dir));
  }
  const std::string metrics_path = (fs::path(run_dir) / run_files::kMetrics).string();
  if (fs::exists(metrics_path)) {
    throw RunError(fmt::format("{}: the run already finished ({} exists); nothing to resume",
                               run_dir, metrics_path));
  }
  // The run may have been moved since: it continues where it is now.
  const config::Config config = config::load_config(config_path, {"output.dir=" + run_dir});
  return run_experiment(config, console, RunOptions{true, world});
}

Evaluation evaluate_run(const std::string& run_dir, const std::string& data_dir_override,
                        const std::string& device_text, const std::string& protocol_override,
                        bool allow_other_data) {
  if (!protocol_override.empty() && protocol_override != "seed" &&
      protocol_override != "full_ranking" && protocol_override != "both") {
    throw ConfigError(
        fmt::format("--protocol {}: expected seed, full_ranking or both", protocol_override));
  }
  const torch::Device device = DeviceSpec::parse(device_text).resolve();
  LoadedRun run = load_run(run_dir, device);
  const config::DataConfig data_config = run_data_config(run.config, run_dir, data_dir_override);
  SourceData source = load_source(data_config);
  const std::string warning =
      check_data(run_dir, run.data, source_fingerprint(source), allow_other_data);
  const data::PreparedData data = prepare_source(source, data_config, run.vocabulary);
  config::Config config = run.config;
  if (!protocol_override.empty())
    config.eval.protocol = protocol_override;
  Evaluation evaluation;
  try {
    evaluation = evaluate_model(run.model, source.movielens, data, config, device);
  } catch (const Error& e) {
    if (typeid(e) != typeid(Error))
      throw;  // a config, data or run error keeps its kind (and exit code)
    throw Error(fmt::format("{}: {}", run_dir, e.what()));  // e.g. NaN scores: name the run
  }
  if (!warning.empty())
    evaluation.warnings.push_back(warning);
  return evaluation;
}

}  // namespace autoint::train
