// Checkpoint files: a size-and-hash header, then one LibTorch archive, written atomically.
#include "autoint/train/checkpoint.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <mutex>
#include <regex>
#include <sstream>
#include <tuple>

#include <ATen/Context.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "autoint/error.h"
#include "autoint/util/files.h"
#include "autoint/util/fnv1a.h"

namespace autoint::train {
namespace fs = std::filesystem;

namespace {

constexpr const char* kMagic = "autoint-checkpoint";
// Bumped when the archive's keys or meaning change.
constexpr int kCheckpointVersion = 1;
// Columns of the history tensor, in EpochStats order.
// Checkpoints written before full-ranking validation have the first 6 (then NaN).
constexpr int64_t kHistoryColumns = 8;
constexpr int64_t kHistoryColumnsV1 = 6;

const std::regex& name_pattern() {
  static const std::regex pattern(R"(epoch-(\d{4,})(?:-step-(\d{6,}))?\.ckpt)");
  return pattern;
}

// The epoch number and step in a checkpoint's name (step 0: end of that epoch).
bool parse_name(const std::string& name, int64_t& epoch, int64_t& step) {
  std::smatch m;
  if (!std::regex_match(name, m, name_pattern()))
    return false;
  epoch = std::stoll(m[1].str());
  step = m[2].matched ? std::stoll(m[2].str()) : 0;
  return true;
}

torch::Tensor text_tensor(const std::string& text) {
  return torch::from_blob(const_cast<char*>(text.data()), {static_cast<int64_t>(text.size())},
                          torch::kUInt8)
      .clone();
}

std::string tensor_text(const torch::Tensor& t) {
  const torch::Tensor bytes = t.to(torch::kCPU).contiguous();
  return std::string(static_cast<const char*>(bytes.data_ptr()),
                     static_cast<std::size_t>(bytes.numel()));
}

// The archive bytes of a checkpoint file, after checking them against its header.
std::string verified_payload(const std::string& path) {
  const std::string bytes = util::read_file(path);
  const std::size_t eol = bytes.find('\n');
  std::istringstream header(bytes.substr(0, std::min<std::size_t>(eol, 200)));
  std::string magic, hash;
  int version = 0;
  uint64_t size = 0;
  if (eol == std::string::npos || !(header >> magic >> version >> size >> hash) ||
      magic != kMagic) {
    throw RunError(fmt::format(
        "{}: not an autoint checkpoint (expected a first line \"{} {} <bytes> <fnv1a64>\")", path,
        kMagic, kCheckpointVersion));
  }
  if (version != kCheckpointVersion) {
    throw RunError(fmt::format("{}: checkpoint format version {} is not supported (expected {})",
                               path, version, kCheckpointVersion));
  }
  std::string payload = bytes.substr(eol + 1);
  if (payload.size() != size) {
    throw RunError(fmt::format(
        "{}: corrupt or truncated: {} bytes after the header, the header says {}; nothing was "
        "loaded",
        path, payload.size(), size));
  }
  const std::string actual = util::fnv1a_hex(payload);
  if (actual != hash) {
    throw RunError(
        fmt::format("{}: corrupt: FNV-1a hash {} differs from the header's {}; nothing was loaded",
                    path, actual, hash));
  }
  return payload;
}

std::string shape(torch::IntArrayRef sizes) {
  return fmt::format("[{}]", fmt::join(sizes, ", "));
}

// Checks `module`'s own parameters and buffers and, recursively, its children's against
// `archive`, which Module::save wrote (one nested archive per child).
void check_weights(const torch::nn::Module& module, torch::serialize::InputArchive& archive,
                   const std::string& prefix, const std::string& source) {
  const auto check = [&](const std::string& key, const torch::Tensor& expected, bool buffer) {
    torch::Tensor found;
    const std::string name = prefix + key;
    if (!archive.try_read(key, found, buffer)) {
      throw RunError(fmt::format("{}: has no {} {} (the model expects shape {})", source,
                                 buffer ? "buffer" : "parameter", name, shape(expected.sizes())));
    }
    if (found.sizes() != expected.sizes()) {
      throw RunError(fmt::format(
          "{}: {} {} has shape {}, but the model built from the run's config and vocabulary "
          "expects {} (weights of another config or data?)",
          source, buffer ? "buffer" : "parameter", name, shape(found.sizes()),
          shape(expected.sizes())));
    }
  };
  std::vector<std::string> known;
  for (const auto& item : module.named_parameters(/*recurse=*/false)) {
    check(item.key(), item.value(), false);
    known.push_back(item.key());
  }
  for (const auto& item : module.named_buffers(/*recurse=*/false)) {
    check(item.key(), item.value(), true);
    known.push_back(item.key());
  }
  for (const auto& child : module.named_children()) {
    torch::serialize::InputArchive child_archive;
    if (!archive.try_read(child.key(), child_archive)) {
      throw RunError(
          fmt::format("{}: has no weights for the module {}", source, prefix + child.key()));
    }
    check_weights(*child.value(), child_archive, prefix + child.key() + ".", source);
    known.push_back(child.key());
  }
  for (const auto& key : archive.keys()) {
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      throw RunError(
          fmt::format("{}: holds {}, which the model built from the run's config "
                      "does not have (weights of another model?)",
                      source, prefix + key));
    }
  }
}

}  // namespace

