// The training loop and the train/evaluate jobs the apps run.
#include "autoint/train/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <optional>
#include <regex>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "autoint/device.h"
#include "autoint/error.h"
#include "autoint/train/checkpoint.h"
#include "autoint/train/implicit.h"
#include "autoint/train/run_dir.h"
#include "autoint/util/allocator.h"
#include "autoint/util/clock.h"
#include "autoint/util/interrupt.h"
#include "autoint/version.h"

namespace autoint::train {
namespace fs = std::filesystem;
namespace {

// The validation score train.monitor names, oriented so that lower is better.
double monitored_score(const EpochStats& stats, const std::string& monitor) {
  if (monitor == "auc")
    return -stats.validation_auc;
  if (monitor == "ndcg")
    return -stats.validation_ndcg;
  if (monitor == "recall")
    return -stats.validation_recall;
  return stats.validation_logloss;
}

// A history value as JSON: NaN (not measured) as null.
nlohmann::ordered_json number_or_null(double value) {
  return std::isnan(value) ? nlohmann::ordered_json() : nlohmann::ordered_json(value);
}

// A deep copy of every parameter and buffer, to restore the best epoch's weights.
std::vector<torch::Tensor> snapshot(nn::AutoInt& model) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> out;
  for (const auto& p : model->parameters())
    out.push_back(p.detach().clone());
  for (const auto& b : model->buffers())
    out.push_back(b.detach().clone());
  return out;
}

void restore(nn::AutoInt& model, const std::vector<torch::Tensor>& saved) {
  torch::NoGradGuard no_grad;
  std::size_t i = 0;
  for (auto& p : model->parameters())
    p.copy_(saved[i++]);
  for (auto& b : model->buffers())
    b.copy_(saved[i++]);
}

nlohmann::ordered_json metrics_json(const EvalResult& result) {
  nlohmann::ordered_json out;
  for (const auto& [key, value] : metric_entries(result)) {
    if (key == "users" || key == "test_rows") {
      out[key] = static_cast<int64_t>(value);
    } else {
      out[key] = value;  // NaN is written as null
    }
  }
  if (std::isnan(result.auc)) {
    out["auc_note"] =
        "auc is undefined (null): the split's labels are all of one class, so there is no "
        "positive-versus-negative ranking to measure";
  }
  return out;
}

// The full-ranking metrics as (key, value) pairs, keys as metrics.json spells them.
std::vector<std::pair<std::string, double>> full_ranking_entries(const FullRankingMetrics& m,
                                                                 int64_t k) {
  return {{fmt::format("hr@{}", k), m.hr},
          {fmt::format("ndcg@{}", k), m.ndcg},
          {fmt::format("recall@{}", k), m.recall},
          {fmt::format("precision@{}", k), m.precision}};
}

// metrics.json's metric part: the test metrics at the top level, then "baselines" (one
// object per scorer, same keys) and, with full ranking, "full_ranking".
nlohmann::ordered_json evaluation_object(const Evaluation& evaluation) {
  nlohmann::ordered_json out = metrics_json(evaluation.test);
  nlohmann::ordered_json baselines = nlohmann::ordered_json::object();
  for (const auto& b : evaluation.baselines)
    baselines[b.name] = metrics_json(b.result);
  out["baselines"] = baselines;
  if (const auto& full = evaluation.full_ranking) {
    nlohmann::ordered_json f;
    f["protocol"] =
        "every movie a test user did not rate in the training part is ranked; relevant: the "
        "user's test positives; standard hr, ndcg, recall, precision";
    f["k"] = full->k;
    f["users"] = full->users;
    f["candidates"] = full->candidates;
    f["time"] = full->time;
    if (full->time != "user_last")
      f["timestamp"] = full->timestamp;
    f["seconds"] = full->seconds;
    nlohmann::ordered_json model;
    for (const auto& [key, value] : full_ranking_entries(full->model, full->k))
      model[key] = value;
    f["model"] = model;
    nlohmann::ordered_json fb = nlohmann::ordered_json::object();
    for (const auto& [name, m] : full->baselines) {
      for (const auto& [key, value] : full_ranking_entries(m, full->k))
        fb[name][key] = value;
    }
    f["baselines"] = fb;
    out["full_ranking"] = f;
  }
  return out;
}

// One table: a row per metric, the model's column and then each baseline's.
std::string comparison_table(
    const std::vector<std::string>& names,
    const std::vector<std::vector<std::pair<std::string, double>>>& columns) {
  // Each column as wide as its name, at least 12.
  std::vector<std::size_t> widths;
  for (const auto& name : names)
    widths.push_back(std::max<std::size_t>(12, name.size()));
  std::string out = fmt::format("  {:<14}", "metric");
  for (std::size_t c = 0; c < names.size(); ++c)
    out += fmt::format(" {:>{}}", names[c], widths[c]);
  out += "\n";
  for (std::size_t row = 0; row < columns.front().size(); ++row) {
    const std::string& key = columns.front()[row].first;
    const bool count = key == "users" || key == "test_rows";
    out += fmt::format("  {:<14}", key);
    for (std::size_t c = 0; c < columns.size(); ++c) {
      const double value = columns[c][row].second;
      out += count ? fmt::format(" {:>{}}", static_cast<int64_t>(value), widths[c])
                   : fmt::format(" {:>{}.4f}", value, widths[c]);
    }
    out += "\n";
  }
  return out;
}

// Which baselines match or beat the model on which metrics (higher is better for all of
// `keys`), as one line.
std::string verdict(const std::vector<std::pair<std::string, double>>& model,
                    const std::vector<std::string>& names,
                    const std::vector<std::vector<std::pair<std::string, double>>>& baselines,
                    const std::vector<std::string>& keys) {
  if (baselines.empty())
    return {};  // e.g. a table without an item column: nothing to compare with
  std::vector<std::string> losses;
  std::vector<std::string> margins;
  for (const auto& [key, value] : model) {
    if (std::find(keys.begin(), keys.end(), key) == keys.end())
      continue;
    double best = -std::numeric_limits<double>::infinity();
    std::string best_name;
    for (std::size_t b = 0; b < baselines.size(); ++b) {
      for (const auto& [bkey, bvalue] : baselines[b]) {
        if (bkey == key && bvalue > best) {
          best = bvalue;
          best_name = names[b];
        }
      }
    }
    if (best_name.empty())
      continue;
    if (best >= value)
      losses.push_back(
          fmt::format("{} on {} ({:.4f} vs the model's {:.4f})", best_name, key, best, value));
    else
      margins.push_back(fmt::format("{} {:+.4f} (over {})", key, value - best, best_name));
  }
  if (!losses.empty())
    return fmt::format("  WARNING: a baseline matches or beats the model: {}\n",
                       fmt::join(losses, "; "));
  return fmt::format("  the model beats every baseline: {}\n", fmt::join(margins, ", "));
}

// AUTOINT_TEST_FAULT=KIND:EPOCH:STEP[@RANK], a test hook (docs/reliability.md): right after
// that optimizer step the process sends itself SIGKILL (KILL) or SIGINT (INT); NAN makes that
// step's loss NaN. With @RANK only that rank of a distributed run does. It lets tests crash
// training at an exact point instead of racing a timer.
struct Fault {
  std::string kind;
  int64_t epoch = 0;
  int64_t step = 0;
  int64_t rank = -1;  // every rank
  bool at(const char* k, int64_t e, int64_t s, int64_t r = 0) const {
    return kind == k && epoch == e && step == s && (rank < 0 || rank == r);
  }
  void raise_at(int64_t e, int64_t s, int64_t r) const {
    if (at("KILL", e, s, r))
      std::raise(SIGKILL);
    if (at("INT", e, s, r))
      std::raise(SIGINT);
  }
};

Fault test_fault() {
  const char* text = std::getenv("AUTOINT_TEST_FAULT");
  if (text == nullptr || *text == '\0')
    return {};
  static const std::regex pattern(R"((KILL|INT|NAN):(\d{1,9}):(\d{1,9})(?:@(\d{1,6}))?)");
  std::cmatch m;
  if (!std::regex_match(text, m, pattern)) {
    throw ConfigError(fmt::format(
        "AUTOINT_TEST_FAULT=\"{}\": expected KILL, INT or NAN, then :EPOCH:STEP and optionally "
        "@RANK (e.g. KILL:2:5 or KILL:2:5@1)",
        text));
  }
  return {m[1].str(), std::stoll(m[2].str()), std::stoll(m[3].str()),
          m[4].matched ? std::stoll(m[4].str()) : -1};
}

// A distributed step's dropout seed: a stream of its own for every rank, epoch and step, so
// that ranks do not draw the same masks and a resumed run draws what it would have.
uint64_t step_seed(int64_t seed, int64_t epoch, int64_t step, int64_t rank) {
  uint64_t x = static_cast<uint64_t>(seed);
  for (const int64_t part : {epoch, step, rank}) {
    x += 0x9e3779b97f4a7c15ULL + static_cast<uint64_t>(part);
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    x ^= x >> 31;
  }
  return x;
}

// Rows [begin, end) of a batch.
data::Batch shard(const data::Batch& batch, int64_t begin, int64_t end) {
  data::Batch out;
  out.features = batch.features.narrow(0, begin, end - begin);
  if (batch.labels.defined())
    out.labels = batch.labels.narrow(0, begin, end - begin);
  if (batch.numeric.defined())
    out.numeric = batch.numeric.narrow(0, begin, end - begin);
  return out;
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

// One fit: the state that lives across epochs, and the steps fit() runs them with (resume,
// an epoch's training pass, its validation, early stopping and its checkpoint, the end).
class Fitter {
 public:
  Fitter(nn::AutoInt& model, const PreparedData& data, const FitOptions& options,
         const torch::Device& device, util::Log& log, util::ProgressMode progress,
         const FitControl& control)
      : model_(model),
        data_(data),
        options_(options),
        tc_(options.train),
        device_(device),
        log_(log),
        progress_(progress),
        control_(control),
        group_(control.group),
        writer_(group_ == nullptr || group_->rank() == 0),
        rank_(group_ ? group_->rank() : 0),
        validation_(data.validation.to(device)),
        rank_validation_(
            validation_.rows() > 0 &&
            (tc_.objective == "implicit" || tc_.monitor == "ndcg" || tc_.monitor == "recall")),
        batch_units_(tc_.batch_size),
        optimizer_(model->parameters(), torch::optim::AdamOptions(tc_.learning_rate)),
        // Loss values are read back every few steps only: each read is a device sync on CUDA.
        sync_every_(device.is_cuda() ? 20 : 1),
        fault_(test_fault()) {
    const bool implicit = tc_.objective == "implicit";
    if ((implicit || rank_validation_) && control.movielens == nullptr) {
      throw std::invalid_argument(
          "fit: train.objective implicit and full-ranking validation need FitControl::movielens");
    }
    // What an epoch trains on: the rated rows, or (implicit) each positive with its
    // negatives, rebuilt every epoch. The iterator serves groups of rows then, batch_size
    // rows at a time.
    if (implicit) {
      groups_.emplace(data, *control.movielens, tc_, options.ranking.rated_interactions, device);
      for (const auto& note : groups_->notes())
        log.line(note);
      batch_units_ = std::max<int64_t>(1, tc_.batch_size / groups_->group_size());
      log.line(fmt::format(
          "implicit objective: {} positives ({}), {} {} negatives each per epoch, loss {}",
          groups_->positives(), options.ranking.rated_interactions ? "rated" : "liked",
          tc_.negatives.per_positive, tc_.negatives.sampler, tc_.loss));
    } else {
      epoch_data_ = data.train.to(device);
    }
    rows_per_unit_ = groups_ ? groups_->group_size() : 1;
    // The iterator reads epoch_data_ at every pass, so it sees each epoch's rebuilt groups.
    batches_.emplace(epoch_data_, batch_units_, /*shuffle=*/true, static_cast<uint64_t>(tc_.seed));
    if (group_) {
      gradient_sync_.emplace(model->parameters(), options.bucket_mb << 20);
      log.line(fmt::format(
          "distributed: {} ranks ({}), global batch {} ({} per rank), gradients in {} bucket{} "
          "of at most {} MiB, {} bytes allreduced per step",
          group_->size(), group_->backend(), batch_units_ * rows_per_unit_,
          batch_units_ * rows_per_unit_ / group_->size(), gradient_sync_->buckets(),
          gradient_sync_->buckets() > 1 ? "s" : "", options.bucket_mb,
          gradient_sync_->bytes_per_step(2)));
    }
    state_.best_score = std::numeric_limits<double>::infinity();
  }

  // Continues from the run directory's latest checkpoint, if FitControl::resume asks for it,
  // and gives every rank rank 0's weights.
  void start() {
    if (control_.resume)
      resume();
    // Every rank starts from rank 0's weights (built from the same seed, or just loaded).
    if (group_)
      broadcast_parameters(*group_, model_, control_.resume ? "the resume" : "the start");
  }

  bool done(int64_t epoch) const { return epoch > tc_.epochs || state_.result.stopped_early; }
  int64_t first_epoch() const { return state_.epoch + 1; }

  // One epoch: its training pass, validation, early stopping and checkpoint.
  void run_epoch(int64_t epoch) {
    EpochStats stats = train_epoch(epoch);
    validate(epoch, stats);
    end_epoch(epoch, stats);
  }

  // The result, with the best epoch's weights restored (early stopping).
  FitResult finish() {
    FitResult result = state_.result;
    if (state_.best_weights.empty())
      return result;
    int64_t best = 0;
    for (const auto& s : result.history) {
      if (monitored_score(s, tc_.monitor) == state_.best_score)
        best = s.epoch;
    }
    if (best != result.best_epoch) {
      restore(model_, state_.best_weights);
      log_.line(fmt::format("restored the weights of epoch {} (validation {} {:.4f})", best,
                            tc_.monitor, std::abs(state_.best_score)));
    }
    result.best_epoch = best;
    return result;
  }

 private:
  void build_epoch(int64_t epoch) {
    if (groups_ && epoch_data_of_ != epoch) {
      epoch_data_ = groups_->epoch(epoch);
      epoch_data_of_ = epoch;
    }
  }

  void resume() {
    last_checkpoint_ = latest_checkpoint(control_.run_dir);
    if (last_checkpoint_.empty()) {
      log_.line("resume: no checkpoint was written yet, training from the start");
      return;
    }
    try {
      state_ = load_checkpoint(last_checkpoint_, model_, optimizer_, device_);
    } catch (const RunError& e) {
      const auto all = list_checkpoints(control_.run_dir);
      if (all.size() < 2)
        throw;
      throw RunError(fmt::format("{}; to resume from the previous checkpoint, {}, delete it",
                                 e.what(), all[all.size() - 2]));
    }
    build_epoch(state_.epoch + 1);
    try {
      batches_->restore(state_.batches);
    } catch (const std::invalid_argument& e) {
      throw RunError(fmt::format("{}: {}", last_checkpoint_, e.what()));
    }
    set_generator_state(torch::kCPU, state_.cpu_generator);
    if (device_.is_cuda() && state_.cuda_generator.defined())
      set_generator_state(device_, state_.cuda_generator);
    log_.line(fmt::format("resume: from {} ({} epochs and {} steps done)", last_checkpoint_,
                          state_.epoch, state_.step));
  }

  std::string last_checkpoint_hint(const char* what) const {
    return last_checkpoint_.empty() ? std::string() : what + last_checkpoint_;
  }

  // Writes checkpoints/<name> (rank 0) and returns its bytes, for best.ckpt.
  std::string write_checkpoint(const std::string& name) {
    state_.batches = batches_->state();
    state_.cpu_generator = generator_state(torch::kCPU);
    if (device_.is_cuda())
      state_.cuda_generator = generator_state(device_);
    const fs::path dir = fs::path(control_.run_dir) / checkpoint_files::kDir;
    if (!writer_) {  // rank 0 writes it
      last_checkpoint_ = (dir / name).string();
      return std::string();
    }
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) {
      throw RunError(fmt::format("{}: cannot create the checkpoint directory: {}", dir.string(),
                                 ec.message()));
    }
    std::string bytes = encode_checkpoint(state_, model_, optimizer_);
    write_file_atomically((dir / name).string(), bytes);
    last_checkpoint_ = (dir / name).string();
    return bytes;
  }

  // One optimizer step on `batch` (this rank's shard of it in a distributed run); returns the
  // step's loss times its rows, summed over every rank, and (distributed) sets `stop` when
  // any rank was interrupted (read at the steps where the loss is read back).
  torch::Tensor step(data::Batch batch, int64_t epoch, int64_t step, int64_t global_len,
                     bool sync_now, bool& stop) {
    optimizer_.zero_grad();
    if (group_) {
      // This rank's shard of the global batch; its dropout masks from a stream of its own.
      const auto [begin, end] = shard_bounds(batch.features.size(0), rank_, group_->size());
      batch = shard(batch, begin, end);
      torch::manual_seed(step_seed(tc_.seed, epoch, step, rank_));
    }
    torch::Tensor step_loss_sum;  // the loss times the rows (with a group: over every rank)
    if (batch.features.size(0) > 0) {
      const torch::Tensor features =
          groups_ ? batch.features.reshape({-1, data_.train.features.size(1)}) : batch.features;
      auto [logits, embeddings] = model_->forward_with_embeddings(features, batch.numeric);
      auto loss = groups_ ? groups_->loss(logits)
                          : torch::binary_cross_entropy_with_logits(logits, batch.labels);
      const int64_t len = features.size(0);
      if (tc_.l2_embedding > 0)
        loss = loss + tc_.l2_embedding * embeddings.pow(2).sum() / len;
      if (fault_.at("NAN", epoch, step, rank_))
        loss = loss * std::numeric_limits<double>::quiet_NaN();
      if (group_)  // the ranks' gradients then sum to the global batch's mean
        (loss * (static_cast<double>(len) / static_cast<double>(global_len))).backward();
      else
        loss.backward();
      step_loss_sum = loss.detach() * static_cast<double>(len);
    } else {  // a last global batch smaller than the world leaves some ranks nothing
      step_loss_sum = torch::zeros({}, torch::TensorOptions().device(device_));
    }
    stop = false;
    if (group_) {
      const torch::Tensor stop_flag = torch::full({}, util::interrupt_requested() ? 1.0 : 0.0,
                                                  torch::TensorOptions().device(device_));
      const torch::Tensor sums =
          gradient_sync_->allreduce(*group_, {step_loss_sum, stop_flag},
                                    fmt::format("epoch {}, step {}{}", epoch, step,
                                                last_checkpoint_hint("; the last checkpoint is ")));
      step_loss_sum = sums[0];
      stop = sync_now && sums[1].item<double>() > 0;  // every rank reads it at the same steps
    }
    optimizer_.step();
    return step_loss_sum;
  }

  // The training pass of `epoch` (from the step reached, when resumed mid-epoch).
  EpochStats train_epoch(int64_t epoch) {
    model_->train();
    double last_loss_sum = 0;
    build_epoch(epoch);
    const int64_t epoch_rows = epoch_data_.rows() * rows_per_unit_;
    if (state_.step == 0) {
      batches_->start_epoch();
      state_.loss_sum = torch::zeros({}, torch::TensorOptions().device(device_));
      state_.seen = 0;
      state_.seconds = 0;
    } else {  // resumed mid-epoch: the iterator already stands at the step reached
      state_.loss_sum = state_.loss_sum.to(device_);
      last_loss_sum = state_.loss_sum.item<double>();
    }
    // The bar draws on the log's console (none without one).
    static std::ostream nowhere(nullptr);
    util::Progress bar(log_.console() ? *log_.console() : nowhere,
                       log_.console() ? progress_ : util::ProgressMode::none,
                       fmt::format("epoch {}/{}", epoch, tc_.epochs), epoch_rows);
    allreduce_before_ = gradient_sync_ ? gradient_sync_->seconds() : 0.0;
    const auto start = util::Clock::now();
    data::Batch batch;
    const int64_t max_steps = options_.max_steps;
    while ((max_steps == 0 || state_.step < max_steps) && batches_->next(batch)) {
      const int64_t step_number = ++state_.step;
      const int64_t global_len = batch.features.size(0) * rows_per_unit_;
      const bool sync_now = step_number % sync_every_ == 0 ||
                            state_.seen + global_len == epoch_rows || step_number == max_steps;
      bool stop = false;
      state_.loss_sum += step(batch, epoch, step_number, global_len, sync_now, stop);
      state_.seen += global_len;
      if (sync_now) {
        last_loss_sum = state_.loss_sum.item<double>();
        if (!std::isfinite(last_loss_sum)) {
          throw Error(fmt::format(
              "training diverged: the loss became {} at epoch {}, step {} (learning_rate {}); "
              "lower train.learning_rate{}",
              last_loss_sum, epoch, step_number, tc_.learning_rate,
              last_checkpoint_hint("; the last good checkpoint is ")));
        }
        bar.update(state_.seen, last_loss_sum / static_cast<double>(state_.seen));
      }
      fault_.raise_at(epoch, step_number, rank_);
      if (group_ ? stop : util::interrupt_requested()) {
        state_.seconds += util::seconds_since(start);
        std::string where = "no checkpoint written (no run directory)";
        if (!control_.run_dir.empty()) {
          write_checkpoint(checkpoint_name(state_.epoch, step_number));
          where = "checkpoint written: " + last_checkpoint_;
        }
        throw Interrupted(
            fmt::format("interrupted at epoch {}, step {}; {}", epoch, step_number, where));
      }
    }
    EpochStats stats;
    stats.epoch = epoch;
    stats.seconds = state_.seconds + util::seconds_since(start);
    stats.train_loss = last_loss_sum / static_cast<double>(std::max<int64_t>(state_.seen, 1));
    stats.samples_per_s = static_cast<double>(state_.seen) / std::max(stats.seconds, 1e-9);
    bar.finish(state_.seen, stats.train_loss);
    return stats;
  }

  // The validation split's point-wise figures and (when asked for) its full ranking.
  void validate(int64_t epoch, EpochStats& stats) {
    stats.validation_logloss = std::numeric_limits<double>::quiet_NaN();
    stats.validation_auc = std::numeric_limits<double>::quiet_NaN();
    stats.validation_ndcg = std::numeric_limits<double>::quiet_NaN();
    stats.validation_recall = std::numeric_limits<double>::quiet_NaN();
    if (validation_.rows() > 0) {
      const auto probabilities =
          group_ ? predict_sharded(*group_, model_, validation_, options_.validation_batch_size,
                                   fmt::format("epoch {} validation", epoch))
                 : predict(model_, validation_, options_.validation_batch_size);
      const auto v = evaluate_scores(data_.validation, probabilities, options_.ranking.k);
      stats.validation_logloss = v.logloss;
      stats.validation_auc = v.auc;
    }
    std::string ranking;
    if (rank_validation_) {
      FullRankingOptions options = options_.ranking;
      options.max_users = tc_.ranking_validation_users;
      // The first epoch also ranks with the baselines, as a yardstick for the log.
      options.baselines = state_.result.history.empty();
      options.split = "validation";
      // A distributed run ranks on rank 0 and shares the figures, so every rank decides alike.
      if (writer_) {
        const FullRankingResult r =
            evaluate_full_ranking(model_, *control_.movielens, data_, options);
        stats.validation_ndcg = r.model.ndcg;
        stats.validation_recall = r.model.recall;
        if (!r.baselines.empty()) {
          std::vector<std::string> parts;
          for (const auto& [name, m] : r.baselines)
            parts.push_back(fmt::format("{} {:.4f} / {:.4f}", name, m.ndcg, m.recall));
          log_.line(
              fmt::format("validation full ranking, baselines fitted on the training split "
                          "(ndcg@{} / recall@{}): {}",
                          r.k, r.k, fmt::join(parts, ", ")));
        }
        ranking = fmt::format(", validation ndcg@{} {:.4f}, recall@{} {:.4f} ({} users, {:.1f} s)",
                              r.k, r.model.ndcg, r.k, r.model.recall, r.users, r.seconds);
      }
      if (group_) {
        torch::Tensor shared = torch::tensor({stats.validation_ndcg, stats.validation_recall},
                                             torch::TensorOptions().dtype(torch::kFloat64));
        group_->broadcast(shared, fmt::format("epoch {} full-ranking validation", epoch));
        stats.validation_ndcg = shared[0].item<double>();
        stats.validation_recall = shared[1].item<double>();
      }
    }
    const std::string allreduce = gradient_sync_
                                      ? fmt::format(" ({:.1f} s of it in allreduce)",
                                                    gradient_sync_->seconds() - allreduce_before_)
                                      : std::string();
    log_.line(fmt::format(
        "epoch {}/{}: train loss {:.4f}, validation logloss {:.4f}, validation AUC {:.4f}{}, "
        "{:.1f} s{}, {:.0f} samples/s",
        epoch, tc_.epochs, stats.train_loss, stats.validation_logloss, stats.validation_auc,
        ranking, stats.seconds, allreduce, stats.samples_per_s));
  }

  // Early stopping's bookkeeping, the epoch's checkpoint (and best.ckpt), and a Ctrl-C
  // received during validation.
  void end_epoch(int64_t epoch, const EpochStats& stats) {
    state_.result.history.push_back(stats);
    state_.result.best_epoch = epoch;
    const bool improved =
        validation_.rows() > 0 && monitored_score(stats, tc_.monitor) < state_.best_score;
    if (improved)
      state_.best_score = monitored_score(stats, tc_.monitor);
    if (tc_.patience > 0 && validation_.rows() > 0) {
      if (improved) {
        state_.best_weights = snapshot(model_);
        state_.epochs_without_improvement = 0;
      } else if (++state_.epochs_without_improvement >= tc_.patience) {
        state_.result.stopped_early = true;
      }
    }
    state_.epoch = epoch;
    state_.step = 0;
    if (!control_.run_dir.empty()) {
      const std::string bytes = write_checkpoint(checkpoint_name(epoch, 0));
      if (improved && writer_) {
        write_file_atomically(
            (fs::path(control_.run_dir) / checkpoint_files::kDir / checkpoint_files::kBest)
                .string(),
            bytes);
      }
      if (writer_)
        prune_checkpoints(control_.run_dir, kKeptEpochCheckpoints);
    }
    // A Ctrl-C during validation is acted on here rather than a step into the next epoch
    // (by every rank when any rank got it).
    bool interrupted = util::interrupt_requested();
    if (group_) {
      torch::Tensor flag = torch::full({1}, interrupted ? 1.0F : 0.0F);
      group_->allreduce_sum(flag, fmt::format("the end of epoch {}", epoch));
      interrupted = flag.item<float>() > 0;
    }
    if (interrupted && epoch < tc_.epochs && !state_.result.stopped_early) {
      throw Interrupted(fmt::format("interrupted after epoch {}; {}", epoch,
                                    control_.run_dir.empty()
                                        ? "no checkpoint written (no run directory)"
                                        : "checkpoint written: " + last_checkpoint_));
    }
  }

  nn::AutoInt& model_;
  const PreparedData& data_;
  const FitOptions& options_;
  const config::TrainConfig& tc_;
  const torch::Device device_;
  util::Log& log_;
  const util::ProgressMode progress_;
  const FitControl& control_;
  ProcessGroup* const group_;
  const bool writer_;  // of checkpoints
  const int64_t rank_;
  const data::TensorDataset validation_;
  const bool rank_validation_;
  std::optional<ImplicitEpochs> groups_;
  data::TensorDataset epoch_data_;
  int64_t epoch_data_of_ = 0;  // the epoch epoch_data_ was built for
  int64_t batch_units_;
  int64_t rows_per_unit_ = 1;
  std::optional<data::BatchIterator> batches_;
  torch::optim::Adam optimizer_;
  const int64_t sync_every_;
  const Fault fault_;
  std::optional<GradientSync> gradient_sync_;
  TrainState state_;
  std::string last_checkpoint_;
  double allreduce_before_ = 0;
};

}  // namespace

