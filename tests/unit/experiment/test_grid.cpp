// Grids and repeats: parsing and bad grids, expansion (names, counts, seeds), mean and
// standard deviation, and a tiny grid end to end that resumes after an interruption.
#include "autoint_catch.h"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "autoint/config/config.h"
#include "autoint/error.h"
#include "autoint/experiment/grid.h"
#include "test_support.h"

using namespace autoint;
namespace fs = std::filesystem;

namespace {

const char* kGridYaml =
    "data:\n"
    "  source: synthetic\n"
    "grid:\n"
    "  model.embed_dim: [8, 16]\n"
    "  model.dropout: [0.2, 0.4]\n"
    "  model.dnn_hidden_units: [[64, 32]]\n";

std::string grid_error(const std::string& yaml) {
  try {
    config::parse_config(yaml, "grid.yaml");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("a grid section parses into axes and survives to_yaml", "[grid]") {
  const auto c = config::parse_config(kGridYaml, "grid.yaml", {"repeats=3"});
  REQUIRE(c.grid.size() == 3);
  CHECK(c.grid[0].key == "model.embed_dim");
  CHECK(c.grid[0].values == std::vector<std::string>{"8", "16"});
  CHECK(c.grid[1].values == std::vector<std::string>{"0.2", "0.4"});
  CHECK(c.grid[2].values == std::vector<std::string>{"[64, 32]"});
  CHECK(c.repeats == 3);
  const auto again = config::parse_config(config::to_yaml(c), "again.yaml");
  CHECK(config::to_yaml(again) == config::to_yaml(c));
  CHECK(again.grid.size() == 3);
}

TEST_CASE("bad grids are config errors naming the key and line", "[grid]") {
  CHECK_THAT(grid_error("grid:\n  model.embed_dm: [8, 16]\n"),
             Catch::Contains("grid.yaml:2:3") && Catch::Contains("unknown key \"model.embed_dm\""));
  CHECK_THAT(grid_error("grid:\n  model.dropout: []\n"),
             Catch::Contains("grid.model.dropout must be a non-empty list"));
  CHECK_THAT(
      grid_error("grid:\n  model.dropout: 0.2\n"),
      Catch::Contains("grid.model.dropout must be a non-empty list") && Catch::Contains("0.2"));
  CHECK_THAT(grid_error("grid:\n  model.num_heads: [2, 0]\n"),
             Catch::Contains("grid.yaml:2:24") && Catch::Contains("model.num_heads") &&
                 Catch::Contains("got 0"));
  CHECK_THAT(grid_error("grid:\n  train.batch_size: [abc]\n"),
             Catch::Contains("train.batch_size") && Catch::Contains("abc"));
  CHECK_THAT(grid_error("grid: [8, 16]\n"), Catch::Contains("grid must be a map"));
  CHECK_THAT(grid_error("grid:\n"), Catch::Contains("grid must be a map"));
  CHECK_THAT(grid_error("grid:\n  output.dir: [a, b]\n"),
             Catch::Contains("grid.output.dir cannot be a grid axis"));
  CHECK_THAT(grid_error("grid:\n  repeats: [1, 2]\n"),
             Catch::Contains("grid.repeats cannot be a grid axis"));
  CHECK_THAT(grid_error("repeats: 0\n"), Catch::Contains("repeats must be in [1, 1000] (got 0)"));
}

TEST_CASE("expand_grid makes the Cartesian product times repeats", "[grid]") {
  const auto c = config::parse_config(kGridYaml, "grid.yaml",
                                      {"repeats=2", "train.seed=10", "output.dir=out/g"});
  const auto points = train::expand_grid(c, "grid.yaml");
  REQUIRE(points.size() == 2 * 2 * 1 * 2);
  // The first axis varies slowest, repeats fastest.
  CHECK(points[0].name == "embed_dim=8,dropout=0.2,dnn_hidden_units=64-32,seed=10");
  CHECK(points[1].name == "embed_dim=8,dropout=0.2,dnn_hidden_units=64-32,seed=11");
  CHECK(points[2].name == "embed_dim=8,dropout=0.4,dnn_hidden_units=64-32,seed=10");
  CHECK(points[7].name == "embed_dim=16,dropout=0.4,dnn_hidden_units=64-32,seed=11");
  CHECK(points[7].config.model.embed_dim == 16);
  CHECK(points[7].config.model.dropout == 0.4);
  CHECK(points[7].config.model.dnn_hidden_units == std::vector<int64_t>{64, 32});
  CHECK(points[7].config.train.seed == 11);
  CHECK(points[7].combination == 3);
  CHECK(points[7].repeat == 1);
  CHECK(points[7].config.data.split_seed == c.data.split_seed);  // the split stays
  CHECK(fs::path(points[7].config.output.dir) == fs::path("out/g") / points[7].name);
  CHECK(points[7].config.grid.empty());
  CHECK(points[7].config.repeats == 1);

  // Without repeats there is no seed in the name; without a grid, repeats alone.
  const auto one = config::parse_config("data:\n  source: synthetic\n", "r.yaml", {"repeats=3"});
  const auto seeds = train::expand_grid(one, "r.yaml");
  REQUIRE(seeds.size() == 3);
  CHECK(seeds[2].name == "seed=44");
  const auto single = config::parse_config(
      "data:\n  source: synthetic\ngrid:\n  train.learning_rate: [0.001]\n", "s.yaml");
  REQUIRE(train::expand_grid(single, "s.yaml").size() == 1);
  CHECK(train::expand_grid(single, "s.yaml")[0].name == "learning_rate=0.001");

  // Axes sharing a last key part are named in full.
  const auto shared = config::parse_config(
      "data:\n  source: synthetic\ngrid:\n  train.seed: [1, 2]\n  data.synthetic.seed: [3]\n",
      "x.yaml");
  CHECK(train::expand_grid(shared, "x.yaml")[1].name == "train.seed=2,data.synthetic.seed=3");
}

TEST_CASE("a grid combination that breaks a cross-field rule is named", "[grid]") {
  const auto c = config::parse_config(
      "data:\n  source: synthetic\nmodel:\n  attention_kernel: fused\n"
      "grid:\n  model.attention_dropout: [0.0, 0.1]\n",
      "g.yaml");
  REQUIRE_THROWS_AS(train::expand_grid(c, "g.yaml"), ConfigError);
  REQUIRE_THROWS_WITH(
      train::expand_grid(c, "g.yaml"),
      Catch::Contains("grid combination model.attention_dropout=0.1") && Catch::Contains("fused"));
}

TEST_CASE("mean_std gives the mean and the sample standard deviation", "[grid]") {
  const auto s = train::mean_std({0.6, 0.7, 0.8});
  CHECK(s.mean == Approx(0.7));
  CHECK(s.std == Approx(0.1));
  CHECK(s.n == 3);
  CHECK(train::mean_std({0.5}).std == 0.0);
  CHECK(train::mean_std({}).n == 0);
}

TEST_CASE("a tiny grid runs end to end and resumes after an interruption", "[grid][train]") {
  test::TempDir tmp;
  const std::string dir = (tmp.path() / "grid").string();
  const std::vector<std::string> overrides = {"data.synthetic.users=120",
                                              "data.synthetic.movies=60",
                                              "data.synthetic.ratings=3000",
                                              "train.epochs=1",
                                              "train.batch_size=256",
                                              "train.threads=1",
                                              "train.progress=none",
                                              "device=cpu",
                                              "repeats=2",
                                              "output.dir=" + dir};
  const auto c = config::parse_config(
      "data:\n  source: synthetic\ngrid:\n  model.embed_dim: [4, 8]\n", "tiny.yaml", overrides);
  std::ostringstream console;
  const auto first = train::run_grid(c, "tiny.yaml", console);
  CHECK(first.runs == 4);
  CHECK(first.trained == 4);
  CHECK(first.skipped == 0);
  const std::string csv = autoint::test::read_file(fs::path(dir) / "results.csv");
  CHECK(std::count(csv.begin(), csv.end(), '\n') == 5);
  const std::string md = autoint::test::read_file(fs::path(dir) / "results.md");
  CHECK_THAT(md, Catch::Contains("| embed_dim |") && Catch::Contains(" ± ") &&
                     Catch::Contains("movie_mean") && Catch::Contains("2/2"));
  const auto json = nlohmann::json::parse(autoint::test::read_file(fs::path(dir) / "results.json"));
  REQUIRE(json["combinations"].size() == 2);
  CHECK(json["combinations"][0]["metrics"]["auc"]["n"] == 2);
  CHECK(json["runs"].size() == 4);

  // An interrupted grid: the last run never finished. Re-running trains only that one
  // and gives the same table.
  const fs::path last = fs::path(dir) / "embed_dim=8,seed=43";
  REQUIRE(fs::exists(last / "metrics.json"));
  fs::remove(last / "metrics.json");
  std::ostringstream again;
  const auto second = train::run_grid(c, "tiny.yaml", again);
  CHECK(second.trained == 1);
  CHECK(second.skipped == 3);
  // Its checkpoint survived the interruption, so it continued from there.
  CHECK_THAT(again.str(),
             Catch::Contains("embed_dim=8,seed=43 (resuming from its last checkpoint)"));
  CHECK(autoint::test::read_file(fs::path(dir) / "results.csv").size() > 0);
  CHECK(second.table.substr(0, second.table.find('\n')) ==
        first.table.substr(0, first.table.find('\n')));

  // The results table of docs/results.md, from the same runs: a row per combination, then
  // the first run's baselines.
  const std::string table =
      train::results_table({{"tiny", dir}}, {dir}, {"auc", "epochs_run", "epochs_by_seed"});
  CHECK_THAT(table, Catch::StartsWith("| run | auc | epochs_run | epochs_by_seed |\n"
                                      "| --- | --- | --- | --- |\n"
                                      "| tiny (embed_dim 4) | 0."));
  CHECK_THAT(table, Catch::Contains(" ± ") && Catch::Contains("| 1.0 ± 0.0 | 1 of 1, 1 of 1 |") &&
                        Catch::Contains("| tiny (embed_dim 8) |") &&
                        Catch::Contains("| movie_mean | 0.") && Catch::Contains("| — | — |"));

  // A moved grid directory still resumes: the runs' output.dir does not count.
  const std::string moved = (tmp.path() / "moved").string();
  fs::rename(dir, moved);
  auto relocated = c;
  relocated.output.dir = moved;
  std::ostringstream third;
  CHECK(train::run_grid(relocated, "tiny.yaml", third).skipped == 4);
  fs::rename(moved, dir);

  // A changed base config must not reuse the old runs.
  auto changed = c;
  changed.train.learning_rate = 0.01;
  REQUIRE_THROWS_AS(train::run_grid(changed, "tiny.yaml", again), RunError);
  REQUIRE_THROWS_WITH(train::run_grid(changed, "tiny.yaml", again),
                      Catch::Contains("config differs"));
}

TEST_CASE("a grid larger than max_runs is refused before it is expanded", "[grid]") {
  // 100^4 = 10^8 combinations: expanding them would take hours and gigabytes.
  std::string values = "[";
  for (int i = 1; i <= 100; ++i)
    values += std::to_string(i) + (i < 100 ? ", " : "]");
  const std::string yaml = std::string("data:\n  source: synthetic\ngrid:\n") +
                           "  train.epochs: " + values + "\n  train.batch_size: " + values +
                           "\n  model.embed_dim: " + values + "\n  data.split_seed: " + values +
                           "\n";
  const auto c = config::parse_config(yaml, "big.yaml", {"repeats=3"});
  const auto start = std::chrono::steady_clock::now();
  CHECK_THROWS_WITH(train::expand_grid(c, "big.yaml"),
                    Catch::Contains("big.yaml: the grid has 100 x 100 x 100 x 100 combinations x 3 "
                                    "repeats, more than max_runs 10000"));
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(1));
  // At the limit: 100 x 100 = 10,000 runs expand (the name check is a hash lookup, not a scan
  // of the runs before).
  const std::string at_limit = std::string("data:\n  source: synthetic\ngrid:\n") +
                               "  train.epochs: " + values + "\n  data.split_seed: " + values +
                               "\n";
  const auto points = train::expand_grid(config::parse_config(at_limit, "ok.yaml"), "ok.yaml");
  CHECK(points.size() == 10000);
  CHECK(points.back().name == "epochs=100,split_seed=100");
}

TEST_CASE("results_table reads runs and grids and names what it cannot use", "[grid]") {
  test::TempDir tmp;
  const fs::path run = tmp.path() / "run";
  fs::create_directories(run);
  test::write_file(run / "metrics.json",
                   R"({"auc": 0.81234, "logloss": 0.4, "auc_note": "text", "users": 7,
                       "baselines": {"popularity": {"auc": 0.7, "logloss": null}},
                       "run": {"epochs_run": 12, "best_epoch": 7}})");
  const fs::path grid = tmp.path() / "grid";
  std::string runs;
  for (int seed : {42, 43}) {
    const std::string name = "seed=" + std::to_string(seed);
    fs::create_directories(grid / name);
    test::write_file(grid / name / "metrics.json",
                     "{\"auc\": " + std::to_string(0.8 + (seed - 42) * 0.01) +
                         R"(, "run": {"epochs_run": )" + std::to_string(10 + seed - 42) +
                         R"(, "best_epoch": 5}})");
    runs += std::string(runs.empty() ? "" : ",") + R"({"name": ")" + name +
            R"(", "settings": {}, "seed": )" + std::to_string(seed) + R"(, "finished": true})";
  }
  test::write_file(grid / "results.json", R"({"runs": [)" + runs + "]}");

  CHECK(train::results_table({{"one", run.string()}, {"a | b", grid.string()}}, {run.string()},
                             {"auc", "logloss", "best_epoch", "epochs_by_seed"}) ==
        "| run | auc | logloss | best_epoch | epochs_by_seed |\n"
        "| --- | --- | --- | --- | --- |\n"
        "| one | 0.8123 | 0.4000 | 7.0 | 7 of 12 |\n"
        "| a \\| b | 0.8050 ± 0.0071 | — | 5.0 ± 0.0 | 5 of 10, 5 of 11 |\n"
        "| popularity | 0.7000 | — | — | — |\n");

  CHECK_THROWS_WITH(train::results_table({{"one", run.string()}}, {}, {"auc", "ndcg@7"}),
                    Catch::Contains("unknown column ndcg@7; these runs have: epochs_run, "
                                    "best_epoch, epochs_by_seed, auc, logloss"));
  CHECK_THROWS_WITH(
      train::results_table({{"none", (tmp.path() / "nothing").string()}}, {}, {"auc"}),
      Catch::Contains("nothing: neither a finished run (no metrics.json) nor a grid "
                      "directory (no results.json)"));
  test::write_file(
      grid / "results.json",
      R"({"runs": [{"name": "seed=42", "settings": {}, "seed": 42, "finished": false}]})");
  CHECK_THROWS_WITH(train::results_table({{"g", grid.string()}}, {}, {"auc"}),
                    Catch::Contains("run seed=42 is not finished"));
  test::write_file(grid / "results.json", R"({"runs": [{"name": "seed=42"}]})");
  CHECK_THROWS_AS(train::results_table({{"g", grid.string()}}, {}, {"auc"}), RunError);
}
