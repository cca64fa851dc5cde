// Checkpoints and resume: exact continuation, damage detection, the NaN and disk guards.
#include "autoint_catch.h"

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "autoint/config/config.h"
#include "autoint/error.h"
#include "autoint/experiment/experiment.h"
#include "autoint/experiment/run_dir.h"
#include "autoint/train/checkpoint.h"
#include "autoint/util/files.h"
#include "autoint/util/interrupt.h"
#include "test_support.h"
#include "tiny_run.h"

using namespace autoint;
namespace fs = std::filesystem;

namespace {

config::Config tiny_config(const std::string& out, std::vector<std::string> extra = {}) {
  std::vector<std::string> overrides = {
      "data.synthetic.users=120", "data.synthetic.movies=60", "data.synthetic.ratings=4000",
      "train.epochs=3",           "train.batch_size=256",     "train.learning_rate=0.003",
      "train.patience=5"};
  overrides.insert(overrides.end(), extra.begin(), extra.end());
  return test::synthetic_config(out, overrides);
}

nlohmann::json test_metrics(const fs::path& run) {
  std::ifstream in(run / "metrics.json");
  auto metrics = nlohmann::json::parse(in);
  auto history = metrics["run"]["history"];
  metrics.erase("run");  // timings differ between runs
  for (auto& epoch : history) {
    epoch.erase("seconds");
    epoch.erase("samples_per_s");
  }
  metrics["history"] = history;
  return metrics;
}

// Sets AUTOINT_TEST_FAULT for one scope.
class FaultHook {
 public:
  explicit FaultHook(const char* value) { setenv("AUTOINT_TEST_FAULT", value, 1); }
  ~FaultHook() {
    unsetenv("AUTOINT_TEST_FAULT");
    util::clear_interrupt();
  }
};

// One uninterrupted run that the resumed ones must reproduce exactly.
const fs::path& reference_run() {
  static test::TempDir dir("autoint-reference");
  static const fs::path run = [] {
    const fs::path path = dir.path() / "run";
    std::ostringstream console;
    train::run_experiment(tiny_config(path.string()), console);
    return path;
  }();
  return run;
}

void check_same_as_reference(const fs::path& run) {
  CHECK(autoint::test::read_file(run / "model.pt") ==
        autoint::test::read_file(reference_run() / "model.pt"));
  CHECK(test_metrics(run) == test_metrics(reference_run()));
}

}  // namespace

TEST_CASE("every epoch leaves a checkpoint and the older ones are pruned", "[train][checkpoint]") {
  const fs::path dir = reference_run() / "checkpoints";
  CHECK(fs::exists(dir / "epoch-0003.ckpt"));
  CHECK(fs::exists(dir / "epoch-0002.ckpt"));
  CHECK_FALSE(fs::exists(dir / "epoch-0001.ckpt"));  // kKeptEpochCheckpoints == 2
  CHECK(fs::exists(dir / "best.ckpt"));
  CHECK(train::latest_checkpoint(reference_run().string()) == (dir / "epoch-0003.ckpt").string());
  CHECK(train::checkpoint_name(2, 0) == "epoch-0002.ckpt");
  CHECK(train::checkpoint_name(2, 17) == "epoch-0003-step-000017.ckpt");
}

TEST_CASE("an interrupted run resumes to the uninterrupted run's weights and metrics",
          "[train][checkpoint][resume]") {
  test::TempDir tmp;
  const fs::path run = tmp.path() / "run";
  std::ostringstream console;
  {
    // Through the real handler: the hook raises SIGINT after epoch 2's third step.
    FaultHook hook("INT:2:3");
    util::install_interrupt_handler();
    REQUIRE_THROWS_WITH(train::run_experiment(tiny_config(run.string()), console),
                        Catch::Contains("interrupted at epoch 2, step 3; checkpoint written: ") &&
                            Catch::Contains("epoch-0002-step-000003.ckpt"));
    std::signal(SIGINT, SIG_DFL);
  }
  CHECK_FALSE(fs::exists(run / "metrics.json"));
  CHECK(train::latest_checkpoint(run.string()) ==
        (run / "checkpoints" / "epoch-0002-step-000003.ckpt").string());

  train::resume_experiment(run.string(), console);
  check_same_as_reference(run);
  CHECK(console.str().find("resume: from") != std::string::npos);
  // The mid-epoch checkpoint is obsolete once later epochs completed.
  CHECK(train::list_checkpoints(run.string()).size() == 2);
  // A damaged newest checkpoint points to the one before it.
  const fs::path newest = run / "checkpoints" / "epoch-0003.ckpt";
  fs::remove(run / "metrics.json");
  fs::resize_file(newest, 1000);
  REQUIRE_THROWS_WITH(
      train::resume_experiment(run.string(), console),
      Catch::Contains("epoch-0003.ckpt: corrupt or truncated") &&
          Catch::Contains("to resume from the previous checkpoint, " +
                          (run / "checkpoints" / "epoch-0002.ckpt").string() + ", delete it"));
  fs::remove(newest);
  train::resume_experiment(run.string(), console);
  check_same_as_reference(run);

  REQUIRE_THROWS_WITH(
      train::resume_experiment(run.string(), console),
      Catch::Contains("the run already finished") && Catch::Contains("nothing to resume"));
}