FullRankingOptions full_ranking_options(const config::Config& config) {
  FullRankingOptions out;
  out.k = config.eval.top_k;
  // The user sample (and the random baseline) follow the split, not train.seed: every
  // repeat of a config is measured on the same users.
  out.seed = static_cast<uint64_t>(config.data.split_seed);
  out.time = config.eval.full_ranking_time;
  out.rated_interactions = config.data.positives == "rated";
  out.knn_neighbours = config.eval.knn_neighbours;
  out.ease_lambda = config.eval.ease_lambda;
  return out;
}

void seed_everything(const config::TrainConfig& config) {
  if (config.threads > 0)
    at::set_num_threads(static_cast<int>(config.threads));
  torch::manual_seed(static_cast<uint64_t>(config.seed));
}

FitOptions fit_options(const config::Config& config) {
  FitOptions out;
  out.train = config.train;
  out.validation_batch_size = config.eval.batch_size;
  out.ranking = full_ranking_options(config);
  out.bucket_mb = config.distributed.bucket_mb;
  return out;
}

FitResult fit(nn::AutoInt& model, const PreparedData& data, const FitOptions& options,
              const torch::Device& device, util::Log& log, util::ProgressMode progress,
              const FitControl& control) {
  util::retain_freed_memory();
  Fitter fitter(model, data, options, device, log, progress, control);
  fitter.start();
  for (int64_t epoch = fitter.first_epoch(); !fitter.done(epoch); ++epoch)
    fitter.run_epoch(epoch);
  return fitter.finish();
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
  const PreparedData data = prepare_source(source, config.data);
  summary.featurize_seconds = data.featurize_seconds;
  const data::MovieLens& movielens = source.movielens;
  const nn::AutoIntOptions model_config = model_options(config.model, data.vocabulary);

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
    write_file_atomically((fs::path(dir) / run_files::kConfig).string(), config::to_yaml(config));
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
  nlohmann::ordered_json history = nlohmann::ordered_json::array();
  for (const auto& s : summary.fit.history) {
    history.push_back({{"epoch", s.epoch},
                       {"train_loss", s.train_loss},
                       {"validation_logloss", number_or_null(s.validation_logloss)},
                       {"validation_auc", number_or_null(s.validation_auc)},
                       {"validation_ndcg", number_or_null(s.validation_ndcg)},
                       {"validation_recall", number_or_null(s.validation_recall)},
                       {"seconds", s.seconds},
                       {"samples_per_s", s.samples_per_s}});
  }
  info["history"] = history;
  metrics["run"] = info;
  write_file_atomically((std::filesystem::path(dir) / run_files::kMetrics).string(),
                        metrics.dump(2) + "\n");
  log.line(format_evaluation(summary.evaluation));
  log.line(fmt::format("run directory: {}", dir));
  // Last: the manifest lists every file, train.log with its final line included.
  write_manifest(dir, fingerprint);
  return summary;
}

