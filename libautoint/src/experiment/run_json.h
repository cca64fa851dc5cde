// How a run's figures are written as JSON (metrics.json and the numerics fingerprint): a private
// header of the library, so that the public ones need not include nlohmann/json.
#pragma once

#include <nlohmann/json.hpp>

#include "autoint/experiment/evaluation.h"
#include "autoint/train/trainer.h"

namespace autoint::train {

// The evaluation as metrics.json writes it (without its "run" part); evaluation_json's text.
nlohmann::ordered_json evaluation_object(const Evaluation& evaluation);

// Every epoch's figures (NaN, not measured, as null), with the epoch's seconds and samples/s
// when `timing` is true.
nlohmann::ordered_json history_json(const FitResult& fit, bool timing);

}  // namespace autoint::train
