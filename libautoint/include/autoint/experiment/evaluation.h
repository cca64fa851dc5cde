// One evaluation of a trained model as a run reports it: the test split's metrics, every
// baseline under the same protocol and (eval.protocol) full ranking, as metrics.json and the
// console show them.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "autoint/config/config.h"
#include "autoint/data/prepared.h"
#include "autoint/eval/baselines.h"
#include "autoint/eval/evaluate.h"
#include "autoint/eval/full_ranking.h"
#include "autoint/movielens/format.h"
#include "autoint/nn/autoint.h"
#include "autoint/train/distributed.h"

namespace autoint::train {

// Everything one evaluation of a model reports: its test-split metrics, every baseline
// under the same protocol, and the full-ranking figures when eval.protocol asks for them.
struct Evaluation {
  std::string protocol = "seed";  // eval.protocol: which tables format_evaluation shows
  EvalResult test;
  std::vector<BaselineResult> baselines;
  std::optional<FullRankingResult> full_ranking;
  // Shown before the tables, e.g. that the data differs from the run's (evaluate_run).
  std::vector<std::string> warnings;
};

// Evaluates `model` on data.test as config.eval says (top_k, batch_size, protocol,
// full_ranking_users), with the baselines fitted on the training part (train.seed seeds
// the random baseline of the seed protocol; data.split_seed the full-ranking user sample
// and its random baseline).
// With a process group every rank must call it: the test split is scored in shards, and
// only rank 0 adds the baselines and full ranking (the others get the test metrics alone).
Evaluation evaluate_model(nn::AutoInt& model, const data::MovieLens& movielens,
                          const data::PreparedData& data, const config::Config& config,
                          const torch::Device& device, ProcessGroup* group = nullptr);

// The evaluation as metrics.json writes it (without its "run" part), as JSON text.
std::string evaluation_json(const Evaluation& evaluation);

// The model's metrics beside every baseline's, one table per protocol, and a line that
// says whether the model beats every baseline (or which baseline matches or beats it).
std::string format_evaluation(const Evaluation& evaluation);

}  // namespace autoint::train
