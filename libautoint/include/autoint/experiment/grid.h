// Grids and repeats: the Cartesian product of a config's `grid:` axes, each combination
// trained `repeats` times in its own run directory, and the results tables.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "autoint/config/config.h"

namespace autoint::train {

struct GridPoint {
  std::string name;  // the run's sub-directory, from the varied settings (and the seed)
  std::vector<std::pair<std::string, std::string>> settings;  // grid key -> value text
  int64_t combination = 0;                                    // index of the settings
  int64_t repeat = 0;                                         // 0-based
  config::Config config;  // resolved and validated; grid cleared, repeats 1
};

// Every combination of config.grid (the first axis varies slowest) times config.repeats;
// repeat r trains with train.seed + r (the split stays the same: data.split_seed). Each
// point's output.dir is config.output.dir / name. `origin` names the config in errors; a
// combination that fails validation is a ConfigError naming its settings.
std::vector<GridPoint> expand_grid(const config::Config& config, const std::string& origin);

// Mean and sample standard deviation (0 for a single value).
struct MeanStd {
  double mean = 0;
  double std = 0;
  int64_t n = 0;
};
MeanStd mean_std(const std::vector<double>& values);

struct GridSummary {
  std::string dir;
  int64_t runs = 0;
  int64_t trained = 0;
  int64_t skipped = 0;  // finished before (a complete run directory with the same config)
  std::string table;    // results.md's table
};

// Trains every point whose run directory does not hold a finished run, skipping those that
// do (their config.yaml must equal the point's config, else RunError: a changed grid must
// not reuse old results), and rewrites results.csv, results.md and results.json in
// config.output.dir after every run. A run that was interrupted after a checkpoint resumes
// from it, so an interrupted grid loses at most the epoch in progress. Runs' progress and
// logs go to `console`.
GridSummary run_grid(const config::Config& config, const std::string& origin,
                     std::ostream& console);

// Rows of a results table: a finished run directory (one row) or a grid directory (one row
// per combination, mean ± sample standard deviation over its repeats; every run must be
// finished), labelled `label` (grid rows add their settings).
struct TableSource {
  std::string label;
  std::string dir;
};

// A Markdown table with a first column "run" and then `columns`, each one of:
// - a metric key of metrics.json (auc, logloss, seed_ndcg@10, ...; full_hr@10 etc. for the
//   full-ranking figures), shown with 4 decimals ("—" where a row has no value);
// - epochs_run or best_epoch (1 decimal);
// - epochs_by_seed: "best of run" for each run of the row, e.g. "8 of 10, 7 of 9".
// Then, for each of `baseline_dirs` (a run or a grid directory, whose first finished run is
// read), one row per baseline scored with that run. This is what docs/scripts/results.sh puts
// in docs/results.md. Throws RunError naming the directory that is missing, unfinished or
// malformed, and ConfigError for an unknown column (listing the known ones).
std::string results_table(const std::vector<TableSource>& sources,
                          const std::vector<std::string>& baseline_dirs,
                          const std::vector<std::string>& columns);

}  // namespace autoint::train
