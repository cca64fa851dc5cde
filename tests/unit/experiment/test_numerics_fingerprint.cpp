// The numerics fingerprint (experiment/numerics_fingerprint.h): deterministic, cut to its slice and
// steps, and moved by each of the deliberate numerics changes docs/scripts/results.sh --check
// is tested with.
#include "autoint_catch.h"

#include <cstdlib>
#include <string>

#include <nlohmann/json.hpp>

#include "autoint/error.h"
#include "autoint/experiment/numerics_fingerprint.h"
#include "tiny_run.h"

using namespace autoint;

namespace {

config::Config fingerprint_config(std::vector<std::string> overrides) {
  overrides.insert(overrides.end(), {"data.synthetic.users=80", "data.synthetic.movies=300",
                                     "data.synthetic.ratings=3000", "train.batch_size=64"});
  return test::synthetic_config("unused", overrides);
}

// A short fingerprint: users 1..40, 3 steps per epoch.
train::FingerprintOptions short_options() {
  train::FingerprintOptions options;
  options.users = 40;
  options.steps = 3;
  return options;
}

}  // namespace

TEST_CASE("a numerics fingerprint is deterministic and cut to its slice", "[train]") {
  const auto config = fingerprint_config({});
  train::FingerprintOptions options = short_options();
  const std::string first = train::numerics_fingerprint(config, options);
  CHECK(train::numerics_fingerprint(config, options) == first);

  const auto json = nlohmann::json::parse(first);
  CHECK(json["slice"]["steps"] == 3);
  CHECK(json["history"].size() == 2);  // the config's 5 epochs cut to the default 2
  CHECK(json["test_probabilities"]["first"].size() == 24);
  CHECK(json["top"]["1"].size() == 10);
  // Only users 1..40 rated: the split holds fewer rows than the 3,000 ratings.
  const int64_t rows = json["slice"]["train_rows"].get<int64_t>() +
                       json["slice"]["validation_rows"].get<int64_t>() +
                       json["slice"]["test_rows"].get<int64_t>();
  CHECK(rows < 3000);
  CHECK(rows > 0);
  // A longer run is another fingerprint: the steps are honoured.
  options.steps = 4;
  CHECK(train::numerics_fingerprint(config, options) != first);
}

TEST_CASE("each deliberate numerics change moves the fingerprint", "[train]") {
  const auto config = fingerprint_config({});
  train::FingerprintOptions options = short_options();
  const std::string plain = train::numerics_fingerprint(config, options);
  for (const auto change :
       {train::NumericsChange::initial_weight, train::NumericsChange::extra_step}) {
    const auto moved = nlohmann::json::parse(train::numerics_fingerprint(config, options, change));
    const auto base = nlohmann::json::parse(plain);
    CHECK(moved["config_fnv1a64"] == base["config_fnv1a64"]);
    CHECK(moved["slice"] == base["slice"]);
    CHECK(moved["history"] != base["history"]);
    CHECK(moved["test_probabilities"] != base["test_probabilities"]);
  }
}

TEST_CASE("a config change moves the fingerprint's config hash, its paths do not", "[train]") {
  train::FingerprintOptions options = short_options();
  options.steps = 1;
  options.epochs = 1;
  const auto base =
      nlohmann::json::parse(train::numerics_fingerprint(fingerprint_config({}), options));
  const auto moved = nlohmann::json::parse(
      train::numerics_fingerprint(fingerprint_config({"train.epochs=7"}), options));
  CHECK(moved["config_fnv1a64"] != base["config_fnv1a64"]);
  CHECK(moved["history"] == base["history"]);  // cut to one epoch either way
  const auto elsewhere = nlohmann::json::parse(
      train::numerics_fingerprint(fingerprint_config({"output.dir=elsewhere"}), options));
  CHECK(elsewhere["config_fnv1a64"] == base["config_fnv1a64"]);
}

TEST_CASE("AUTOINT_TEST_NUMERICS_CHANGE is read strictly", "[train]") {
  test::ScopedEnv unset("AUTOINT_TEST_NUMERICS_CHANGE", nullptr);
  CHECK(train::numerics_change_from_environment() == train::NumericsChange::none);
  {
    test::ScopedEnv env("AUTOINT_TEST_NUMERICS_CHANGE", "extra_step");
    CHECK(train::numerics_change_from_environment() == train::NumericsChange::extra_step);
  }
  {
    test::ScopedEnv env("AUTOINT_TEST_NUMERICS_CHANGE", "initial_weight");
    CHECK(train::numerics_change_from_environment() == train::NumericsChange::initial_weight);
  }
  test::ScopedEnv env("AUTOINT_TEST_NUMERICS_CHANGE", "more");
  CHECK_THROWS_AS(train::numerics_change_from_environment(), ConfigError);
  CHECK_THROWS_WITH(train::numerics_change_from_environment(),
                    Catch::Contains("\"more\": expected initial_weight or extra_step"));
}
