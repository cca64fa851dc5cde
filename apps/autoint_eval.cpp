// autoint-eval: reload a run directory and recompute its test metrics.
#include <iostream>

#include "app_support.h"
#include "autoint/train/trainer.h"

int main(int argc, char** argv) {
  return autoint::apps::run_main("autoint-eval", [&] {
    cxxopts::Options options("autoint-eval",
                             "Reload a run directory written by autoint-train and recompute its "
                             "test metrics (the same split and vocabulary as training).");
    options.add_options()("r,run", "Run directory", cxxopts::value<std::string>())(
        "data", "ML-1M directory to read instead of the run's data.dir",
        cxxopts::value<std::string>()->default_value(""))(
        "d,device", "Device: auto, cpu, cuda or cuda:N",
        cxxopts::value<std::string>()->default_value("auto"))(
        "p,protocol",
        "Ranking protocol: seed, full_ranking or both (default: the run's eval.protocol)",
        cxxopts::value<std::string>()->default_value(""));
    bool help = false;
    auto flags = autoint::apps::parse_flags(options, argc, argv, help);
    if (help)
      return 0;
    if (!flags.count("run"))
      throw cxxopts::exceptions::exception("--run DIR is required");
    const auto result = autoint::train::evaluate_run(
        flags["run"].as<std::string>(), flags["data"].as<std::string>(),
        flags["device"].as<std::string>(), flags["protocol"].as<std::string>());
    std::cout << autoint::train::format_evaluation(result) << '\n';
    return 0;
  });
}
