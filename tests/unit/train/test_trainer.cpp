// Training end to end on small synthetic data: run directory, metrics, reload, determinism.
#include "autoint_catch.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "autoint/config/config.h"
#include "autoint/error.h"
#include "autoint/experiment/experiment.h"
#include "autoint/experiment/pipeline.h"
#include "autoint/experiment/run_dir.h"
#include "autoint/train/trainer.h"
#include "test_support.h"
#include "tiny_run.h"

using namespace autoint;
namespace fs = std::filesystem;

namespace {

config::Config small_config(const std::string& out, std::vector<std::string> extra = {}) {
  std::vector<std::string> overrides = {"data.synthetic.users=150",    "data.synthetic.movies=80",
                                        "data.synthetic.ratings=6000", "train.epochs=2",
                                        "train.batch_size=256",        "train.learning_rate=0.003"};
  overrides.insert(overrides.end(), extra.begin(), extra.end());
  return test::synthetic_config(out, overrides);
}

nlohmann::json read_json(const fs::path& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in);
}

}  // namespace

TEST_CASE("a training run writes a complete run directory that reloads", "[train]") {
  test::TempDir tmp;
  const std::string dir = (tmp.path() / "run").string();
  std::ostringstream console;
  const auto summary = train::run_experiment(small_config(dir), console);

  for (const char* f : {"config.yaml", "model.pt", "vocabulary.txt", "manifest.json",
                        "metrics.json", "train.log"}) {
    INFO(f);
    CHECK(fs::exists(fs::path(dir) / f));
  }
  const auto metrics = read_json(fs::path(dir) / "metrics.json");
  for (const char* key : {"auc", "logloss", "seed_ndcg@10", "seed_hr@10", "ndcg@10", "hr@10",
                          "recall@10", "precision@10", "users", "test_rows"}) {
    INFO(key);
    REQUIRE(metrics.contains(key));
  }
  CHECK(metrics["test_rows"].get<int64_t>() == 1200);
  CHECK(metrics["run"]["history"].size() == 2);
  CHECK(summary.fit.history.size() == 2);
  // The synthetic data has planted structure: even 2 epochs beat chance.
  CHECK(metrics["auc"].get<double>() > 0.6);
  CHECK(console.str().find("test metrics") != std::string::npos);

  // autoint-eval's path recomputes the same numbers.
  const auto again = train::evaluate_run(dir, "", "cpu");
  for (const auto& [key, value] : train::metric_entries(again.test)) {
    INFO(key);
    CHECK(value == Approx(metrics[key].get<double>()).margin(1e-9));
  }
  // Every baseline is stored with the same keys, and recomputed identically.
  REQUIRE(metrics.contains("baselines"));
  REQUIRE(again.baselines.size() == train::baseline_names().size());
  for (const auto& b : again.baselines) {
    INFO(b.name);
    REQUIRE(metrics["baselines"].contains(b.name));
    for (const auto& [key, value] : train::metric_entries(b.result))
      CHECK(value == Approx(metrics["baselines"][b.name][key].get<double>()).margin(1e-9));
  }
  CHECK(console.str().find("movie_mean") != std::string::npos);
  CHECK_FALSE(metrics.contains("full_ranking"));
  // The resolved config is saved and parses back to the same config.
  const auto saved = config::load_config((fs::path(dir) / "config.yaml").string());
  CHECK(config::to_yaml(saved) == config::to_yaml(small_config(dir)));
}

TEST_CASE("same seed and threads give identical weights", "[train]") {
  test::TempDir tmp;
  std::ostringstream console;
  const auto a = (tmp.path() / "a").string();
  const auto b = (tmp.path() / "b").string();
  train::run_experiment(small_config(a, {"train.epochs=1"}), console);
  train::run_experiment(small_config(b, {"train.epochs=1"}), console);
  CHECK(autoint::test::read_file(fs::path(a) / "model.pt") ==
        autoint::test::read_file(fs::path(b) / "model.pt"));
  const auto c = (tmp.path() / "c").string();
  train::run_experiment(small_config(c, {"train.epochs=1", "train.seed=7"}), console);
  CHECK(autoint::test::read_file(fs::path(a) / "model.pt") !=
        autoint::test::read_file(fs::path(c) / "model.pt"));
}

TEST_CASE("early stopping restores the best epoch", "[train]") {
  test::TempDir tmp;
  std::ostringstream console;
  const auto dir = (tmp.path() / "run").string();
  // A large learning rate on tiny data overfits quickly: validation logloss rises.
  const auto summary = train::run_experiment(
      small_config(dir, {"train.epochs=12", "train.patience=1", "train.learning_rate=0.05"}),
      console);
  const auto& h = summary.fit.history;
  REQUIRE(!h.empty());
  double best = h[0].validation_logloss;
  int64_t best_epoch = 1;
  for (const auto& s : h) {
    if (s.validation_logloss < best) {
      best = s.validation_logloss;
      best_epoch = s.epoch;
    }
  }
  CHECK(summary.fit.best_epoch == best_epoch);
  if (summary.fit.stopped_early) {
    CHECK(static_cast<int64_t>(h.size()) == best_epoch + 1);
  }
  // The saved model is the best epoch's: re-evaluating the validation split gives its logloss.
  auto run = train::load_run(dir, torch::kCPU);
  const auto data =
      train::prepare_data(train::load_movielens(run.config.data), run.config.data, run.vocabulary);
  const auto v = train::evaluate(run.model, data.validation, 4096, 10);
  CHECK(v.logloss == Approx(best).margin(1e-6));
}

