// One tiny synthetic run directory shared by the tests that need a trained run (training it
// is the slow part): 60 users, 80 movies, 2,000 ratings, one epoch on the CPU.
#pragma once

#include <sstream>
#include <string>

#include "autoint/config/config.h"
#include "autoint/train/trainer.h"
#include "test_support.h"

namespace autoint::test {

inline const std::string& tiny_run_dir() {
  static TempDir tmp("autoint-tiny-run");
  static const std::string dir = [] {
    const std::string out = (tmp.path() / "run").string();
    const auto config = config::parse_config(
        "data:\n  source: synthetic\n", "test.yaml",
        {"data.synthetic.users=60", "data.synthetic.movies=80", "data.synthetic.ratings=2000",
         "train.epochs=1", "train.batch_size=256", "train.threads=1", "train.progress=none",
         "device=cpu", "output.dir=" + out});
    std::ostringstream console;
    train::run_experiment(config, console);
    return out;
  }();
  return dir;
}

}  // namespace autoint::test
