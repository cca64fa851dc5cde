// One tiny synthetic run directory shared by the tests that need a trained run (training it
// is the slow part): 60 users, 80 movies, 2,000 ratings, one epoch on the CPU.
#pragma once

#include <sstream>
#include <string>
#include <vector>

#include "autoint/config/config.h"
#include "autoint/experiment/experiment.h"
#include "test_support.h"

namespace autoint::test {

// A config for training on synthetic data in tests: CPU, one thread, no progress output,
// written to `out`, with `overrides` (as --set, so they may replace these) on top.
inline config::Config synthetic_config(const std::string& out, std::vector<std::string> overrides) {
  overrides.insert(overrides.begin(),
                   {"train.threads=1", "train.progress=none", "device=cpu", "output.dir=" + out});
  return config::parse_config("data:\n  source: synthetic\n", "test.yaml", overrides);
}

inline const std::string& tiny_run_dir() {
  static TempDir tmp("autoint-tiny-run");
  static const std::string dir = [] {
    const std::string out = (tmp.path() / "run").string();
    const auto config = synthetic_config(
        out, {"data.synthetic.users=60", "data.synthetic.movies=80", "data.synthetic.ratings=2000",
              "train.epochs=1", "train.batch_size=256"});
    std::ostringstream console;
    train::run_experiment(config, console);
    return out;
  }();
  return dir;
}

// The same data trained for recommending from a history (implicit, attention pooling, user
// ids dropped half the time), for the new-visitor paths.
inline const std::string& tiny_history_run_dir() {
  static TempDir tmp("autoint-tiny-history-run");
  static const std::string dir = [] {
    const std::string out = (tmp.path() / "run").string();
    const auto config = synthetic_config(
        out,
        {"data.synthetic.users=60", "data.synthetic.movies=80", "data.synthetic.ratings=2000",
         "train.epochs=1", "train.batch_size=256", "train.objective=implicit",
         "train.negatives.per_positive=2", "data.history.field=movie_id", "data.history.max_len=16",
         "model.history_pooling=attention", "train.user_dropout=0.5"});
    std::ostringstream console;
    train::run_experiment(config, console);
    return out;
  }();
  return dir;
}

}  // namespace autoint::test
