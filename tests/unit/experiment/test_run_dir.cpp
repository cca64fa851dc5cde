// Run directories are owned, locked and checked: what autoint-train may write into, the
// manifest of every file, weights checked against the model, and the data fingerprint.
#include "autoint_catch.h"

#include <unistd.h>

#include <filesystem>
#include <map>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "autoint/config/config.h"
#include "autoint/error.h"
#include "autoint/experiment/experiment.h"
#include "autoint/experiment/pipeline.h"
#include "autoint/experiment/run_dir.h"
#include "autoint/movielens/format.h"
#include "autoint/movielens/synthetic.h"
#include "autoint/recommend/recommender.h"
#include "autoint/train/checkpoint.h"
#include "autoint/util/files.h"
#include "test_support.h"
#include "tiny_run.h"

using namespace autoint;
namespace fs = std::filesystem;

namespace {

config::Config run_dir_config(const std::string& out, std::vector<std::string> extra = {}) {
  std::vector<std::string> overrides = {"data.synthetic.users=60", "data.synthetic.movies=80",
                                        "data.synthetic.ratings=2000", "train.epochs=1",
                                        "train.batch_size=256"};
  overrides.insert(overrides.end(), extra.begin(), extra.end());
  return test::synthetic_config(out, overrides);
}

// A copy of the shared tiny run, to damage.
std::string copy_of_tiny_run(const test::TempDir& tmp) {
  const std::string dir = (tmp.path() / "copy").string();
  fs::copy(test::tiny_run_dir(), dir, fs::copy_options::recursive);
  return dir;
}

// Every file under `dir` with its bytes.
std::map<std::string, std::string> snapshot(const fs::path& dir) {
  std::map<std::string, std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file())
      files[fs::relative(entry.path(), dir).string()] = test::read_file(entry.path());
  }
  return files;
}

nlohmann::json read_manifest(const std::string& dir) {
  return nlohmann::json::parse(test::read_file(fs::path(dir) / "manifest.json"));
}

}  // namespace

TEST_CASE("training refuses a directory that is not an autoint run and changes nothing",
          "[train][run_dir]") {
  test::TempDir tmp;
  const fs::path dir = tmp.path() / "thesis";
  fs::create_directories(dir / "checkpoints" / "sub");
  test::write_file(dir / "checkpoints" / "sub" / "thesis.tex", "\\chapter{One}");
  test::write_file(dir / "config.yaml", "mine: true\n");
  test::write_file(dir / "metrics.json", "{}");
  test::write_file(dir / "train.log", "my notes\n");
  const auto before = snapshot(dir);
  std::ostringstream console;
  REQUIRE_THROWS_WITH(train::run_experiment(run_dir_config(dir.string()), console),
                      Catch::Contains(dir.string() + ": holds 4 file(s) or folder(s)") &&
                          Catch::Contains("checkpoints, config.yaml, metrics.json, train.log") &&
                          Catch::Contains("is not an autoint run"));
  CHECK(snapshot(dir) == before);
  CHECK_FALSE(fs::exists(dir / "run.lock"));

  SECTION("a regular file is no directory") {
    REQUIRE_THROWS_WITH(
        train::check_output_dir((dir / "train.log").string(), train::OutputKind::run),
        Catch::Contains("exists and is not a directory"));
  }
  SECTION("new, empty and autoint-run directories are accepted") {
    CHECK_NOTHROW(train::check_output_dir((tmp.path() / "new").string(), train::OutputKind::run));
    fs::create_directories(tmp.path() / "empty");
    CHECK_NOTHROW(train::check_output_dir((tmp.path() / "empty").string(), train::OutputKind::run));
    CHECK_NOTHROW(train::check_output_dir(test::tiny_run_dir(), train::OutputKind::run));
  }
  SECTION("a grid directory needs its grid.yaml") {
    REQUIRE_THROWS_WITH(train::check_output_dir(dir.string(), train::OutputKind::grid),
                        Catch::Contains("is not an autoint grid"));
    test::write_file(dir / "grid.yaml", "grid: {}\n");
    CHECK_NOTHROW(train::check_output_dir(dir.string(), train::OutputKind::grid));
  }
}

TEST_CASE("a data error leaves a finished run's files untouched", "[train][run_dir]") {
  test::TempDir tmp;
  const std::string dir = copy_of_tiny_run(tmp);
  const auto before = snapshot(dir);
  auto config = run_dir_config(dir, {"data.source=movielens", "data.dir=/nonexistent/ml-1m"});
  std::ostringstream console;
  REQUIRE_THROWS_AS(train::run_experiment(config, console), DataError);
  CHECK(snapshot(dir) == before);
  CHECK_NOTHROW(train::load_run(dir, torch::kCPU));
}

