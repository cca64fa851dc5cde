// autoint-bench: training/evaluation throughput, load, epoch and recommendation timings.
#include <fstream>

#include <fmt/format.h>
#include <iostream>

#include "app_support.h"
#include "autoint/bench/benchmark.h"
#include "autoint/config/config.h"
#include "autoint/error.h"

int main(int argc, char** argv) {
  return autoint::apps::run_main("autoint-bench", [&] {
    cxxopts::Options options(
        "autoint-bench",
        "Measure training and evaluation throughput (samples/s), ML-1M load + featurise time, "
        "one epoch, top-10 recommendation latency and peak memory. Without --config it runs "
        "the seed's AutoInt+ (configs/ml1m_autoint_plus.yaml's settings); without --data it "
        "uses synthetic data of ML-1M's shape and needs nothing but the build.");
    options.add_options()("c,config", "YAML config for the model/training settings",
                          cxxopts::value<std::string>())(
        "s,set", "Config override key=value (repeatable)",
        cxxopts::value<std::vector<std::string>>())(
        "data", "ML-1M directory to load and train one epoch on",
        cxxopts::value<std::string>()->default_value(""))(
        "t,threads", "Intra-op CPU threads", cxxopts::value<int64_t>()->default_value("1"))(
        "b,batch", "Batch size for the throughput runs",
        cxxopts::value<int64_t>()->default_value("2048"))(
        "steps", "Timed steps for throughput", cxxopts::value<int64_t>()->default_value("40"))(
        "warmup", "Untimed warm-up steps", cxxopts::value<int64_t>()->default_value("5"))(
        "d,device", "Device: cpu, cuda, cuda:N or auto",
        cxxopts::value<std::string>()->default_value("cpu"))("throughput-only",
                                                             "Only measure train/eval throughput")(
        "ranking-users",
        "Full ranking after the epoch: this many test users (a seeded sample); 0 all, -1 skip",
        cxxopts::value<int64_t>()->default_value("0"))(
        "ranking-batch", "Full ranking: rows per forward pass (0: the library's default)",
        cxxopts::value<int64_t>()->default_value("0"))(
        "json", "Also write the result as JSON to this file", cxxopts::value<std::string>());
    bool help = false;
    auto flags = autoint::apps::parse_flags(options, argc, argv, help);
    if (help)
      return 0;
    autoint::bench::BenchOptions o;
    std::vector<std::string> overrides = {"data.source=synthetic"};
    for (const auto& s : autoint::apps::set_flags(flags))
      overrides.push_back(s);
    o.config = flags.count("config")
                   ? autoint::config::load_config(flags["config"].as<std::string>(), overrides)
                   : autoint::config::parse_config("", "(defaults)", overrides);
    o.data_dir = flags["data"].as<std::string>();
    o.threads = flags["threads"].as<int64_t>();
    o.batch_size = flags["batch"].as<int64_t>();
    o.steps = flags["steps"].as<int64_t>();
    o.warmup = flags["warmup"].as<int64_t>();
    o.device = flags["device"].as<std::string>();
    o.throughput_only = flags.count("throughput-only") > 0;
    o.full_ranking_users = flags["ranking-users"].as<int64_t>();
    o.full_ranking_batch_rows = flags["ranking-batch"].as<int64_t>();
    if (o.threads < 1 || o.batch_size < 1 || o.steps < 1 || o.warmup < 0) {
      throw autoint::ConfigError("--threads, --batch and --steps must be >= 1 and --warmup >= 0");
    }
    if (o.full_ranking_users < -1 || o.full_ranking_batch_rows < 0) {
      throw autoint::ConfigError(
          fmt::format("--ranking-users must be >= -1 (got {}) and --ranking-batch >= 0 (got {})",
                      o.full_ranking_users, o.full_ranking_batch_rows));
    }
    const auto result = autoint::bench::run_benchmark(o, std::cerr);
    std::cout << autoint::bench::format_table(result);
    if (flags.count("json")) {
      const auto path = flags["json"].as<std::string>();
      std::ofstream out(path);
      out << autoint::bench::to_json(result);
      if (!out)
        throw autoint::Error(path + ": cannot write the JSON result");
    }
    return 0;
  });
}
