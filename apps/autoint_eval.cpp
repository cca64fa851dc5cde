// autoint-eval: reload a run directory and recompute its test metrics.
#include <iostream>

#include "app_support.h"
#include "autoint/train/trainer.h"

int main(int argc, char** argv) {
  return autoint::apps::run_main("autoint-eval", [&] {
    cxxopts::Options options("autoint-eval",
                             "Reload a run directory written by autoint-train and recompute its "
                             "test metrics (the same split and vocabulary as training).");
    autoint::apps::add_run_flags(options);
    options.add_options()(
        "p,protocol",
        "Ranking protocol: seed, full_ranking or both (default: the run's eval.protocol)",
        cxxopts::value<std::string>()->default_value(""));
    bool help = false;
    auto flags = autoint::apps::parse_flags(options, argc, argv, help);
    if (help)
      return 0;
    const auto result = autoint::train::evaluate_run(
        autoint::apps::run_flag(flags), flags["data"].as<std::string>(),
        flags["device"].as<std::string>(), flags["protocol"].as<std::string>(),
        flags.count("allow-other-data") > 0);
    std::cout << autoint::train::format_evaluation(result) << '\n';
    return 0;
  });
}