torch::Tensor generator_state(const torch::Device& device) {
  at::Generator generator = at::globalContext().defaultGenerator(device);
  std::lock_guard<std::mutex> lock(generator.mutex());
  return generator.get_state();
}

void set_generator_state(const torch::Device& device, const torch::Tensor& state) {
  at::Generator generator = at::globalContext().defaultGenerator(device);
  std::lock_guard<std::mutex> lock(generator.mutex());
  generator.set_state(state.to(torch::kCPU));
}

std::string checkpoint_name(int64_t epochs_completed, int64_t step) {
  return step == 0 ? fmt::format("epoch-{:04d}.ckpt", epochs_completed)
                   : fmt::format("epoch-{:04d}-step-{:06d}.ckpt", epochs_completed + 1, step);
}

std::vector<std::string> list_checkpoints(const std::string& run_dir) {
  struct Entry {
    int64_t epochs_done;
    int64_t step;
    std::string path;
  };
  std::vector<Entry> entries;
  const fs::path dir = fs::path(run_dir) / checkpoint_files::kDir;
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    return {};
  for (const auto& item : fs::directory_iterator(dir)) {
    int64_t epoch = 0, step = 0;
    if (!item.is_regular_file() || !parse_name(item.path().filename().string(), epoch, step))
      continue;
    // "epoch-0003-step-17" is 2 epochs and 17 steps done; "epoch-0003" is 3 epochs done.
    entries.push_back({step == 0 ? epoch : epoch - 1, step, item.path().string()});
  }
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return std::tie(a.epochs_done, a.step) < std::tie(b.epochs_done, b.step);
  });
  std::vector<std::string> out;
  for (const auto& e : entries)
    out.push_back(e.path);
  return out;
}

std::string latest_checkpoint(const std::string& run_dir) {
  const auto all = list_checkpoints(run_dir);
  return all.empty() ? std::string() : all.back();
}