TEST_CASE("a NaN loss stops training, keeps the last good checkpoint, and resume works",
          "[train][checkpoint][guard]") {
  test::TempDir tmp;
  const fs::path run = tmp.path() / "run";
  std::ostringstream console;
  {
    FaultHook hook("NAN:2:4");
    REQUIRE_THROWS_WITH(train::run_experiment(tiny_config(run.string()), console),
                        Catch::Contains("the loss became nan at epoch 2, step 4") &&
                            Catch::Contains("the last good checkpoint is") &&
                            Catch::Contains("epoch-0001.ckpt"));
  }
  const fs::path good = run / "checkpoints" / "epoch-0001.ckpt";
  REQUIRE(train::list_checkpoints(run.string()) == std::vector<std::string>{good.string()});
  CHECK_FALSE(fs::exists(run / "model.pt"));
  const std::string intact = autoint::test::read_file(good);

  SECTION("a truncated checkpoint is reported with both sizes") {
    fs::resize_file(good, intact.size() - 100);
    REQUIRE_THROWS_WITH(train::resume_experiment(run.string(), console),
                        Catch::Contains("epoch-0001.ckpt: corrupt or truncated") &&
                            Catch::Contains("the header says") &&
                            Catch::Contains("nothing was loaded"));
  }
  SECTION("a flipped byte is reported with both hashes") {
    std::string bytes = intact;
    bytes[bytes.size() / 2] ^= 1;
    test::write_file(good, bytes);
    REQUIRE_THROWS_WITH(train::resume_experiment(run.string(), console),
                        Catch::Contains("epoch-0001.ckpt: corrupt: FNV-1a hash") &&
                            Catch::Contains("differs from the header's"));
  }
  SECTION("a file that is not a checkpoint") {
    test::write_file(good, "PK\x03\x04 something else");
    REQUIRE_THROWS_WITH(train::resume_experiment(run.string(), console),
                        Catch::Contains("epoch-0001.ckpt: not an autoint checkpoint"));
  }
  SECTION("the intact checkpoint resumes to the uninterrupted result") {
    train::resume_experiment(run.string(), console);
    check_same_as_reference(run);
  }
}

TEST_CASE("a run that died before its first checkpoint resumes from the start",
          "[train][checkpoint][resume]") {
  test::TempDir tmp;
  const fs::path run = tmp.path() / "run";
  std::ostringstream console;
  {
    FaultHook hook("NAN:1:2");
    REQUIRE_THROWS_WITH(
        train::run_experiment(tiny_config(run.string()), console),
        Catch::Contains("at epoch 1, step 2") && !Catch::Contains("last good checkpoint"));
  }
  train::resume_experiment(run.string(), console);
  CHECK(console.str().find("no checkpoint was written yet") != std::string::npos);
  check_same_as_reference(run);
}

TEST_CASE("resume refuses what is not an unfinished run", "[train][resume]") {
  test::TempDir tmp;
  std::ostringstream console;
  REQUIRE_THROWS_WITH(train::resume_experiment((tmp.path() / "none").string(), console),
                      Catch::Contains("none: run directory does not exist"));
  REQUIRE_THROWS_WITH(train::resume_experiment(tmp.str(), console),
                      Catch::Contains("config.yaml: missing"));
  FaultHook hook("BOOM:1:1");
  REQUIRE_THROWS_WITH(
      train::run_experiment(tiny_config((tmp.path() / "run").string()), console),
      Catch::Contains("AUTOINT_TEST_FAULT=\"BOOM:1:1\": expected KILL, INT or NAN"));
}

TEST_CASE("disk guards: free space and atomic writes", "[train][guard]") {
  test::TempDir tmp;
  REQUIRE_NOTHROW(train::check_free_space(tmp.str(), 1));
  REQUIRE_THROWS_WITH(train::check_free_space(tmp.str(), uint64_t{1} << 62),
                      Catch::Contains(tmp.str() + ": only") &&
                          Catch::Contains("MiB free, but this run writes about"));

  const fs::path file = tmp.path() / "metrics.json";
  util::write_file_atomically(file.string(), "old");
  // A directory where the temporary file goes makes the write fail like a full disk would.
  fs::create_directory(tmp.path() / "metrics.json.tmp");
  REQUIRE_THROWS_WITH(util::write_file_atomically(file.string(), "new"),
                      Catch::Contains("metrics.json.tmp: cannot open for writing"));
  CHECK(autoint::test::read_file(file) == "old");
  fs::remove(tmp.path() / "metrics.json.tmp");
  util::write_file_atomically(file.string(), "new");
  CHECK(autoint::test::read_file(file) == "new");
  CHECK_FALSE(fs::exists(tmp.path() / "metrics.json.tmp"));
}

TEST_CASE("an interrupted CUDA run resumes to the uninterrupted run's metrics",
          "[.][train][cuda]") {
  // ctest runs the [cuda] tests (unit.cuda) only where CUDA is, else reports a skip.
  REQUIRE(torch::cuda::is_available());
  test::TempDir tmp;
  std::ostringstream console;
  const fs::path reference = tmp.path() / "reference";
  train::run_experiment(tiny_config(reference.string(), {"device=cuda"}), console);
  const fs::path run = tmp.path() / "run";
  {
    FaultHook hook("INT:2:3");
    util::install_interrupt_handler();
    REQUIRE_THROWS_AS(train::run_experiment(tiny_config(run.string(), {"device=cuda"}), console),
                      Interrupted);
    std::signal(SIGINT, SIG_DFL);
  }
  train::resume_experiment(run.string(), console);
  // Bit-identity is claimed on the CPU only (some CUDA kernels are not deterministic).
  const auto expected = test_metrics(reference);
  const auto actual = test_metrics(run);
  for (const char* key : {"auc", "logloss", "ndcg@10"}) {
    INFO(key);
    CHECK(actual[key].get<double>() == Approx(expected[key].get<double>()).margin(1e-3));
  }
}
