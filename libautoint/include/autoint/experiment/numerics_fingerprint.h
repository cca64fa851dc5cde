// A numerics fingerprint: a short, deterministic run of a config on a fixed slice of its data,
// whose figures move whenever the code that produces a published result does (the model and
// its kernels, featurisation, training, evaluation, metrics, baselines). docs/results.md
// stores one per table run and docs/scripts/results.sh --check recomputes them, so that a
// refactor is checked in about a minute instead of by retraining.
#pragma once

#include <cstdint>
#include <string>

#include "autoint/config/config.h"

namespace autoint::train {

// The slice and the length of the run. The defaults are what docs/results.md's fingerprints
// were recorded with: change them and every stored fingerprint must be recorded again.
struct FingerprintOptions {
  // MovieLens sources (files or synthetic): only the ratings of users with id <= users are
  // kept (ML-1M's user ids are in no particular order); every user and movie stays in the
  // catalogue. A table source is read as its config says (data.max_rows limits it).
  int64_t users = 120;
  int64_t epochs = 2;         // at most (fewer when the config trains fewer)
  int64_t steps = 4;          // optimizer steps per epoch at most (every table epoch has more)
  int64_t rows = 24;          // test rows whose probabilities are recorded one by one
  int64_t ranking_users = 4;  // full ranking (model and baselines) of this many test users
  int64_t top = 10;           // and the model's top `top` movies for users 1..ranking_users
};

// A deliberate numerics change, for the test that proves a fingerprint check bites: the
// environment variable AUTOINT_TEST_NUMERICS_CHANGE=initial_weight adds 1e-3 to the first
// weight of the model's attention output layer after initialisation; =extra_step
// trains one step more per epoch. Unset (or empty): no change. Another value is a ConfigError.
enum class NumericsChange { none, initial_weight, extra_step };
NumericsChange numerics_change_from_environment();

// Runs `config` (its first run, for a grid or repeats) on the slice with one thread on the
// CPU, without writing anything, and returns the figures as JSON text: a hash of the resolved
// config (without data.dir, output.dir, device, train.threads and train.progress), every
// epoch's training loss and validation figures, the test evaluation (metrics, baselines, full
// ranking without its timing), the first `rows` test probabilities and their sum over the
// split, and the model's top movies of the whole catalogue for users 1..ranking_users through
// the full-ranking scorer (MovieLens sources with the seed's fields). Doubles are written with
// 17 significant digits.
// Throws what loading, training or evaluating throws.
std::string numerics_fingerprint(const config::Config& config,
                                 const FingerprintOptions& options = {},
                                 NumericsChange change = NumericsChange::none);

}  // namespace autoint::train
