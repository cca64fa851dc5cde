// autoint-train: train a model from a YAML config and write a run directory.
#include <functional>
#include <iostream>
#include <string>

#include "app_support.h"
#include "autoint/config/config.h"
#include "autoint/error.h"
#include "autoint/train/grid.h"
#include "autoint/train/trainer.h"
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
        "saves it in config.yaml, and exit without training");
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
      const auto dir = flags["resume"].as<std::string>();
      with_resume_hint(dir, [&] { autoint::train::resume_experiment(dir, std::cout); });
      return 0;
    }
    if (!flags.count("config")) {
      throw cxxopts::exceptions::exception("--config FILE is required");
    }
    std::vector<std::string> overrides;
    if (flags.count("set"))
      overrides = flags["set"].as<std::vector<std::string>>();
    if (flags.count("device"))
      overrides.push_back("device=" + flags["device"].as<std::string>());
    if (flags.count("output"))
      overrides.push_back("output.dir=" + flags["output"].as<std::string>());
    const std::string path = flags["config"].as<std::string>();
    const auto config = autoint::config::load_config(path, overrides);
    if (flags.count("print-config")) {
      std::cout << autoint::config::to_yaml(config);
      return 0;
    }
    if (!config.grid.empty() || config.repeats > 1)
      autoint::train::run_grid(config, path, std::cout);
    else
      with_resume_hint(config.output.dir,
                       [&] { autoint::train::run_experiment(config, std::cout); });
    return 0;
  });
}
