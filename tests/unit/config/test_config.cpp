// Config parsing: defaults, overrides, errors with file:line:column and key, YAML round trip.
#include "autoint_catch.h"

#include <cmath>
#include <fstream>
#include <sstream>

#include "autoint/config/config.h"
#include "autoint/error.h"
#include "autoint/nn/autoint.h"
#include "test_support.h"

using autoint::ConfigError;
using autoint::config::Config;
using autoint::config::parse_config;
namespace nn = autoint::nn;

namespace {
const std::string kMinimal = "data:\n  source: synthetic\n";
}

TEST_CASE("defaults are the seed's AutoInt+ settings", "[config]") {
  const Config c = parse_config(kMinimal, "t.yaml");
  CHECK(c.model.type == "autoint_plus");
  CHECK(c.model.embed_dim == 16);
  CHECK(c.model.num_layers == 3);
  CHECK(c.model.num_heads == 2);
  CHECK_FALSE(c.model.scale_attention);
  CHECK((c.model.dnn_hidden_units == std::vector<int64_t>{32, 32}));
  CHECK(c.model.dropout == 0.4);
  CHECK(c.train.learning_rate == 1e-4);
  CHECK(c.train.batch_size == 2048);
  CHECK(c.train.epochs == 5);
  CHECK(c.data.label_threshold == 4.0);
  CHECK(c.data.test_fraction == 0.2);
  CHECK(c.data.validation_fraction == 0.1);
  // The model section's defaults are the model's own (one declaration, nn/defaults.h).
  const nn::AutoIntOptions model({2});
  CHECK(c.model.embed_dim == model.embed_dim());
  CHECK(c.model.num_layers == model.num_layers());
  CHECK(c.model.num_heads == model.num_heads());
  CHECK(c.model.attention_dim == model.attention_dim());
  CHECK(c.model.use_residual == model.use_residual());
  CHECK(c.model.scale_attention == model.scale_attention());
  CHECK(c.model.layer_norm == model.layer_norm());
  CHECK(c.model.attention_dropout == model.attention_dropout());
  CHECK(c.model.dnn_hidden_units == model.dnn_hidden_units());
  CHECK(c.model.dropout == model.dnn_dropout());
}

TEST_CASE("nested keys and overrides set values", "[config]") {
  const std::string yaml =
      "data:\n  source: synthetic\n  synthetic:\n    users: 50\n    ratings: 900\nmodel:\n  "
      "embed_dim: 8\n"
      "  dnn_hidden_units: [64, 16]\ntrain:\n  learning_rate: 1e-3\ndevice: cpu\n";
  const Config c = parse_config(yaml, "t.yaml",
                                {"train.epochs=2", "model.dnn_hidden_units=[8]", "data.dir=x y"});
  CHECK(c.data.synthetic.users == 50);
  CHECK(c.model.embed_dim == 8);
  CHECK(c.train.learning_rate == 1e-3);
  CHECK(c.train.epochs == 2);
  CHECK((c.model.dnn_hidden_units == std::vector<int64_t>{8}));
  CHECK(c.data.dir == "x y");
  CHECK(c.device == "cpu");
}