TEST_CASE("replacing an autoint run removes only what autoint wrote", "[train][run_dir]") {
  test::TempDir tmp;
  const std::string dir = copy_of_tiny_run(tmp);
  const fs::path notes = fs::path(dir) / "checkpoints" / "notes.txt";
  test::write_file(notes, "keep me");
  std::ostringstream console;
  train::run_experiment(run_dir_config(dir), console);
  CHECK(test::read_file(notes) == "keep me");
  CHECK_NOTHROW(train::load_run(dir, torch::kCPU));
}

TEST_CASE("a second writer of a run directory fails at once, naming the first",
          "[train][run_dir]") {
  test::TempDir tmp;
  const std::string dir = (tmp.path() / "run").string();
  fs::create_directories(dir);
  const train::RunLock first(dir);
  std::ostringstream console;
  REQUIRE_THROWS_WITH(train::run_experiment(run_dir_config(dir), console),
                      Catch::Contains(fmt::format("{}: in use by another autoint process (pid {})",
                                                  dir, ::getpid())));
  CHECK_THROWS_AS(train::RunLock(dir), RunError);
  // Nothing of the second run reached the directory.
  CHECK_FALSE(fs::exists(fs::path(dir) / "config.yaml"));
  CHECK_FALSE(fs::exists(fs::path(dir) / "train.log"));
}

TEST_CASE("the manifest lists every file, so another run's train.log is noticed",
          "[train][run_dir]") {
  test::TempDir tmp;
  const std::string dir = copy_of_tiny_run(tmp);
  const auto manifest = read_manifest(dir);
  CHECK(manifest["complete"] == true);
  for (const char* name : {"config.yaml", "vocabulary.txt", "model.pt", "metrics.json", "train.log",
                           "checkpoints/best.ckpt", "checkpoints/epoch-0001.ckpt"}) {
    INFO(name);
    CHECK(manifest["files"].contains(name));
  }
  CHECK_FALSE(manifest["files"].contains("run.lock"));
  CHECK_FALSE(manifest["files"].contains("manifest.json"));
  REQUIRE(manifest.contains("data"));
  CHECK(manifest["data"]["ratings"] == 2000);

  test::write_file(fs::path(dir) / "train.log", "another run's log\n");
  REQUIRE_THROWS_WITH(train::load_run(dir, torch::kCPU),
                      Catch::Contains("train.log: corrupt or truncated"));
}

TEST_CASE("an unfinished run is an autoint run that load_run refuses", "[train][run_dir]") {
  test::TempDir tmp;
  const std::string dir = copy_of_tiny_run(tmp);
  train::write_started_manifest(dir);
  CHECK_NOTHROW(train::check_output_dir(dir, train::OutputKind::run));
  REQUIRE_THROWS_WITH(train::load_run(dir, torch::kCPU),
                      Catch::Contains("the run has not finished") &&
                          Catch::Contains("autoint-train --resume " + dir));
}

TEST_CASE("weights of another shape are refused before any forward pass", "[train][run_dir]") {
  test::TempDir tmp;
  const std::string dir = copy_of_tiny_run(tmp);
  auto run = train::load_run(dir, torch::kCPU);

  SECTION("a model.pt of another embed_dim, with a re-hashed manifest") {
    auto options = train::model_options(run.config.model, run.vocabulary);
    options.embed_dim(options.embed_dim() * 2);
    nn::AutoInt other(options);
    torch::save(other, (fs::path(dir) / "model.pt").string());
    train::write_manifest(dir, run.data);
    REQUIRE_THROWS_WITH(train::load_run(dir, torch::kCPU),
                        Catch::Contains("model.pt: parameter ") &&
                            Catch::Contains(", but the model built from the run's config and "
                                            "vocabulary expects ["));
  }
  SECTION("a checkpoint of the same config trained on other data") {
    const std::string other_dir = (tmp.path() / "other").string();
    std::ostringstream console;
    train::run_experiment(run_dir_config(other_dir, {"data.synthetic.movies=50"}), console);
    torch::optim::Adam optimizer(run.model->parameters());
    const auto checkpoint = train::latest_checkpoint(other_dir);
    REQUIRE_FALSE(checkpoint.empty());
    REQUIRE_THROWS_WITH(
        train::load_checkpoint(checkpoint, run.model, optimizer, torch::kCPU),
        Catch::Contains(checkpoint + ": parameter ") && Catch::Contains("has shape ["));
  }
  SECTION("load_weights names a missing tensor") {
    torch::nn::Linear small(3, 2);
    torch::serialize::OutputArchive out;
    small->save(out);
    std::ostringstream bytes;
    out.save_to(bytes);
    const std::string payload = bytes.str();
    torch::serialize::InputArchive in;
    in.load_from(payload.data(), payload.size());
    torch::nn::Bilinear other(3, 3, 2);
    REQUIRE_THROWS_WITH(train::load_weights(*other, in, "weights.pt"),
                        Catch::Contains("weights.pt: parameter weight has shape [2, 3], but") &&
                            Catch::Contains("expects [2, 3, 3]"));
  }
}

