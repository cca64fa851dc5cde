// The numerics fingerprint: a short run of a config on a slice of its data (see the header).
#include "autoint/experiment/numerics_fingerprint.h"

#include <algorithm>
#include <cstdlib>
#include <string_view>

#include <fmt/format.h>
#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "autoint/error.h"
#include "autoint/eval/evaluate.h"
#include "autoint/eval/full_ranking.h"
#include "autoint/experiment/evaluation.h"
#include "autoint/experiment/grid.h"
#include "autoint/experiment/pipeline.h"
#include "autoint/movielens/candidates.h"
#include "autoint/movielens/features.h"
#include "autoint/train/trainer.h"
#include "autoint/util/fnv1a.h"
#include "autoint/util/log.h"
#include "autoint/util/progress.h"
#include "experiment/run_json.h"

namespace autoint::train {
namespace {

using Json = nlohmann::ordered_json;

// What the fingerprint fixes whatever the config says: the CPU, one thread, no progress output.
config::Config on_one_cpu_thread(config::Config config) {
  config.device = "cpu";
  config.train.threads = 1;
  config.train.progress = "none";
  return config;
}

// The hash of what the config asks for (a grid's axes included): the settings that do not change
// the arithmetic (where the data and the run live, what on_one_cpu_thread fixes) are blanked
// first.
std::string config_hash(const config::Config& config) {
  config::Config blanked = on_one_cpu_thread(config);
  blanked.data.dir.clear();
  blanked.output.dir.clear();
  return util::fnv1a_hex(config::to_yaml(blanked));
}

// The run the fingerprint trains: a grid's (or repeats') first, cut to the slice's length.
config::Config fingerprint_config(const config::Config& config, const FingerprintOptions& o) {
  config::Config out = on_one_cpu_thread(config.grid.empty() && config.repeats <= 1
                                             ? config
                                             : expand_grid(config, "fingerprint")[0].config);
  out.train.epochs = std::min(out.train.epochs, o.epochs);
  out.eval.full_ranking_users = o.ranking_users;
  out.train.ranking_validation_users = o.ranking_users;
  return out;
}

// Keeps the ratings of users 1..users (the catalogue stays whole).
void slice(data::MovieLens& movielens, int64_t users) {
  auto& r = movielens.ratings;
  r.erase(std::remove_if(r.begin(), r.end(),
                         [users](const data::Rating& x) { return x.user_id > users; }),
          r.end());
}

// The test split's probabilities: the first `rows` of them and their sum over every row.
Json probabilities_json(nn::AutoInt& model, const data::PreparedData& data, int64_t batch_size,
                        int64_t rows) {
  const torch::Tensor p = predict(model, data.test, batch_size).to(torch::kFloat64);
  Json first = Json::array();
  const auto shown = std::min<int64_t>(rows, p.size(0));
  for (int64_t i = 0; i < shown; ++i)
    first.push_back(p[i].item<double>());
  return {{"rows", p.size(0)}, {"sum", p.sum().item<double>()}, {"first", first}};
}

// The model's `top` best-scored movies of the whole catalogue for users 1..ranking_users, with
// their logits, through the full-ranking path (eval/full_ranking.h's score_all_movies) at the
// slice's latest rating time (MovieLens sources with the seed's fields, the ones it builds
// rows for).
Json top_json(nn::AutoInt& model, const data::PreparedData& data, const data::MovieLens& movielens,
              const FingerprintOptions& o) {
  const data::CandidateRows candidates(data.vocabulary, movielens.movies, torch::kCPU);
  int64_t now = 0;
  for (const auto& r : movielens.ratings)
    now = std::max(now, r.timestamp);
  std::vector<const data::User*> users;
  for (const auto& u : movielens.users) {
    if (u.id >= 1 && u.id <= o.ranking_users)
      users.push_back(&u);
  }
  const std::vector<int64_t> times(users.size(), now);
  model->eval();
  const torch::Tensor logits =
      score_all_movies(model, candidates, users, times, FullRankingOptions{}.batch_rows);
  const auto [values, index] = torch::topk(logits, std::min(o.top, logits.size(1)), 1);
  Json out = Json::object();
  for (std::size_t u = 0; u < users.size(); ++u) {
    Json list = Json::array();
    for (int64_t i = 0; i < values.size(1); ++i) {
      const auto row = static_cast<int64_t>(u);
      const int64_t movie = candidates.movie_ids()[index[row][i].item<int64_t>()];
      list.push_back({movie, static_cast<double>(values[row][i].item<float>())});
    }
    out[std::to_string(users[u]->id)] = list;
  }
  return out;
}

}  // namespace

NumericsChange numerics_change_from_environment() {
  const char* text = std::getenv("AUTOINT_TEST_NUMERICS_CHANGE");
  const std::string_view value = text == nullptr ? "" : text;
  if (value.empty())
    return NumericsChange::none;
  if (value == "initial_weight")
    return NumericsChange::initial_weight;
  if (value == "extra_step")
    return NumericsChange::extra_step;
  throw ConfigError(fmt::format(
      "AUTOINT_TEST_NUMERICS_CHANGE=\"{}\": expected initial_weight or extra_step (or unset)",
      value));
}

std::string numerics_fingerprint(const config::Config& original, const FingerprintOptions& o,
                                 NumericsChange change) {
  const config::Config config = fingerprint_config(original, o);
  SourceData source = load_source(config.data);
  if (!source.table)
    slice(source.movielens, o.users);
  const data::PreparedData data = prepare_source(source, config.data);

  seed_everything(config.train);
  nn::AutoInt model(model_options(config.model, data.vocabulary, config.data.history));
  if (change == NumericsChange::initial_weight) {
    torch::NoGradGuard no_grad;
    // The attention output's first weight: every model type has it, and every logit uses it.
    const auto named = model->named_parameters();
    torch::Tensor weight =
        named.contains("attention_out.weight") ? named["attention_out.weight"] : named[0].value();
    weight.view({-1})[0].add_(1e-3);
  }
  FitOptions fit_opts = fit_options(config);
  fit_opts.max_steps = o.steps + (change == NumericsChange::extra_step ? 1 : 0);
  util::Log log(nullptr, "");
  const FitResult fitted =
      fit(model, data, fit_opts, torch::kCPU, log, util::ProgressMode::none,
          FitControl{"", false, source.table ? nullptr : &source.movielens, nullptr});

  Evaluation evaluation = evaluate_model(model, source.movielens, data, config, torch::kCPU);
  Json evaluated = evaluation_object(evaluation);
  if (evaluated.contains("full_ranking"))
    evaluated["full_ranking"].erase("seconds");

  Json out;
  out["config_fnv1a64"] = config_hash(original);
  out["slice"] = {{"users", o.users},
                  {"epochs", config.train.epochs},
                  {"steps", o.steps},
                  {"train_rows", data.train.rows()},
                  {"validation_rows", data.validation.rows()},
                  {"test_rows", data.test.rows()}};
  out["history"] = history_json(fitted, /*timing=*/false);
  out["best_epoch"] = fitted.best_epoch;
  out["evaluation"] = evaluated;
  out["test_probabilities"] = probabilities_json(model, data, config.eval.batch_size, o.rows);
  if (!source.table && data::is_seed_vocabulary(data.vocabulary))  // the rows candidates build
    out["top"] = top_json(model, data, source.movielens, o);
  return out.dump(1) + "\n";
}

}  // namespace autoint::train
