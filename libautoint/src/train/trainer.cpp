// The training loop: epochs, validation, early stopping, checkpoints and resuming.
#include "autoint/train/trainer.h"

#include <algorithm>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <optional>
#include <regex>

#include <fmt/format.h>

#include "autoint/error.h"
#include "autoint/eval/evaluate.h"
#include "autoint/train/checkpoint.h"
#include "autoint/train/implicit.h"
#include "autoint/util/allocator.h"
#include "autoint/util/clock.h"
#include "autoint/util/files.h"
#include "autoint/util/interrupt.h"

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

// train.user_dropout: the id columns of the person's fields (the seed's users.dat fields:
// user_id, gender, age, occupation, zipcode), or a ConfigError without a user_id field.
std::vector<int64_t> person_columns(const data::Vocabulary& vocabulary) {
  static const std::vector<std::string> kPerson{"user_id", "gender", "age", "occupation",
                                                "zipcode"};
  std::vector<int64_t> out;
  bool user_id = false;
  for (std::size_t f = 0; f < vocabulary.fields().size(); ++f) {
    const auto& field = vocabulary.fields()[f];
    if (field.kind == FieldKind::categorical &&
        std::find(kPerson.begin(), kPerson.end(), field.name) != kPerson.end()) {
      out.push_back(vocabulary.id_column(f));
      user_id = user_id || field.name == "user_id";
    }
  }
  if (!user_id) {
    throw ConfigError(
        "train.user_dropout: the data has no categorical field user_id to replace by the "
        "unknown id");
  }
  return out;
}

// Rows [begin, end) of a batch.
data::Batch shard(const data::Batch& batch, int64_t begin, int64_t end) {
  data::Batch out;
  out.features = batch.features.narrow(0, begin, end - begin);
  if (batch.labels.defined())
    out.labels = batch.labels.narrow(0, begin, end - begin);
  if (batch.numeric.defined())
    out.numeric = batch.numeric.narrow(0, begin, end - begin);
  if (batch.history.defined())
    out.history = batch.history.narrow(0, begin, end - begin);
  return out;
}

// One fit: the state that lives across epochs, and the steps fit() runs them with (resume,
// an epoch's training pass, its validation, early stopping and its checkpoint, the end).
class Fitter {
 public:
  Fitter(nn::AutoInt& model, const data::PreparedData& data, const FitOptions& options,
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
    if (tc_.user_dropout > 0)
      person_columns_ = person_columns(data.vocabulary);
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
    util::write_file_atomically((dir / name).string(), bytes);
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
      // A group's rows share its positive's history (one history row per group).
      auto [logits, embeddings] = model_->forward_with_embeddings(
          person_columns_.empty() ? features : drop_persons(features), batch.numeric,
          batch.history);
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

  // train.user_dropout: `features` with the person's fields of a random share of its rows
  // (implicit: of its groups, a positive with its negatives alike) replaced by the unknown id 0.
  torch::Tensor drop_persons(const torch::Tensor& features) const {
    const int64_t units = features.size(0) / rows_per_unit_;
    torch::Tensor drop =
        torch::rand({units}, torch::TensorOptions().device(features.device())).lt(tc_.user_dropout);
    if (rows_per_unit_ > 1)
      drop = drop.repeat_interleave(rows_per_unit_, 0);
    torch::Tensor out = features.clone();
    for (int64_t column : person_columns_)
      out.select(1, column).masked_fill_(drop, 0);
    return out;
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
        util::write_file_atomically(
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
  const data::PreparedData& data_;
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
  std::vector<int64_t> person_columns_;  // train.user_dropout > 0: person_columns()
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

FitResult fit(nn::AutoInt& model, const data::PreparedData& data, const FitOptions& options,
              const torch::Device& device, util::Log& log, util::ProgressMode progress,
              const FitControl& control) {
  util::retain_freed_memory();
  Fitter fitter(model, data, options, device, log, progress, control);
  fitter.start();
  for (int64_t epoch = fitter.first_epoch(); !fitter.done(epoch); ++epoch)
    fitter.run_epoch(epoch);
  return fitter.finish();
}

}  // namespace autoint::train
