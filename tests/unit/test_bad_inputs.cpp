// The bad-input corpus (tests/fixtures/bad_inputs/cases.txt): every malformed file, config,
// device string and damaged run directory must fail with its own exception and message.
#include "autoint_catch.h"

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "autoint/config/config.h"
#include "autoint/device.h"
#include "autoint/error.h"
#include "autoint/experiment/pipeline.h"
#include "autoint/experiment/run_dir.h"
#include "autoint/movielens/features.h"
#include "autoint/movielens/format.h"
#include "test_support.h"

namespace fs = std::filesystem;

namespace {

const fs::path kCorpus = fs::path(AUTOINT_SOURCE_DIR) / "tests" / "fixtures" / "bad_inputs";

struct BadInput {
  int line = 0;  // in cases.txt, for the failure report
  std::string kind;
  std::string input;
  std::string exception;
  std::string pattern;
};

std::string trim(const std::string& text) {
  const auto first = text.find_first_not_of(' ');
  const auto last = text.find_last_not_of(' ');
  return first == std::string::npos ? "" : text.substr(first, last - first + 1);
}

// Lines are `kind | input | exception | regex`; the regex is the rest of the line, so it
// may itself contain '|'.
std::vector<BadInput> read_cases() {
  std::ifstream in(kCorpus / "cases.txt");
  REQUIRE(in);
  std::vector<BadInput> cases;
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty() || line[0] == '#') {
      continue;
    }
    BadInput c;
    c.line = line_no;
    std::string* fields[] = {&c.kind, &c.input, &c.exception};
    size_t start = 0;
    for (std::string* field : fields) {
      const size_t bar = line.find(" | ", start);
      INFO("cases.txt:" << line_no << ": expected `kind | input | exception | regex`");
      REQUIRE(bar != std::string::npos);
      *field = trim(line.substr(start, bar - start));
      start = bar + 3;
    }
    c.pattern = line.substr(start);
    cases.push_back(c);
  }
  return cases;
}

// Copies a fixture directory's users/movies/ratings.txt into `to` as the .dat names the
// reader expects. The fixtures are stored as .txt so that no file named like MovieLens
// data (whose licence forbids redistribution) is ever tracked, even a hand-made one.
void stage(const fs::path& from, const fs::path& to) {
  for (const auto& entry : fs::directory_iterator(from)) {
    fs::path name = entry.path().filename();
    if (name.extension() == ".txt")
      name.replace_extension(".dat");
    fs::copy_file(entry.path(), to / name, fs::copy_options::overwrite_existing);
  }
}

// Runs the loader the case names; returns normally only if it did not throw.
void load(const BadInput& c) {
  const fs::path input = kCorpus / c.input;
  if (c.kind == "data") {
    // The case directory holds only the broken file(s); the others come from data/base.
    autoint::test::TempDir dir("autoint-bad-input");
    stage(kCorpus / "data" / "base", dir.path());
    stage(input, dir.path());
    autoint::data::read_movielens(dir.str());
  } else if (c.kind == "data_dir") {
    // Staged under the case's own name, which the expected message includes.
    autoint::test::TempDir dir("autoint-bad-input");
    const fs::path staged = dir.path() / input.filename();
    if (fs::exists(input)) {
      fs::create_directories(staged);
      stage(input, staged);
    }
    autoint::data::read_movielens(staged.string());
  } else if (c.kind == "config") {
    autoint::config::load_config(input.string());
  } else if (c.kind == "device") {
    autoint::DeviceSpec::parse(autoint::test::read_file(input));
  } else if (c.kind == "vocabulary") {
    autoint::data::Vocabulary::load(input.string(), autoint::data::feature_set_fields("seed"));
  } else if (c.kind == "table") {
    // The case directory holds schema.yaml (a config's data section, data.source table) and
    // data.txt, which the config reads.
    const auto config = autoint::config::load_config(
        (input / "schema.yaml").string(), {"data.table.train=" + (input / "data.txt").string()});
    autoint::data::TableInfo info;
    autoint::train::load_table(config.data, info);
  } else if (c.kind == "run") {
    autoint::train::load_run(input.string(), torch::Device(torch::kCPU));
  } else {
    FAIL("cases.txt:" << c.line << ": unknown kind \"" << c.kind << "\"");
  }
}

// The most derived autoint exception type, by the name cases.txt uses.
std::string type_name(const autoint::Error& e) {
  if (dynamic_cast<const autoint::DataError*>(&e))
    return "DataError";
  if (dynamic_cast<const autoint::ConfigError*>(&e))
    return "ConfigError";
  if (dynamic_cast<const autoint::RunError*>(&e))
    return "RunError";
  if (dynamic_cast<const autoint::DeviceError*>(&e))
    return "DeviceError";
  return "Error";
}

}  // namespace

TEST_CASE("bad-input corpus: each input fails with its exception and message", "[bad_inputs]") {
  const std::vector<BadInput> cases = read_cases();
  REQUIRE(cases.size() >= 30);
  for (const BadInput& c : cases) {
    DYNAMIC_SECTION(c.kind << " " << c.input) {
      INFO("cases.txt:" << c.line << ": " << c.kind << " " << c.input);
      const std::regex pattern(c.pattern, std::regex::ECMAScript);
      try {
        load(c);
        FAIL("loaded without an error; expected " << c.exception << " matching " << c.pattern);
      } catch (const autoint::Error& e) {
        INFO("message: " << e.what());
        CHECK(type_name(e) == c.exception);
        CHECK(std::regex_search(e.what(), pattern));
      }
    }
  }
}

TEST_CASE("bad-input corpus: every input it names exists or is meant to be missing",
          "[bad_inputs]") {
  // A renamed fixture must not turn a case into a "file not found" that still matches.
  for (const BadInput& c : read_cases()) {
    INFO("cases.txt:" << c.line << ": " << c.input);
    const bool meant_missing = c.input.find("does_not_exist") != std::string::npos;
    CHECK(fs::exists(kCorpus / c.input) != meant_missing);
  }
}