TEST_CASE("config errors name file, line, column, key, value and expectation", "[config]") {
  struct Case {
    std::string yaml;
    std::vector<std::string> overrides;
    std::string message;
  };
  const std::vector<Case> cases = {
      {kMinimal + "model:\n  num_heads: 0\n",
       {},
       "t.yaml:4:14: model.num_heads must be in [1, 64] (got 0)"},
      // A bad device is reported at load, with its line, not when a run starts.
      {kMinimal + "device: gpu\n",
       {},
       "t.yaml:3:9: device must be auto, cpu, cuda or cuda:N with N >= 0 (got gpu)"},
      {kMinimal, {"device=cuda:-1"}, "device must be auto, cpu, cuda or cuda:N with N >= 0"},
      {kMinimal + "model:\n  embed_dimm: 8\n", {}, "t.yaml:4:3: unknown key \"model.embed_dimm\""},
      {kMinimal + "trian:\n  epochs: 1\n", {}, "t.yaml:3:1: unknown key \"trian\""},
      {kMinimal + "train:\n  epochs: three\n",
       {},
       "t.yaml:4:11: train.epochs must be an integer (got three)"},
      {kMinimal + "train:\n  epochs: 2.5\n", {}, "train.epochs must be an integer (got 2.5)"},
      {kMinimal + "train:\n  learning_rate: 0\n",
       {},
       "train.learning_rate must be in (0, 10] (got 0)"},
      {kMinimal + "model:\n  dropout: 1\n", {}, "model.dropout must be in [0, 1) (got 1)"},
      {kMinimal + "model:\n  scale_attention: maybe\n",
       {},
       "model.scale_attention must be true or false (got maybe)"},
      {kMinimal + "model:\n  type: deepfm\n",
       {},
       "model.type must be one of autoint, autoint_plus, lr (got deepfm)"},
      {kMinimal + "model:\n  dnn_hidden_units: 32\n",
       {},
       "model.dnn_hidden_units must be a list of integers such as [32, 32] (got 32)"},
      {kMinimal + "model:\n  dnn_hidden_units: [32, 0]\n",
       {},
       "model.dnn_hidden_units must be a list of integers >= 1 (got 0)"},
      {kMinimal + "model: 3\n", {}, "t.yaml:3:1: model must be a section of keys (got 3)"},
      {kMinimal + "model:\n  dot_fields: [user_id]\n",
       {},
       "model.dot_fields must be empty or two different field names, with model.type autoint "
       "or autoint_plus (got [user_id] with model.type autoint_plus)"},
      {kMinimal + "model:\n  type: lr\n  dot_fields: [user_id, movie_id]\n",
       {},
       "(got [user_id, movie_id] with model.type lr)"},
      {kMinimal + "model:\n  dot_dim: 32\n", {}, "model.dot_dim 32 needs model.dot_fields"},
      {kMinimal,
       {"model.num_heads=0"},
       "--set model.num_heads=0: model.num_heads must be in [1, 64] (got 0)"},
      {kMinimal, {"model.nope=1"}, "--set model.nope=1: unknown key \"model.nope\""},
      {kMinimal, {"train.epochs"}, "--set train.epochs: expected key=value"},
      {"data:\n  source: movielens\n", {}, "data.dir must name the ML-1M directory"},
      {kMinimal + "  features: criteo\n",
       {},
       "t.yaml:3:13: data.features must be one of seed, paper, custom (got criteo)"},
      {kMinimal + "  drop_ratings: [3, 6]\n",
       {},
       "t.yaml:3:17: data.drop_ratings must be a list of integers in [1, 5] (got 6)"},
      {kMinimal + "  drop_fields: timestamp\n",
       {},
       "data.drop_fields must be a list of names such as [timestamp] (got timestamp)"},
      {kMinimal + "  features: paper\neval:\n  protocol: both\n",
       {},
       "eval.protocol both builds candidate rows of the seed's fields, so it needs "
       "data.features seed and no data.drop_fields (got data.features paper)"},
      {"- a\n- b\n", {}, "the top level must be a map"},
      {"data: [unclosed\n", {}, "t.yaml:2:1: invalid YAML"},
  };
  for (const auto& c : cases) {
    INFO(c.yaml << " | " << (c.overrides.empty() ? "" : c.overrides[0]));
    REQUIRE_THROWS_AS(parse_config(c.yaml, "t.yaml", c.overrides), ConfigError);
    REQUIRE_THROWS_WITH(parse_config(c.yaml, "t.yaml", c.overrides), Catch::Contains(c.message));
  }
}

TEST_CASE("load_config names a missing file", "[config]") {
  REQUIRE_THROWS_WITH(autoint::config::load_config("/nonexistent/x.yaml"),
                      Catch::Contains("/nonexistent/x.yaml: cannot open config file"));
}

TEST_CASE("to_yaml round-trips every parameter", "[config]") {
  Config c = parse_config(
      kMinimal, "t.yaml",
      {"model.embed_dim=8", "train.learning_rate=0.00031", "model.dnn_hidden_units=[]",
       "model.layer_norm=true", "data.dir=/some dir/ml-1m", "train.l2_embedding=1e-05"});
  const std::string yaml = autoint::config::to_yaml(c);
  const Config back = parse_config(yaml, "resolved.yaml");
  CHECK(autoint::config::to_yaml(back) == yaml);
  CHECK(back.train.learning_rate == 0.00031);
  CHECK(back.model.dnn_hidden_units.empty());
  CHECK(back.model.layer_norm);
  CHECK(back.data.dir == "/some dir/ml-1m");
  CHECK(back.train.l2_embedding == 1e-05);
}

