// The measurements of autoint-bench.
#include "autoint/bench/benchmark.h"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <random>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "autoint/device.h"
#include "autoint/error.h"
#include "autoint/eval/full_ranking.h"
#include "autoint/experiment/pipeline.h"
#include "autoint/movielens/synthetic.h"
#include "autoint/nn/autoint.h"
#include "autoint/recommend/recommender.h"
#include "autoint/train/trainer.h"
#include "autoint/util/allocator.h"
#include "autoint/util/clock.h"

namespace autoint::bench {
namespace {

using util::Clock;
using util::seconds_since;

// ML-1M's distinct values per field, plus the out-of-vocabulary id.
const std::vector<int64_t> kMl1mCardinalities{6041, 3,  8,  22, 3440, 3707, 19,
                                              20,   20, 82, 10, 5,    13};

double peak_rss_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

// Random ids [n, fields] and labels, as the peer's synth().
std::pair<torch::Tensor, torch::Tensor> random_batches(int64_t n) {
  std::vector<torch::Tensor> columns;
  for (int64_t card : kMl1mCardinalities) {
    columns.push_back(torch::randint(0, card, {n, 1}, torch::kInt64));
  }
  auto x = torch::cat(columns, 1);
  auto y = (x.select(1, 0).remainder(7) + x.select(1, 5).remainder(5) > 5).to(torch::kFloat32);
  return {x, y};
}

// The throughput model: the config's on ML-1M's field sizes, its dot fields and history (over
// movie_id) resolved by the seed's field names.
nn::AutoIntOptions throughput_model(const config::Config& config) {
  config::ModelConfig model = config.model;
  model.dot_fields.clear();
  nn::AutoIntOptions options = train::model_options(model, kMl1mCardinalities);
  const auto& names = data::field_names();
  std::vector<int64_t> dot;
  for (const std::string& name : config.model.dot_fields) {
    const auto it = std::find(names.begin(), names.end(), name);
    if (name == "history") {
      dot.push_back(data::kNumFields);
    } else if (it == names.end()) {
      throw ConfigError(fmt::format("model.dot_fields: no seed field \"{}\"", name));
    } else {
      dot.push_back(it - names.begin());
    }
  }
  options.dot_fields(dot).dot_dim(config.model.dot_dim);
  if (const auto& h = config.data.history; !h.field.empty()) {
    const auto it = std::find(names.begin(), names.end(), h.field);
    if (it == names.end())
      throw ConfigError(fmt::format("data.history.field: no seed field \"{}\"", h.field));
    nn::HistoryPooling pooling = nn::HistoryPooling::mean;
    if (!nn::parse_history_pooling(config.model.history_pooling, pooling)) {
      throw ConfigError(
          fmt::format("model.history_pooling: unknown \"{}\"", config.model.history_pooling));
    }
    options.history(
        nn::HistoryOptions().item_field(it - names.begin()).max_len(h.max_len).pooling(pooling));
  }
  return options;
}

// Random histories [n, max_len] of movie ids, each a random length (padding after it).
torch::Tensor random_histories(int64_t n, int64_t max_len) {
  const torch::Tensor ids = torch::randint(1, kMl1mCardinalities[5], {n, max_len}, torch::kInt64);
  const torch::Tensor lengths = torch::randint(1, max_len + 1, {n, 1}, torch::kInt64);
  return ids.masked_fill(torch::arange(max_len, torch::kInt64).unsqueeze(0).ge(lengths), 0);
}

// One request's median latency in ms: 5 untimed, then kTimedRequests timed.
constexpr int kTimedRequests = 25;
template <class Request>
double median_request_ms(const torch::Device& device, const Request& request) {
  std::vector<double> times;
  for (int i = 0; i < 5 + kTimedRequests; ++i) {
    const auto start = Clock::now();
    request();
    if (device.is_cuda())
      torch::cuda::synchronize();
    if (i >= 5)
      times.push_back(seconds_since(start) * 1000.0);
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

void measure_throughput(const BenchOptions& o, const torch::Device& device, BenchResult& r,
                        std::ostream& log) {
  torch::manual_seed(0);
  const int64_t total_steps = o.warmup + o.steps;
  auto [x, y] = random_batches(o.batch_size * total_steps);
  x = x.to(device);
  y = y.to(device);
  nn::AutoInt model(throughput_model(o.config));
  model->to(device);
  // A history-aware config: one history per row (the dearest case; implicit training shares
  // one among a positive's group).
  torch::Tensor h;
  if (model->has_history())
    h = random_histories(x.size(0), model->options.history().max_len()).to(device);
  const auto history = [&](int64_t i) {
    return h.defined() ? h.narrow(0, i * o.batch_size, o.batch_size) : h;
  };
  torch::optim::Adam optimizer(model->parameters(),
                               torch::optim::AdamOptions(o.config.train.learning_rate));
  const auto sync = [&] {
    if (device.is_cuda())
      torch::cuda::synchronize();
  };
  model->train();
  Clock::time_point start;
  for (int64_t i = 0; i < total_steps; ++i) {
    if (i == o.warmup) {
      sync();
      start = Clock::now();
    }
    auto xb = x.narrow(0, i * o.batch_size, o.batch_size);
    auto yb = y.narrow(0, i * o.batch_size, o.batch_size);
    optimizer.zero_grad();
    torch::binary_cross_entropy_with_logits(model->forward(xb, {}, history(i)), yb).backward();
    optimizer.step();
  }
  sync();
  r.train_samples_per_s =
      static_cast<double>(o.steps * o.batch_size) / std::max(seconds_since(start), 1e-9);
  log << fmt::format("train: {:.0f} samples/s\n", r.train_samples_per_s) << std::flush;

  model->eval();
  torch::NoGradGuard no_grad;
  for (int64_t i = 0; i < o.warmup; ++i)
    model->forward(x.narrow(0, i * o.batch_size, o.batch_size), {}, history(i));
  sync();
  start = Clock::now();
  for (int64_t i = 0; i < total_steps; ++i) {
    model->forward(x.narrow(0, i * o.batch_size, o.batch_size), {}, history(i));
  }
  sync();
  r.eval_samples_per_s =
      static_cast<double>(total_steps * o.batch_size) / std::max(seconds_since(start), 1e-9);
  log << fmt::format("eval: {:.0f} samples/s\n", r.eval_samples_per_s) << std::flush;
}

}  // namespace

BenchResult run_benchmark(const BenchOptions& o, std::ostream& log) {
  BenchResult r;
  util::retain_freed_memory();
  const torch::Device device = DeviceSpec::parse(o.device).resolve();
  if (o.threads > 0)
    at::set_num_threads(static_cast<int>(o.threads));
  r.threads = at::get_num_threads();
  r.batch_size = o.batch_size;
  r.device = device.str();
  r.kernel = o.config.model.attention_kernel;
  r.data = o.data_dir.empty() ? "synthetic (ML-1M shape)" : "ml-1m: " + o.data_dir;

  measure_throughput(o, device, r, log);

  if (!o.throughput_only) {
    config::DataConfig data_config = o.config.data;
    data_config.source = "movielens";
    std::filesystem::path scratch;
    if (o.data_dir.empty()) {
      // Files of ML-1M's size, so that load_seconds measures parsing real text.
      scratch = std::filesystem::temp_directory_path() /
                fmt::format("autoint-bench-{}", std::random_device{}());
      data::SyntheticOptions synth;
      synth.users = 6040;
      synth.movies = 3706;
      synth.ratings = 1000209;
      data::write_movielens(data::generate_synthetic(synth), scratch.string());
      data_config.dir = scratch.string();
    } else {
      data_config.dir = o.data_dir;
    }
    auto start = Clock::now();
    const data::MovieLens movielens = train::load_movielens(data_config);
    const data::PreparedData prepared = train::prepare_data(movielens, data_config);
    r.load_seconds = seconds_since(start);
    if (!scratch.empty())
      std::filesystem::remove_all(scratch);
    log << fmt::format("load + featurise: {:.3f} s ({} ratings)\n", r.load_seconds,
                       movielens.ratings.size())
        << std::flush;

    config::Config epoch_config = o.config;
    epoch_config.train.epochs = 1;
    epoch_config.train.threads = o.threads;
    train::seed_everything(epoch_config.train);
    nn::AutoInt model(
        train::model_options(epoch_config.model, prepared.vocabulary, epoch_config.data.history));
    model->to(device);
    util::Log quiet(nullptr, "");
    const auto fit = train::fit(model, prepared, train::fit_options(epoch_config), device, quiet,
                                util::ProgressMode::none, train::FitControl{"", false, &movielens});
    r.epoch_seconds = fit.history.front().seconds;
    log << fmt::format("one epoch: {:.2f} s ({} rows)\n", r.epoch_seconds, prepared.train.rows())
        << std::flush;

    if (o.full_ranking_users >= 0) {
      train::FullRankingOptions ranking;
      ranking.max_users = o.full_ranking_users;
      ranking.baselines = false;
      if (o.full_ranking_batch_rows > 0)
        ranking.batch_rows = o.full_ranking_batch_rows;
      const auto full = train::evaluate_full_ranking(model, movielens, prepared, ranking);
      r.full_ranking_seconds = full.seconds;
      r.full_ranking_users = full.users;
      r.full_ranking_pairs = full.candidates;
      log << fmt::format("full ranking: {} users, {} candidates in {:.2f} s ({:.0f} pairs/s)\n",
                         full.users, full.candidates, full.seconds,
                         static_cast<double>(full.candidates) / std::max(full.seconds, 1e-9))
          << std::flush;
    }

    // Top-10 for the first user over every movie they have not rated, model loaded.
    const int64_t user = movielens.users.front().id;
    const recommend::Recommender recommender(
        model, prepared.vocabulary, movielens, device,
        train::serving_histories(movielens, prepared.vocabulary, data_config));
    r.recommend_ms = median_request_ms(device, [&] { recommender.recommend(user, 10); });
    log << fmt::format("top-10 for user {}: {:.2f} ms (median of {})\n", user, r.recommend_ms,
                       kTimedRequests)
        << std::flush;
    if (model->has_history()) {
      // A new visitor who liked the first user's 10 highest-rated movies, explained.
      std::vector<int64_t> liked;
      for (const auto& [movie, rating] : recommender.rated_movies(user)) {
        if (liked.size() < 10 && rating >= data_config.label_threshold)
          liked.push_back(movie.id);
      }
      r.liked_ms = median_request_ms(device, [&] { recommender.recommend_liked(liked, 10); });
      log << fmt::format(
                 "top-10 for a new visitor with {} liked movies, explained: {:.2f} ms "
                 "(median of {})\n",
                 liked.size(), r.liked_ms, kTimedRequests)
          << std::flush;
    }
  }
  r.peak_rss_mb = peak_rss_mb();
  return r;
}

std::string to_json(const BenchResult& r) {
  nlohmann::ordered_json j;
  j["train_samples_per_s"] = r.train_samples_per_s;
  j["eval_samples_per_s"] = r.eval_samples_per_s;
  j["load_seconds"] = r.load_seconds;
  j["epoch_seconds"] = r.epoch_seconds;
  j["recommend_ms"] = r.recommend_ms;
  j["liked_ms"] = r.liked_ms;
  j["full_ranking_seconds"] = r.full_ranking_seconds;
  j["full_ranking_users"] = r.full_ranking_users;
  j["full_ranking_pairs"] = r.full_ranking_pairs;
  j["peak_rss_mb"] = r.peak_rss_mb;
  j["threads"] = r.threads;
  j["batch_size"] = r.batch_size;
  j["device"] = r.device;
  j["data"] = r.data;
  j["kernel"] = r.kernel;
  return j.dump(2) + "\n";
}

std::string format_table(const BenchResult& r) {
  std::string out = fmt::format("device {} | threads {} | batch {} | kernel {} | data {}\n",
                                r.device, r.threads, r.batch_size, r.kernel, r.data);
  out += fmt::format("  {:<22} {:>12.0f}\n", "train samples/s", r.train_samples_per_s);
  out += fmt::format("  {:<22} {:>12.0f}\n", "eval samples/s", r.eval_samples_per_s);
  out += fmt::format("  {:<22} {:>12.3f}\n", "load + featurise (s)", r.load_seconds);
  out += fmt::format("  {:<22} {:>12.2f}\n", "one epoch (s)", r.epoch_seconds);
  out += fmt::format("  {:<22} {:>12.2f}\n", "full ranking (s)", r.full_ranking_seconds);
  out += fmt::format("  {:<22} {:>12}\n", "full ranking users", r.full_ranking_users);
  out += fmt::format("  {:<22} {:>12}\n", "full ranking pairs", r.full_ranking_pairs);
  out += fmt::format("  {:<22} {:>12.2f}\n", "top-10 recommend (ms)", r.recommend_ms);
  if (r.liked_ms > 0)
    out += fmt::format("  {:<22} {:>12.2f}\n", "top-10 --liked (ms)", r.liked_ms);
  out += fmt::format("  {:<22} {:>12.0f}\n", "peak RSS (MB)", r.peak_rss_mb);
  return out;
}

}  // namespace autoint::bench