Evaluation evaluate_model(nn::AutoInt& model, const data::MovieLens& movielens,
                          const PreparedData& data, const config::Config& config,
                          const torch::Device& device, ProcessGroup* group) {
  const auto& ec = config.eval;
  const auto seed = static_cast<uint64_t>(config.train.seed);
  Evaluation out;
  out.protocol = ec.protocol;
  if (group != nullptr) {
    const torch::Tensor probabilities =
        predict_sharded(*group, model, data.test.to(device), ec.batch_size, "the test scoring");
    out.test = evaluate_scores(data.test, probabilities, ec.top_k);
    if (group->rank() != 0)
      return out;
  } else {
    out.test = evaluate(model, data.test.to(device), ec.batch_size, ec.top_k);
  }
  if (config.data.source != "table") {
    out.baselines = evaluate_baselines(data, ec.top_k, seed);
  } else if (data.test.item_ids.defined()) {
    // A table's item column: the per-item scorers on its labels (movie_mean needs 1-5 ratings).
    for (auto& b : evaluate_baselines(data, ec.top_k, seed)) {
      if (b.name != "movie_mean")
        out.baselines.push_back(std::move(b));
    }
  }
  if (ec.protocol != "seed") {
    FullRankingOptions options = full_ranking_options(config);
    options.max_users = ec.full_ranking_users;
    out.full_ranking = evaluate_full_ranking(model, movielens, data, options);
  }
  return out;
}

