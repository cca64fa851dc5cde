// One evaluation of a trained model: the test split, the baselines and full ranking, as
// metrics.json and the console show them.
#include "autoint/experiment/evaluation.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "autoint/experiment/pipeline.h"
#include "autoint/train/trainer.h"
#include "experiment/run_json.h"

namespace autoint::train {
namespace {

nlohmann::ordered_json metrics_json(const EvalResult& result) {
  nlohmann::ordered_json out;
  for (const auto& [key, value] : metric_entries(result)) {
    if (key == "users" || key == "test_rows") {
      out[key] = static_cast<int64_t>(value);
    } else {
      out[key] = value;  // NaN is written as null
    }
  }
  if (std::isnan(result.auc)) {
    out["auc_note"] =
        "auc is undefined (null): the split's labels are all of one class, so there is no "
        "positive-versus-negative ranking to measure";
  }
  return out;
}

// The full-ranking metrics as (key, value) pairs, keys as metrics.json spells them.
std::vector<std::pair<std::string, double>> full_ranking_entries(const FullRankingMetrics& m,
                                                                 int64_t k) {
  return {{fmt::format("hr@{}", k), m.hr},
          {fmt::format("ndcg@{}", k), m.ndcg},
          {fmt::format("recall@{}", k), m.recall},
          {fmt::format("precision@{}", k), m.precision}};
}

// metrics.json's metric part: the test metrics at the top level, then "baselines" (one
// object per scorer, same keys) and, with full ranking, "full_ranking".

// One table: a row per metric, the model's column and then each baseline's.
std::string comparison_table(
    const std::vector<std::string>& names,
    const std::vector<std::vector<std::pair<std::string, double>>>& columns) {
  // Each column as wide as its name, at least 12.
  std::vector<std::size_t> widths;
  for (const auto& name : names)
    widths.push_back(std::max<std::size_t>(12, name.size()));
  std::string out = fmt::format("  {:<14}", "metric");
  for (std::size_t c = 0; c < names.size(); ++c)
    out += fmt::format(" {:>{}}", names[c], widths[c]);
  out += "\n";
  for (std::size_t row = 0; row < columns.front().size(); ++row) {
    const std::string& key = columns.front()[row].first;
    const bool count = key == "users" || key == "test_rows";
    out += fmt::format("  {:<14}", key);
    for (std::size_t c = 0; c < columns.size(); ++c) {
      const double value = columns[c][row].second;
      out += count ? fmt::format(" {:>{}}", static_cast<int64_t>(value), widths[c])
                   : fmt::format(" {:>{}.4f}", value, widths[c]);
    }
    out += "\n";
  }
  return out;
}

// Which baselines match or beat the model on which metrics (higher is better for all of
// `keys`), as one line.
std::string verdict(const std::vector<std::pair<std::string, double>>& model,
                    const std::vector<std::string>& names,
                    const std::vector<std::vector<std::pair<std::string, double>>>& baselines,
                    const std::vector<std::string>& keys) {
  if (baselines.empty())
    return {};  // e.g. a table without an item column: nothing to compare with
  std::vector<std::string> losses;
  std::vector<std::string> margins;
  for (const auto& [key, value] : model) {
    if (std::find(keys.begin(), keys.end(), key) == keys.end())
      continue;
    double best = -std::numeric_limits<double>::infinity();
    std::string best_name;
    for (std::size_t b = 0; b < baselines.size(); ++b) {
      for (const auto& [bkey, bvalue] : baselines[b]) {
        if (bkey == key && bvalue > best) {
          best = bvalue;
          best_name = names[b];
        }
      }
    }
    if (best_name.empty())
      continue;
    if (best >= value)
      losses.push_back(
          fmt::format("{} on {} ({:.4f} vs the model's {:.4f})", best_name, key, best, value));
    else
      margins.push_back(fmt::format("{} {:+.4f} (over {})", key, value - best, best_name));
  }
  if (!losses.empty())
    return fmt::format("  WARNING: a baseline matches or beats the model: {}\n",
                       fmt::join(losses, "; "));
  return fmt::format("  the model beats every baseline: {}\n", fmt::join(margins, ", "));
}

}  // namespace

Evaluation evaluate_model(nn::AutoInt& model, const data::MovieLens& movielens,
                          const data::PreparedData& data, const config::Config& config,
                          const torch::Device& device, ProcessGroup* group) {
  const auto& ec = config.eval;
  const auto seed = static_cast<uint64_t>(config.train.seed);
  Evaluation out;
  out.protocol = ec.protocol;
  if (group != nullptr) {
    const torch::Tensor probabilities =
        predict_sharded(*group, model, data.test.to(device), ec.batch_size, "the test scoring");
    out.test = evaluate_scores(data.test, probabilities, ec.top_k);
    if (group->rank() != 0)
      return out;
  } else {
    out.test = evaluate(model, data.test.to(device), ec.batch_size, ec.top_k);
  }
  if (config.data.source != "table") {
    out.baselines = evaluate_baselines(data, ec.top_k, seed);
  } else if (data.test.item_ids.defined()) {
    // A table's item column: the per-item scorers on its labels (movie_mean needs 1-5 ratings).
    for (auto& b : evaluate_baselines(data, ec.top_k, seed)) {
      if (b.name != "movie_mean")
        out.baselines.push_back(std::move(b));
    }
  }
  if (ec.protocol != "seed") {
    FullRankingOptions options = full_ranking_options(config);
    options.max_users = ec.full_ranking_users;
    out.full_ranking = evaluate_full_ranking(model, movielens, data, options);
  }
  return out;
}

nlohmann::ordered_json evaluation_object(const Evaluation& evaluation) {
  nlohmann::ordered_json out = metrics_json(evaluation.test);
  nlohmann::ordered_json baselines = nlohmann::ordered_json::object();
  for (const auto& b : evaluation.baselines)
    baselines[b.name] = metrics_json(b.result);
  out["baselines"] = baselines;
  if (const auto& full = evaluation.full_ranking) {
    nlohmann::ordered_json f;
    f["protocol"] =
        "every movie a test user did not rate in the training part is ranked; relevant: the "
        "user's test positives; standard hr, ndcg, recall, precision";
    f["k"] = full->k;
    f["users"] = full->users;
    f["candidates"] = full->candidates;
    f["time"] = full->time;
    if (full->time != "user_last")
      f["timestamp"] = full->timestamp;
    f["seconds"] = full->seconds;
    nlohmann::ordered_json model;
    for (const auto& [key, value] : full_ranking_entries(full->model, full->k))
      model[key] = value;
    f["model"] = model;
    nlohmann::ordered_json fb = nlohmann::ordered_json::object();
    for (const auto& [name, m] : full->baselines) {
      for (const auto& [key, value] : full_ranking_entries(m, full->k))
        fb[name][key] = value;
    }
    f["baselines"] = fb;
    out["full_ranking"] = f;
  }
  return out;
}

std::string evaluation_json(const Evaluation& evaluation) {
  return evaluation_object(evaluation).dump(2) + "\n";
}

std::string format_evaluation(const Evaluation& e) {
  const std::string& protocol = e.protocol;
  std::vector<std::string> names{"model"};
  for (const auto& b : e.baselines)
    names.push_back(b.name);
  const std::vector<std::string> baseline_names(names.begin() + 1, names.end());
  const std::string k = std::to_string(e.test.k);
  std::string out;
  for (const auto& warning : e.warnings)
    out += warning + "\n";
  {
    std::vector<std::vector<std::pair<std::string, double>>> columns{metric_entries(e.test)};
    for (const auto& b : e.baselines)
      columns.push_back(metric_entries(b.result));
    const bool seed_ranking = protocol != "full_ranking" && e.test.per_user;
    if (!seed_ranking) {
      // Only the protocol-independent point-wise metrics and the counts.
      for (auto& column : columns) {
        column.erase(std::remove_if(column.begin(), column.end(),
                                    [](const auto& entry) {
                                      return entry.first.find('@') != std::string::npos;
                                    }),
                     column.end());
      }
    }
    out += seed_ranking      ? "test metrics (seed protocol: each user's test rows re-ranked; "
                               "seed_* use the seed's formulas, the others the standard ones):\n"
           : e.test.per_user ? "test metrics (point-wise):\n"
                             : "test metrics (point-wise; no user column, so no per-user "
                               "ranking):\n";
    out += comparison_table(names, columns);
    const std::vector<std::vector<std::pair<std::string, double>>> baseline_columns(
        columns.begin() + 1, columns.end());
    std::vector<std::string> keys{"auc"};
    if (seed_ranking) {
      for (const char* key : {"seed_ndcg@", "seed_hr@", "ndcg@", "hr@"})
        keys.push_back(key + k);
    }
    out += verdict(columns.front(), baseline_names, baseline_columns, keys);
  }
  if (const auto& f = e.full_ranking) {
    std::vector<std::vector<std::pair<std::string, double>>> columns{
        full_ranking_entries(f->model, f->k)};
    std::vector<std::string> full_names{"model"};
    for (const auto& [name, m] : f->baselines) {
      columns.push_back(full_ranking_entries(m, f->k));
      full_names.push_back(name);
    }
    const std::vector<std::string> full_baseline_names(full_names.begin() + 1, full_names.end());
    out += fmt::format(
        "full ranking (every movie a test user did not rate in the training part, time fields "
        "at {}; {} users, {} candidates, {:.1f} s):\n",
        f->time == "user_last" ? "each user's latest rating" : "the data's latest rating", f->users,
        f->candidates, f->seconds);
    out += comparison_table(full_names, columns);
    const std::vector<std::vector<std::pair<std::string, double>>> baseline_columns(
        columns.begin() + 1, columns.end());
    std::vector<std::string> keys;
    for (const auto& entry : columns.front())
      keys.push_back(entry.first);
    out += verdict(columns.front(), full_baseline_names, baseline_columns, keys);
  }
  if (!out.empty())
    out.pop_back();
  return out;
}

}  // namespace autoint::train