std::string encode_checkpoint(const TrainState& state, nn::AutoInt& model,
                              const torch::optim::Adam& optimizer) {
  torch::serialize::OutputArchive archive;
  torch::serialize::OutputArchive model_archive;
  model->save(model_archive);
  archive.write("model", model_archive);
  torch::serialize::OutputArchive optimizer_archive;
  optimizer.save(optimizer_archive);
  archive.write("optimizer", optimizer_archive);

  nlohmann::ordered_json meta;
  meta["epoch"] = state.epoch;
  meta["step"] = state.step;
  meta["best_epoch"] = state.result.best_epoch;
  meta["stopped_early"] = state.result.stopped_early;
  meta["epochs_without_improvement"] = state.epochs_without_improvement;
  meta["seen"] = state.seen;
  meta["best_weights"] = state.best_weights.size();
  meta["batches"] = {{"rng", state.batches.rng},
                     {"in_pass", state.batches.in_pass},
                     {"position", state.batches.position}};
  archive.write("meta", text_tensor(meta.dump()));

  // Doubles travel as float64 tensors: bit-exact, NaN and infinity included, which JSON is not.
  auto history = torch::zeros({static_cast<int64_t>(state.result.history.size()), kHistoryColumns},
                              torch::kFloat64);
  for (std::size_t i = 0; i < state.result.history.size(); ++i) {
    const EpochStats& s = state.result.history[i];
    const double row[kHistoryColumns] = {static_cast<double>(s.epoch),
                                         s.train_loss,
                                         s.validation_logloss,
                                         s.validation_auc,
                                         s.seconds,
                                         s.samples_per_s,
                                         s.validation_ndcg,
                                         s.validation_recall};
    for (int64_t c = 0; c < kHistoryColumns; ++c)
      history[static_cast<int64_t>(i)][c] = row[c];
  }
  archive.write("history", history);
  archive.write("doubles", torch::tensor({state.best_score, state.seconds}, torch::kFloat64));
  archive.write("loss_sum", state.loss_sum.defined() ? state.loss_sum.detach().to(torch::kCPU)
                                                     : torch::zeros({}));
  archive.write("cpu_generator", state.cpu_generator);
  if (state.cuda_generator.defined())
    archive.write("cuda_generator", state.cuda_generator);
  for (std::size_t i = 0; i < state.best_weights.size(); ++i)
    archive.write(fmt::format("best_{}", i), state.best_weights[i]);

  std::ostringstream bytes;
  archive.save_to(bytes);
  const std::string payload = bytes.str();
  return fmt::format("{} {} {} {}\n", kMagic, kCheckpointVersion, payload.size(),
                     util::fnv1a_hex(payload)) +
         payload;
}

