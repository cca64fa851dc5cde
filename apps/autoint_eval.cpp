// autoint-eval: reload a run directory and recompute its test metrics, or print a results
// table of finished runs (what docs/scripts/results.sh puts in docs/results.md).
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "app_support.h"
#include "autoint/error.h"
#include "autoint/experiment/experiment.h"
#include "autoint/experiment/grid.h"

int main(int argc, char** argv) {
  return autoint::apps::run_main("autoint-eval", [&] {
    cxxopts::Options options("autoint-eval",
                             "Reload a run directory written by autoint-train and recompute its "
                             "test metrics (the same split and vocabulary as training).");
    autoint::apps::add_run_flags(options);
    options.add_options()(
        "p,protocol",
        "Ranking protocol: seed, full_ranking or both (default: the run's eval.protocol)",
        cxxopts::value<std::string>()->default_value(""))(
        "json",
        "Also write the metrics as JSON to this file (metrics.json's keys, without \"run\")",
        cxxopts::value<std::string>());
    options.add_options("Results table (instead of evaluating --run)")(
        "table",
        "LABEL=DIR: rows of a finished run directory, or of a grid directory (a row per "
        "combination, mean ± std over its seeds); repeatable, in order",
        cxxopts::value<std::vector<std::string>>())(
        "baselines", "DIR: one row per baseline of the run (or the grid's first run) in DIR",
        cxxopts::value<std::vector<std::string>>())(
        "columns",
        "Comma-separated columns: metric keys of metrics.json (auc, logloss, seed_ndcg@10, "
        "full_hr@10, ...), epochs_run, best_epoch, epochs_by_seed",
        cxxopts::value<std::string>()->default_value("auc,logloss"));
    bool help = false;
    auto flags = autoint::apps::parse_flags(options, argc, argv, help);
    if (help)
      return 0;
    if (flags.count("table") > 0 || flags.count("baselines") > 0) {
      std::vector<autoint::train::TableSource> sources;
      if (flags.count("table") > 0) {
        for (const auto& spec : flags["table"].as<std::vector<std::string>>()) {
          const auto eq = spec.find('=');
          if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size()) {
            throw autoint::ConfigError(
                fmt::format("--table {}: expected LABEL=DIR", autoint::quoted_value(spec)));
          }
          sources.push_back({spec.substr(0, eq), spec.substr(eq + 1)});
        }
      }
      std::vector<std::string> baselines;
      if (flags.count("baselines") > 0)
        baselines = flags["baselines"].as<std::vector<std::string>>();
      std::vector<std::string> columns;
      std::istringstream list(flags["columns"].as<std::string>());
      for (std::string column; std::getline(list, column, ',');)
        columns.push_back(column);
      std::cout << autoint::train::results_table(sources, baselines, columns);
      return 0;
    }
    const auto result = autoint::train::evaluate_run(
        autoint::apps::run_flag(flags), flags["data"].as<std::string>(),
        flags["device"].as<std::string>(), flags["protocol"].as<std::string>(),
        flags.count("allow-other-data") > 0);
    std::cout << autoint::train::format_evaluation(result) << '\n';
    if (flags.count("json") > 0) {
      const std::string path = flags["json"].as<std::string>();
      std::ofstream out(path, std::ios::binary);
      out << autoint::train::evaluation_json(result);
      if (!out.flush())
        throw autoint::RunError(fmt::format("{}: cannot write the metrics", path));
    }
    return 0;
  });
}