std::string evaluation_json(const Evaluation& evaluation) {
  return evaluation_object(evaluation).dump(2) + "\n";
}

std::string format_evaluation(const Evaluation& e) {
  const std::string& protocol = e.protocol;
  std::vector<std::string> names{"model"};
  for (const auto& b : e.baselines)
    names.push_back(b.name);
  const std::vector<std::string> baseline_names(names.begin() + 1, names.end());
  const std::string k = std::to_string(e.test.k);
  std::string out;
  for (const auto& warning : e.warnings)
    out += warning + "\n";
  {
    std::vector<std::vector<std::pair<std::string, double>>> columns{metric_entries(e.test)};
    for (const auto& b : e.baselines)
      columns.push_back(metric_entries(b.result));
    const bool seed_ranking = protocol != "full_ranking" && e.test.per_user;
    if (!seed_ranking) {
      // Only the protocol-independent point-wise metrics and the counts.
      for (auto& column : columns) {
        column.erase(std::remove_if(column.begin(), column.end(),
                                    [](const auto& entry) {
                                      return entry.first.find('@') != std::string::npos;
                                    }),
                     column.end());
      }
    }
    out += seed_ranking      ? "test metrics (seed protocol: each user's test rows re-ranked; "
                               "seed_* use the seed's formulas, the others the standard ones):\n"
           : e.test.per_user ? "test metrics (point-wise):\n"
                             : "test metrics (point-wise; no user column, so no per-user "
                               "ranking):\n";
    out += comparison_table(names, columns);
    const std::vector<std::vector<std::pair<std::string, double>>> baseline_columns(
        columns.begin() + 1, columns.end());
    std::vector<std::string> keys{"auc"};
    if (seed_ranking) {
      for (const char* key : {"seed_ndcg@", "seed_hr@", "ndcg@", "hr@"})
        keys.push_back(key + k);
    }
    out += verdict(columns.front(), baseline_names, baseline_columns, keys);
  }
  if (const auto& f = e.full_ranking) {
    std::vector<std::vector<std::pair<std::string, double>>> columns{
        full_ranking_entries(f->model, f->k)};
    std::vector<std::string> full_names{"model"};
    for (const auto& [name, m] : f->baselines) {
      columns.push_back(full_ranking_entries(m, f->k));
      full_names.push_back(name);
    }
    const std::vector<std::string> full_baseline_names(full_names.begin() + 1, full_names.end());
    out += fmt::format(
        "full ranking (every movie a test user did not rate in the training part, time fields "
        "at {}; {} users, {} candidates, {:.1f} s):\n",
        f->time == "user_last" ? "each user's latest rating" : "the data's latest rating", f->users,
        f->candidates, f->seconds);
    out += comparison_table(full_names, columns);
    const std::vector<std::vector<std::pair<std::string, double>>> baseline_columns(
        columns.begin() + 1, columns.end());
    std::vector<std::string> keys;
    for (const auto& entry : columns.front())
      keys.push_back(entry.first);
    out += verdict(columns.front(), full_baseline_names, baseline_columns, keys);
  }
  if (!out.empty())
    out.pop_back();
  return out;
}

RunSummary resume_experiment(const std::string& run_dir, std::ostream& console,
                             const WorldSpec& world) {
  if (!fs::is_directory(run_dir))
    throw RunError(fmt::format("{}: run directory does not exist", run_dir));
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
  config::DataConfig data_config = run.config.data;
  if (!data_dir_override.empty()) {
    if (data_config.source != "movielens") {
      throw ConfigError(fmt::format(
          "--data {}: the run {} was trained on data.source {}, which reads no directory",
          data_dir_override, run_dir, data_config.source));
    }
    data_config.dir = data_dir_override;
  }
  SourceData source = load_source(data_config);
  const std::string warning =
      check_data(run_dir, run.data, source_fingerprint(source), allow_other_data);
  const PreparedData data = prepare_source(source, data_config, run.vocabulary);
  config::Config config = run.config;
  if (!protocol_override.empty())
    config.eval.protocol = protocol_override;
  Evaluation evaluation = evaluate_model(run.model, source.movielens, data, config, device);
  if (!warning.empty())
    evaluation.warnings.push_back(warning);
  return evaluation;
}

}  // namespace autoint::train