TEST_CASE("the shipped configs load and docs/configuration.md matches the declarations",
          "[config]") {
  const std::string root = AUTOINT_SOURCE_DIR;
  for (const char* name : {"quickstart.yaml", "ml1m_autoint.yaml", "ml1m_autoint_plus.yaml"}) {
    INFO(name);
    CHECK_NOTHROW(autoint::config::load_config(root + "/configs/" + name));
  }
  const auto plus = autoint::config::load_config(root + "/configs/ml1m_autoint_plus.yaml");
  CHECK(plus.train.learning_rate == 1e-4);
  CHECK(plus.train.batch_size == 2048);
  CHECK(autoint::config::load_config(root + "/configs/ml1m_autoint.yaml").model.type == "autoint");

  std::ifstream in(root + "/docs/configuration.md");
  REQUIRE(in);
  std::stringstream docs;
  docs << in.rdbuf();
  CHECK(docs.str() == autoint::config::reference_markdown());
  for (const auto& p : autoint::config::parameters())
    CHECK(!p.description.empty());
}

TEST_CASE("huge synthetic users x movies does not overflow the ratings check", "[config]") {
  // Regression (found while writing the config fuzzer; UBSan flags it): the product
  // overflowed int64 and wrapped, rejecting a valid config or accepting an invalid one.
  const std::string yaml =
      "data:\n  source: synthetic\n  synthetic: {users: 4611686018427387904, movies: 4, "
      "ratings: 10}\n";
  const Config c = parse_config(yaml, "big.yaml");
  CHECK(c.data.synthetic.ratings == 10);
  CHECK_THROWS_AS(
      parse_config("data:\n  source: synthetic\n  synthetic: {users: 3, movies: 3, ratings: 10}\n",
                   "small.yaml"),
      ConfigError);
}

TEST_CASE("a key given twice is an error naming both places", "[config]") {
  // yaml-cpp keeps both entries and the later silently won before.
  try {
    parse_config("data:\n  source: synthetic\ntrain:\n  epochs: 9\n  epochs: 1\n", "twice.yaml");
    FAIL("a duplicate key was accepted");
  } catch (const ConfigError& e) {
    CHECK_THAT(e.what(),
               Catch::Matchers::Contains("twice.yaml:5:3: duplicate key \"train.epochs\" (first at "
                                         "twice.yaml:4:3)"));
  }
}

TEST_CASE("a second YAML document is an error, even a broken one", "[config]") {
  CHECK_THROWS_WITH(parse_config(kMinimal + "---\ntrain:\n  epochs: 3\n", "two.yaml"),
                    Catch::Contains("two.yaml:3:1: a second YAML document (after \"---\")"));
  CHECK_THROWS_WITH(parse_config(kMinimal + "---\n[unclosed\n", "broken.yaml"),
                    Catch::Contains("broken.yaml:") && Catch::Contains("invalid YAML"));
  CHECK_NOTHROW(parse_config("---\n" + kMinimal, "one.yaml"));
  // yaml-cpp 0.7 reports endless empty documents for this (a fuzzer found it: LoadAll hangs).
  CHECK_THROWS_WITH(parse_config(",data:\n $srcqoe: 2c\n  s: {u ratings :10}\n", "comma.yaml"),
                    Catch::Contains("comma.yaml") &&
                        Catch::Contains("invalid YAML: no document can be read from here"));
}

TEST_CASE("a huge bad value is cut in the error message", "[config]") {
  const std::string huge(5'000'000, 'x');
  try {
    parse_config(kMinimal + "model:\n  type: " + huge + "\n", "huge.yaml");
    FAIL("no error");
  } catch (const ConfigError& e) {
    const std::string message = e.what();
    CHECK(message.size() < 600);
    CHECK_THAT(message, Catch::Contains("xxx... (5000000 bytes)"));
  }
  try {
    parse_config(kMinimal, "t.yaml", {"train.epochs=" + huge});
    FAIL("no error");
  } catch (const ConfigError& e) {
    CHECK(std::string(e.what()).size() < 600);
  }
}

TEST_CASE("early stopping without a validation split is a config error", "[config]") {
  CHECK_THROWS_WITH(
      parse_config(kMinimal, "t.yaml", {"train.patience=2", "data.validation_fraction=0"}),
      Catch::Contains("train.patience 2 needs a validation split, but "
                      "data.validation_fraction is 0"));
  CHECK_NOTHROW(
      parse_config(kMinimal, "t.yaml", {"train.patience=0", "data.validation_fraction=0"}));
}

