// autoint-train: train a model from a YAML config and write a run directory.
#include <chrono>
#include <cstring>
#include <filesystem>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

#include "app_support.h"
#include "autoint/config/config.h"
#include "autoint/device.h"
#include "autoint/error.h"
#include "autoint/experiment/experiment.h"
#include "autoint/experiment/grid.h"
#include "autoint/experiment/numerics_fingerprint.h"
#include "autoint/train/distributed.h"
#include "autoint/util/interrupt.h"

namespace {

// An interrupted run's error ends with the command that continues it.
void with_resume_hint(const std::string& dir, const std::function<void()>& train) {
  try {
    train();
  } catch (const autoint::Interrupted& e) {
    throw autoint::Interrupted(std::string(e.what()) + "; continue with: autoint-train --resume " +
                               dir);
  }
}

// The world flags and the variables they stand for.
const std::vector<std::pair<const char*, const char*>> kWorldFlags{{"world-size", "WORLD_SIZE"},
                                                                   {"rank", "RANK"},
                                                                   {"local-rank", "LOCAL_RANK"},
                                                                   {"master-addr", "MASTER_ADDR"},
                                                                   {"master-port", "MASTER_PORT"}};

// A config that trains many runs cannot be distributed.
void check_one_run(const autoint::config::Config& config, const std::string& path) {
  if (!config.grid.empty() || config.repeats > 1) {
    throw autoint::ConfigError(path +
                               ": a grid: section or repeats > 1 trains many runs; "
                               "distributed training (WORLD_SIZE, --nproc) runs one "
                               "config at a time");
  }
}

// argv without --nproc and its value, for the workers.
std::vector<std::string> worker_args(int argc, char** argv) {
  std::vector<std::string> out;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--nproc") == 0) {
      ++i;
      continue;
    }
    if (std::strncmp(argv[i], "--nproc=", 8) == 0)
      continue;
    out.emplace_back(argv[i]);
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  return autoint::apps::run_main("autoint-train", [&] {
    cxxopts::Options options("autoint-train",
                             "Train AutoInt / AutoInt+ from a YAML config, evaluate on the test "
                             "split and write a run directory; a config with a grid: section or "
                             "repeats > 1 trains every combination and writes results tables.");
    options.add_options()("c,config", "YAML experiment config (see docs/configuration.md)",
                          cxxopts::value<std::string>())(
        "s,set", "Override a config key before validation, e.g. --set train.epochs=3 (repeatable)",
        cxxopts::value<std::vector<std::string>>())(
        "d,device", "Device: auto, cpu, cuda or cuda:N (overrides the config's device)",
        cxxopts::value<std::string>())("o,output", "Run directory to write (overrides output.dir)",
                                       cxxopts::value<std::string>())(
        "resume",
        "Continue the unfinished run in DIR from its last checkpoint, with its own config.yaml",
        cxxopts::value<std::string>(),
        "DIR")("config-reference", "Print the Markdown reference of every config key and exit")(
        "print-config",
        "Print the resolved config (--config with --set, --device, --output) as YAML, as a run "
        "saves it in config.yaml, and exit without training")(
        "fingerprint",
        "Print the config's numerics fingerprint (a short one-thread CPU run on a fixed slice of "
        "the data, as JSON; docs/results.md) and exit without writing a run");
    options.add_options("distributed (docs/distributed.md)")(
        "nproc", "Train with N processes on this machine (ranks 0..N-1, Gloo or NCCL over c10d)",
        cxxopts::value<int64_t>(),
        "N")("world-size", "Processes in the run (default: WORLD_SIZE, else 1)",
             cxxopts::value<std::string>(), "N")("rank", "This process's rank (default: RANK)",
                                                 cxxopts::value<std::string>(), "R")(
        "local-rank", "Its index on this machine, its CUDA device (default: LOCAL_RANK, else rank)",
        cxxopts::value<std::string>(),
        "L")("master-addr", "Host of rank 0 (default: MASTER_ADDR, else 127.0.0.1)",
             cxxopts::value<std::string>(),
             "HOST")("master-port", "Rendezvous port on rank 0 (default: MASTER_PORT, else 29500)",
                     cxxopts::value<std::string>(), "PORT");
    bool help = false;
    auto flags = autoint::apps::parse_flags(options, argc, argv, help);
    if (help)
      return 0;
    if (flags.count("config-reference")) {
      std::cout << autoint::config::reference_markdown();
      return 0;
    }
    autoint::util::install_interrupt_handler();
    if (flags.count("resume")) {
      for (const char* flag : {"config", "set", "device", "output"}) {
        if (flags.count(flag)) {
          throw cxxopts::exceptions::exception(
              std::string("--resume continues a run with its own config; --") + flag +
              " cannot be combined with it");
        }
      }
    }
    std::vector<autoint::train::WorldOverride> world_flags;
    for (const auto& [flag, variable] : kWorldFlags) {
      if (flags.count(flag))
        world_flags.push_back({variable, flags[flag].as<std::string>(), std::string("--") + flag});
    }
    const autoint::train::WorldSpec world = autoint::train::world_from_environment(world_flags);
    // --set, --device and --output, in the order load_config applies them.
    std::vector<std::string> overrides = autoint::apps::set_flags(flags);
    if (flags.count("device"))
      overrides.push_back("device=" + flags["device"].as<std::string>());
    if (flags.count("output"))
      overrides.push_back("output.dir=" + flags["output"].as<std::string>());
    if (flags.count("nproc")) {
      if (world.distributed() || !world_flags.empty()) {
        throw cxxopts::exceptions::exception(
            "--nproc starts a world of its own; it cannot be combined with WORLD_SIZE or "
            "--world-size, --rank, --local-rank, --master-addr, --master-port");
      }
      const auto nproc = flags["nproc"].as<int64_t>();
      if (nproc > 1) {
        // The config is checked once, here, and gives the workers' timeout.
        const std::string config_path =
            flags.count("resume")
                ? (std::filesystem::path(flags["resume"].as<std::string>()) / "config.yaml")
                      .string()
            : flags.count("config") ? flags["config"].as<std::string>()
                                    : std::string();
        int64_t timeout_s = autoint::config::DistributedConfig().timeout_s;
        if (!config_path.empty() && std::filesystem::exists(config_path)) {
          // (--resume takes no overrides: they were refused above.)
          const auto config = autoint::config::load_config(config_path, overrides);
          check_one_run(config, config_path);
          // A device or backend the ranks cannot use is reported once, not by every rank.
          autoint::train::resolve_backend(config.distributed.backend,
                                          autoint::DeviceSpec::parse(config.device).resolve());
          timeout_s = config.distributed.timeout_s;
        }
        return autoint::train::launch_local_workers(
            nproc, "/proc/self/exe", worker_args(argc, argv), std::chrono::seconds(timeout_s + 10));
      }
      if (nproc < 1)
        throw cxxopts::exceptions::exception("--nproc " + std::to_string(nproc) +
                                             ": expected a number of processes >= 1");
    }
    if (flags.count("resume")) {
      const auto dir = flags["resume"].as<std::string>();
      with_resume_hint(dir, [&] { autoint::train::resume_experiment(dir, std::cout, world); });
      return 0;
    }
    if (!flags.count("config")) {
      throw cxxopts::exceptions::exception("--config FILE is required");
    }
    const std::string path = flags["config"].as<std::string>();
    const auto config = autoint::config::load_config(path, overrides);
    if (flags.count("print-config")) {
      std::cout << autoint::config::to_yaml(config);
      return 0;
    }
    if (flags.count("fingerprint")) {
      std::cout << autoint::train::numerics_fingerprint(
          config, {}, autoint::train::numerics_change_from_environment());
      return 0;
    }
    if (world.distributed())
      check_one_run(config, path);
    if (!config.grid.empty() || config.repeats > 1) {
      autoint::train::run_grid(config, path, std::cout);
    } else {
      with_resume_hint(config.output.dir, [&] {
        autoint::train::run_experiment(config, std::cout, autoint::train::RunOptions{false, world});
      });
    }
    return 0;
  });
}
