// The jobs the apps run: a config trained into a run directory (data loaded and prepared, model
// built, trained with train/trainer.h, evaluated, files written), a run resumed, a run
// re-evaluated.
#pragma once

#include <ostream>
#include <string>

#include "autoint/config/config.h"
#include "autoint/experiment/evaluation.h"
#include "autoint/train/distributed.h"
#include "autoint/train/trainer.h"

namespace autoint::train {

struct RunSummary {
  std::string run_dir;
  FitResult fit;
  Evaluation evaluation;
  double load_seconds = 0;
  double featurize_seconds = 0;
  double train_seconds = 0;
  std::string device;
};

struct RunOptions {
  // Continue the run in output.dir from its latest checkpoint instead of starting afresh
  // (which deletes an earlier run's checkpoints, manifest and metrics there).
  bool resume = false;
  // This process's place in a distributed run (world_from_environment()); one process by
  // default. With WORLD_SIZE > 1 every rank calls run_experiment with the same config; rank 0
  // alone writes the run directory and the console output, and the others return after the
  // test scoring with an empty evaluation.
  WorldSpec world;
};

// The whole job: checks the output directory (writable, enough free space), loads and
// prepares the data, builds and trains the model (checkpointing every epoch),
// evaluates it on the test split and writes the run directory (config.yaml,
// vocabulary.txt, model.pt, manifest.json, metrics.json, train.log, checkpoints/).
// Progress and log lines go to `console`.
RunSummary run_experiment(const config::Config& config, std::ostream& console,
                          const RunOptions& options = {});

// Throws ConfigError, naming the model keys that size it and the machine's available memory,
// when training `options` with the config's batch size would need more memory than the
// machine has (nn::estimated_training_bytes against /proc/meminfo's MemAvailable; run_experiment
// calls it on the CPU before anything is allocated or written).
void check_model_memory(const nn::AutoIntOptions& options, const config::Config& config);

// Continues an unfinished run directory with its own config.yaml (run_experiment with
// resume). Throws RunError if it is not a run directory or if the run already finished.
RunSummary resume_experiment(const std::string& run_dir, std::ostream& console,
                             const WorldSpec& world = {});

// Reloads a run directory, re-prepares its data (optionally from another data
// directory) with the saved vocabulary and split settings, and recomputes the evaluation
// (with the run's eval.protocol unless `protocol_override` names another). Data other than
// the run was trained on (its manifest's fingerprint) is a RunError, or with
// `allow_other_data` a warning in the result.
Evaluation evaluate_run(const std::string& run_dir, const std::string& data_dir_override,
                        const std::string& device, const std::string& protocol_override = "",
                        bool allow_other_data = false);

}  // namespace autoint::train