TEST_CASE("a control character in a string value is an error, so saved configs read back",
          "[config]") {
  // The config fuzzer found this: yaml-cpp keeps a carriage return before the end of input
  // in the scalar but writes it back unquoted, so to_yaml's output lost it on reading.
  CHECK_THROWS_WITH(parse_config("data:\n  source: movielens\n  dir: datam\r", "cr.yaml"),
                    Catch::Contains("cr.yaml:3:8: data.dir must be a string without control "
                                    "characters (got datam\\x0D)"));
  CHECK_THROWS_WITH(parse_config(kMinimal, "t.yaml", {"output.dir=runs/a\tb"}),
                    Catch::Contains("output.dir must be a string without control characters"));
  const Config config = parse_config(kMinimal, "t.yaml", {"output.dir=runs/a b"});
  CHECK(parse_config(autoint::config::to_yaml(config), "again.yaml").output.dir == "runs/a b");
}

TEST_CASE("a table schema round-trips through to_yaml", "[config][table]") {
  const std::string yaml =
      "data:\n"
      "  source: table\n"
      "  max_rows: 1000\n"
      "  table:\n"
      "    train: /d/train.tsv\n"
      "    separator: \"\\\\t\"\n"
      "    header: false\n"
      "    columns: [y, u, g, n]\n"
      "    label: y\n"
      "    label_threshold: 4\n"
      "    user: u\n"
      "    min_count: 10\n"
      "    fields:\n"
      "      - {name: user, column: u, min_count: 2}\n"
      "      - {name: g, kind: multi, separator: ',', max_width: 4}\n"
      "      - {name: n, kind: numeric, transform: log}\n"
      "      - {name: nb, column: n, kind: numeric, transform: bucketize, boundaries: [1, 10.5]}\n"
      "      - {name: second_g, column: g, derive: element, index: 1, separator: ','}\n"
      "      - {name: decade, column: n, derive: decade}\n"
      "model:\n"
      "  type: lr\n";
  const Config c = parse_config(yaml, "t.yaml");
  CHECK(c.data.table.separator == "\t");
  CHECK(c.data.table.label_threshold == 4);
  REQUIRE(c.data.table.fields.size() == 6);
  CHECK(c.data.table.fields[0].column == "u");
  CHECK(c.data.table.fields[0].min_count == 2);
  CHECK(c.data.table.fields[1].separator == ",");
  CHECK(c.data.table.fields[3].boundaries == std::vector<double>{1, 10.5});
  CHECK(c.data.table.fields[4].derive == "element");
  CHECK(c.data.table.fields[4].index == 1);
  CHECK(c.data.table.fields[5].derive == "decade");
  const std::string text = autoint::config::to_yaml(c);
  const Config back = parse_config(text, "resolved.yaml");
  CHECK(autoint::config::to_yaml(back) == text);
  CHECK((back.data.table.fields == c.data.table.fields));
  CHECK(back.data.table.separator == "\t");
  CHECK(std::isnan(parse_config(kMinimal, "t.yaml").data.table.label_threshold));
  CHECK(parse_config(kMinimal, "t.yaml", {"data.table.label_threshold=none"})
            .data.table.label_threshold != 4);

  CHECK_THROWS_WITH(
      parse_config("data:\n  source: table\n  table:\n    train: x\n    preset: criteo\n    "
                   "label: y\n",
                   "p.yaml"),
      Catch::Contains("data.table.preset criteo defines the columns, label and fields"));
  CHECK_THROWS_WITH(
      parse_config("data:\n  source: table\n  table:\n    preset: criteo\n", "p.yaml"),
      Catch::Contains("data.table.train must name the file to read"));
  CHECK_THROWS_WITH(
      parse_config("data:\n  source: table\n  table:\n    train: x\n    preset: criteo\n    "
                   "split: files\n",
                   "p.yaml"),
      Catch::Contains("data.table.split files needs data.table.test"));
  CHECK_THROWS_WITH(parse_config(kMinimal, "t.yaml", {"data.table.separator=ab"}),
                    Catch::Contains("data.table.separator must be one character other than"));
}

TEST_CASE("an empty output.dir is a config error naming the key", "[config]") {
  // Before: ": cannot create run directory: Invalid argument" at run time, exit code 1.
  CHECK_THROWS_AS(
      autoint::config::parse_config("data:\n  source: synthetic\n", "t.yaml", {"output.dir="}),
      autoint::ConfigError);
  CHECK_THROWS_WITH(
      autoint::config::parse_config("data:\n  source: synthetic\n", "t.yaml", {"output.dir="}),
      Catch::Contains("t.yaml: output.dir is empty"));
}
