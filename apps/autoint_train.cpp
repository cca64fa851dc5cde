// autoint-train: train a model from a YAML config and write a run directory.
#include <iostream>

#include "app_support.h"
#include "autoint/config/config.h"
#include "autoint/train/grid.h"
#include "autoint/train/trainer.h"

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
        "config-reference", "Print the Markdown reference of every config key and exit");
    bool help = false;
    auto flags = autoint::apps::parse_flags(options, argc, argv, help);
    if (help)
      return 0;
    if (flags.count("config-reference")) {
      std::cout << autoint::config::reference_markdown();
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
    if (!config.grid.empty() || config.repeats > 1)
      autoint::train::run_grid(config, path, std::cout);
    else
      autoint::train::run_experiment(config, std::cout);
    return 0;
  });
}