TEST_CASE("damaged run directories give clear errors", "[train]") {
  test::TempDir tmp;
  std::ostringstream console;
  const auto dir = (tmp.path() / "run").string();
  train::run_experiment(small_config(dir, {"train.epochs=1"}), console);

  SECTION("missing model") {
    fs::remove(fs::path(dir) / "model.pt");
    REQUIRE_THROWS_WITH(train::load_run(dir, torch::kCPU),
                        Catch::Contains("model.pt: missing from the run directory"));
  }
  SECTION("truncated model") {
    const auto path = fs::path(dir) / "model.pt";
    fs::resize_file(path, fs::file_size(path) / 2);
    REQUIRE_THROWS_WITH(train::load_run(dir, torch::kCPU),
                        Catch::Contains("model.pt: corrupt or truncated"));
  }
  SECTION("flipped byte in the vocabulary") {
    const auto path = fs::path(dir) / "vocabulary.txt";
    auto text = autoint::test::read_file(path);
    text[text.size() / 2] ^= 1;
    test::write_file(path, text);
    REQUIRE_THROWS_WITH(train::load_run(dir, torch::kCPU),
                        Catch::Contains("vocabulary.txt: corrupt: FNV-1a hash"));
  }
  SECTION("another format version") {
    const auto path = fs::path(dir) / "manifest.json";
    auto manifest = read_json(path);
    manifest["format_version"] = 99;
    test::write_file(path, manifest.dump());
    REQUIRE_THROWS_WITH(train::load_run(dir, torch::kCPU),
                        Catch::Contains("run format version 99"));
  }
  SECTION("no such directory") {
    REQUIRE_THROWS_AS(train::load_run(dir + "-nope", torch::kCPU), RunError);
  }
}

TEST_CASE("an unwritable output directory fails before training", "[train]") {
  test::TempDir tmp;
  const auto file = tmp.path() / "a-file";
  test::write_file(file, "x");
  std::ostringstream console;
  // A path under a regular file cannot be created even by root, whom chmod does not stop.
  const auto dir = (file / "run").string();
  REQUIRE_THROWS_WITH(train::run_experiment(small_config(dir), console),
                      Catch::Contains(dir + ": cannot create run directory"));
  CHECK(console.str().empty());
  CHECK(autoint::test::read_file(file) == "x");
}

TEST_CASE("the paper's feature set trains, reloads and re-evaluates", "[train]") {
  test::TempDir tmp;
  const std::string dir = (tmp.path() / "run").string();
  std::ostringstream console;
  const auto config =
      small_config(dir, {"data.features=paper", "data.drop_ratings=[3]", "data.test_fraction=0.1",
                         "data.validation_fraction=0.1111", "model.type=autoint"});
  train::run_experiment(config, console);
  const auto metrics = read_json(fs::path(dir) / "metrics.json");
  // Ratings of 3 are gone before the split: fewer test rows than 10% of 6,000.
  CHECK(metrics["test_rows"].get<int64_t>() < 600);
  CHECK(metrics["test_rows"].get<int64_t>() > 300);
  CHECK(metrics["auc"].get<double>() > 0.5);

  auto run = train::load_run(dir, torch::kCPU);
  CHECK((run.vocabulary.widths() == std::vector<int64_t>{1, 1, 1, 1, 3, 1, 0}));
  CHECK(run.model->embedding->numeric_columns() == 1);
  const auto again = train::evaluate_run(dir, "", "cpu");
  CHECK(again.test.auc == Approx(metrics["auc"].get<double>()).margin(1e-9));
  // Full ranking builds seed-field rows: refused for this run, with the reason.
  CHECK_THROWS_WITH(train::evaluate_run(dir, "", "cpu", "full_ranking"),
                    Catch::Contains("seed's 13 fields") && Catch::Contains("genres"));

  // Without the timestamp field there is no numeric input.
  const std::string dir2 = (tmp.path() / "run2").string();
  auto config2 =
      small_config(dir2, {"data.features=paper", "data.drop_fields=[timestamp]", "train.epochs=1"});
  train::run_experiment(config2, console);
  CHECK(train::load_run(dir2, torch::kCPU).model->embedding->numeric_columns() == 0);
  CHECK_THROWS_WITH(
      train::run_experiment(small_config(dir2 + "x", {"data.drop_fields=[genres]"}), console),
      Catch::Contains("data.drop_fields: \"genres\" is not a field of the seed feature set"));
}