TEST_CASE("evaluating or recommending with other data is an error unless allowed",
          "[train][run_dir]") {
  test::TempDir tmp;
  data::SyntheticOptions options;
  options.users = 60;
  options.movies = 80;
  options.ratings = 2000;
  const auto trained_on = data::generate_synthetic(options);
  options.seed = 43;
  const auto other = data::generate_synthetic(options);
  const std::string data_dir = (tmp.path() / "data").string();
  const std::string other_dir = (tmp.path() / "other").string();
  data::write_movielens(trained_on, data_dir);
  data::write_movielens(other, other_dir);
  CHECK(data::fingerprint(trained_on) == data::fingerprint(data::read_movielens(data_dir)));
  CHECK(data::fingerprint(trained_on) != data::fingerprint(other));

  const std::string run_dir = (tmp.path() / "run").string();
  std::ostringstream console;
  train::run_experiment(run_dir_config(run_dir, {"data.source=movielens", "data.dir=" + data_dir}),
                        console);

  CHECK(train::evaluate_run(run_dir, "", "cpu").warnings.empty());
  REQUIRE_THROWS_WITH(train::evaluate_run(run_dir, other_dir, "cpu"),
                      Catch::Contains(run_dir +
                                      " was trained on other data (60 users, 80 movies, "
                                      "2000 ratings, fnv1a64 " +
                                      data::fingerprint(trained_on).fnv1a64) &&
                          Catch::Contains("--allow-other-data"));
  const auto allowed = train::evaluate_run(run_dir, other_dir, "cpu", "", true);
  REQUIRE(allowed.warnings.size() == 1);
  CHECK(train::format_evaluation(allowed).rfind("warning: " + run_dir + " was trained on other",
                                                0) == 0);

  REQUIRE_THROWS_WITH(recommend::Recommender::from_run(run_dir, torch::kCPU, other_dir),
                      Catch::Contains("was trained on other data"));
  const auto recommender = recommend::Recommender::from_run(run_dir, torch::kCPU, other_dir, true);
  CHECK(recommender.warning().find("was trained on other data") != std::string::npos);
  CHECK(recommend::Recommender::from_run(run_dir, torch::kCPU).warning().empty());
}

TEST_CASE("resuming refuses a run directory whose files are symbolic links", "[run_dir]") {
  // Before: the log was appended to the link's target and checkpoints written into a linked
  // directory outside the run, exit code 0.
  test::TempDir tmp("autoint-resume-links");
  const fs::path run = tmp.path() / "run";
  const fs::path outside = tmp.path() / "victim.txt";
  fs::create_directories(run);
  util::write_file_atomically(outside.string(), "not a log\n");
  fs::create_symlink(outside, run / "train.log");
  std::ostringstream console;
  CHECK_THROWS_WITH(train::resume_experiment(run.string(), console),
                    Catch::Contains("train.log: a symbolic link (to " + outside.string()));
  fs::remove(run / "train.log");
  fs::create_directories(tmp.path() / "elsewhere");
  fs::create_directory_symlink(tmp.path() / "elsewhere", run / "checkpoints");
  CHECK_THROWS_WITH(train::resume_experiment(run.string(), console),
                    Catch::Contains("checkpoints: a symbolic link"));
  CHECK(test::read_file(outside) == "not a log\n");
}

TEST_CASE("a model far beyond the machine's memory is refused before anything is written",
          "[run_dir]") {
  // Before: LibTorch's "you tried to allocate 832000000000 bytes" naming no key, and an
  // unfinished run directory left behind.
  test::TempDir tmp("autoint-too-big");
  const std::string out = (tmp.path() / "run").string();
  const auto config = test::synthetic_config(out, {"model.dnn_hidden_units=[1000000000]"});
  std::ostringstream console;
  CHECK_THROWS_AS(train::run_experiment(config, console), ConfigError);
  CHECK_THROWS_WITH(
      train::run_experiment(config, console),
      Catch::Contains("model.dnn_hidden_units [1000000000]") && Catch::Contains("GiB available"));
  CHECK_FALSE(fs::exists(out));
  // The estimate grows with what sizes the model, and a small model is far below a GiB.
  const auto small = nn::AutoIntOptions({100, 50}).embed_dim(8);
  const auto wide = nn::AutoIntOptions({100, 50}).embed_dim(8).dnn_hidden_units({4096, 4096});
  CHECK(nn::estimated_training_bytes(small, 1024) < 1e8);
  CHECK(nn::estimated_training_bytes(wide, 1024) > nn::estimated_training_bytes(small, 1024));
  CHECK(nn::estimated_training_bytes(small, 4096) > nn::estimated_training_bytes(small, 1024));
}