TrainState load_checkpoint(const std::string& path, nn::AutoInt& model,
                           torch::optim::Adam& optimizer, const torch::Device& device) {
  const std::string payload = verified_payload(path);
  TrainState state;
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(payload.data(), payload.size(), device);
    const auto meta = nlohmann::json::parse(tensor_text([&] {
      torch::Tensor t;
      archive.read("meta", t);
      return t;
    }()));
    state.epoch = meta.at("epoch").get<int64_t>();
    state.step = meta.at("step").get<int64_t>();
    state.result.best_epoch = meta.at("best_epoch").get<int64_t>();
    state.result.stopped_early = meta.at("stopped_early").get<bool>();
    state.epochs_without_improvement = meta.at("epochs_without_improvement").get<int64_t>();
    state.seen = meta.at("seen").get<int64_t>();
    state.batches.rng = meta.at("batches").at("rng").get<std::string>();
    state.batches.in_pass = meta.at("batches").at("in_pass").get<bool>();
    state.batches.position = meta.at("batches").at("position").get<int64_t>();

    torch::Tensor history, doubles;
    archive.read("history", history);
    history = history.to(torch::kCPU);
    if (history.dim() != 2 ||
        (history.size(1) != kHistoryColumns && history.size(1) != kHistoryColumnsV1)) {
      throw RunError(fmt::format("{}: the epoch history has shape [{}], expected [epochs, {}]",
                                 path, fmt::join(history.sizes(), ", "), kHistoryColumns));
    }
    for (int64_t i = 0; i < history.size(0); ++i) {
      EpochStats s;
      s.epoch = static_cast<int64_t>(history[i][0].item<double>());
      s.train_loss = history[i][1].item<double>();
      s.validation_logloss = history[i][2].item<double>();
      s.validation_auc = history[i][3].item<double>();
      s.seconds = history[i][4].item<double>();
      s.samples_per_s = history[i][5].item<double>();
      const bool ranked = history.size(1) >= kHistoryColumns;
      s.validation_ndcg =
          ranked ? history[i][6].item<double>() : std::numeric_limits<double>::quiet_NaN();
      s.validation_recall =
          ranked ? history[i][7].item<double>() : std::numeric_limits<double>::quiet_NaN();
      state.result.history.push_back(s);
    }
    archive.read("doubles", doubles);
    doubles = doubles.to(torch::kCPU);
    state.best_score = doubles[0].item<double>();
    state.seconds = doubles[1].item<double>();
    archive.read("loss_sum", state.loss_sum);
    archive.read("cpu_generator", state.cpu_generator);
    state.cpu_generator = state.cpu_generator.to(torch::kCPU);
    torch::Tensor cuda_generator;
    if (archive.try_read("cuda_generator", cuda_generator))
      state.cuda_generator = cuda_generator.to(torch::kCPU);
    const auto best = meta.at("best_weights").get<std::size_t>();
    for (std::size_t i = 0; i < best; ++i) {
      torch::Tensor t;
      archive.read(fmt::format("best_{}", i), t);
      state.best_weights.push_back(t);
    }
    torch::serialize::InputArchive model_archive, optimizer_archive;
    archive.read("model", model_archive);
    archive.read("optimizer", optimizer_archive);
    load_weights(*model, model_archive, path);
    optimizer.load(optimizer_archive);
  } catch (const c10::Error& e) {
    throw RunError(
        fmt::format("{}: cannot restore training from it (was the run's config.yaml "
                    "edited?): {}",
                    path, e.what_without_backtrace()));
  } catch (const nlohmann::json::exception& e) {
    throw RunError(fmt::format("{}: its state record is unreadable: {}", path, e.what()));
  }
  return state;
}

void remove_checkpoints(const std::string& run_dir) {
  const fs::path dir = fs::path(run_dir) / checkpoint_files::kDir;
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    return;
  for (const auto& path : list_checkpoints(run_dir))
    fs::remove(path);
  for (const auto& item : fs::directory_iterator(dir)) {
    const std::string name = item.path().filename().string();
    int64_t epoch = 0, step = 0;
    const std::string base =
        item.path().extension() == ".tmp" ? item.path().stem().string() : std::string();
    if (item.is_regular_file() &&
        (name == checkpoint_files::kBest || base == checkpoint_files::kBest ||
         parse_name(base, epoch, step)))
      fs::remove(item.path());
  }
  fs::remove(dir, ec);  // only when empty: someone else's files stay
}

void prune_checkpoints(const std::string& run_dir, int keep) {
  const auto all = list_checkpoints(run_dir);
  int64_t newest_epoch = -1;
  std::vector<std::string> ends;
  for (const auto& path : all) {
    int64_t epoch = 0, step = 0;
    parse_name(fs::path(path).filename().string(), epoch, step);
    if (step == 0) {
      ends.push_back(path);
      newest_epoch = epoch;
    }
  }
  std::error_code ec;
  for (const auto& path : all) {
    int64_t epoch = 0, step = 0;
    parse_name(fs::path(path).filename().string(), epoch, step);
    const bool old_end =
        step == 0 && std::find(ends.end() - std::min<std::ptrdiff_t>(keep, ends.size()), ends.end(),
                               path) == ends.end();
    const bool old_partial = step > 0 && epoch <= newest_epoch;
    if (old_end || old_partial)
      fs::remove(path, ec);
  }
}

void load_weights(torch::nn::Module& module, torch::serialize::InputArchive& archive,
                  const std::string& source) {
  check_weights(module, archive, "", source);
  module.load(archive);
}

}  // namespace autoint::train