TEST_CASE("early stopping can watch validation AUC instead of logloss", "[train]") {
  test::TempDir tmp;
  std::ostringstream console;
  const auto summary = train::run_experiment(
      small_config(
          (tmp.path() / "run").string(),
          {"train.epochs=8", "train.patience=2", "train.learning_rate=0.05", "train.monitor=auc"}),
      console);
  const auto& h = summary.fit.history;
  REQUIRE(!h.empty());
  int64_t best_epoch = 1;
  double best = h[0].validation_auc;
  for (const auto& s : h) {
    if (s.validation_auc > best) {
      best = s.validation_auc;
      best_epoch = s.epoch;
    }
  }
  CHECK(summary.fit.best_epoch == best_epoch);
  if (summary.fit.stopped_early) {
    CHECK(static_cast<int64_t>(h.size()) == best_epoch + 2);
  }
}

TEST_CASE("the progress lines go to the console the run was given", "[train]") {
  // They went to std::cout whatever console run_experiment was passed.
  test::TempDir tmp;
  std::ostringstream console;
  train::run_experiment(
      small_config((tmp.path() / "run").string(), {"train.epochs=1", "train.progress=lines"}),
      console);
  CHECK_THAT(console.str(), Catch::Matchers::Contains("epoch 1/1 100%  ") &&
                                Catch::Matchers::Contains(" samples/s  loss "));
}

TEST_CASE("fit takes option structs, not a config", "[train]") {
  // A caller without a config file: tensors, FitOptions and a log.
  torch::manual_seed(1);
  const torch::Tensor ids = torch::randint(4, {600, 2});
  const torch::Tensor labels = (ids.select(1, 0) == ids.select(1, 1)).to(torch::kFloat);
  data::PreparedData data;
  data.train.features = ids.slice(0, 0, 400);
  data.train.labels = labels.slice(0, 0, 400);
  data.validation.features = ids.slice(0, 400, 600);
  data.validation.labels = labels.slice(0, 400, 600);
  train::FitOptions options;
  options.train.epochs = 3;
  options.train.batch_size = 100;
  options.train.patience = 5;
  options.train.monitor = "auc";
  config::ModelConfig model_config;
  model_config.num_layers = 1;
  nn::AutoInt model(train::model_options(model_config, {4, 4}));
  std::ostringstream console;
  util::Log log(&console, "");
  const train::FitResult result =
      train::fit(model, data, options, torch::kCPU, log, util::ProgressMode::none);
  REQUIRE(result.history.size() == 3);
  CHECK(result.history.back().epoch == 3);
  CHECK_FALSE(std::isnan(result.history.front().validation_auc));
  CHECK_THAT(console.str(), Catch::Matchers::Contains("epoch 3/3: train loss"));
  // The defaults are the config's: one declaration of each.
  const config::EvalConfig eval;
  CHECK(options.validation_batch_size == eval.batch_size);
  CHECK(options.ranking.k == eval.top_k);
  CHECK(options.ranking.ease_lambda == eval.ease_lambda);
}

TEST_CASE("a custom MovieLens feature set from data.fields trains, reloads and re-evaluates",
          "[train]") {
  test::TempDir tmp;
  const std::string dir = (tmp.path() / "run").string();
  std::ostringstream console;
  const auto config = small_config(
      dir, {"data.features=custom", "train.epochs=1",
            "data.fields=[{name: user, column: UserID, min_count: 30}, {name: genre, column: "
            "Genres, derive: element, index: 0}, {name: genres, column: Genres, kind: multi}, "
            "{name: month, column: Timestamp, derive: utc_month}, {name: age, column: Age, "
            "kind: numeric}]"});
  const auto summary = train::run_experiment(config, console);
  CHECK(summary.evaluation.test.auc > 0.5);
  auto run = train::load_run(dir, torch::kCPU);
  REQUIRE(run.vocabulary.fields().size() == 5);
  CHECK(run.vocabulary.fields()[2].kind == autoint::FieldKind::multi_categorical);
  CHECK(run.model->embedding->numeric_columns() == 1);
  // min_count 30: fewer user ids than users (150 users, 6,000 ratings: ~40 each, some fewer).
  CHECK(run.vocabulary.cardinalities()[0] < 151);
  CHECK(run.vocabulary.cardinalities()[3] <= 13);  // 12 months and the unseen id
  const auto again = train::evaluate_run(dir, "", "cpu");
  CHECK(again.test.auc == Approx(summary.evaluation.test.auc).margin(1e-9));

  CHECK_THROWS_WITH(
      train::run_experiment(
          small_config(dir + "x",
                       {"data.features=custom", "data.fields=[{name: budget, column: Budget}]"}),
          console),
      Catch::Contains("data.fields: field budget: \"Budget\" is not a MovieLens column"));
  CHECK_THROWS_WITH(small_config(dir + "y", {"data.features=custom"}),
                    Catch::Contains("data.features custom needs data.fields"));
  CHECK_THROWS_WITH(
      small_config(dir + "z", {"data.fields=[{name: g, column: Genres}]"}),
      Catch::Contains("data.fields is read only with data.features custom (got data.features "
                      "seed)"));
}
