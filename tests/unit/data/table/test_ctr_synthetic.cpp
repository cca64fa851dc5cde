// Tests of the synthetic Criteo/Avazu CTR generator: the formats, determinism, label balance,
// missing values, option errors and that the planted interactions are real and second-order only.
#include "autoint_catch.h"

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "autoint/data/table/ctr_synthetic.h"
#include "autoint/error.h"
#include "test_support.h"

using autoint::data::ctr_planted_pairs;
using autoint::data::ctr_planted_signs;
using autoint::data::CtrSyntheticOptions;
using autoint::data::write_ctr_synthetic;
using Catch::Matchers::Contains;

namespace {

CtrSyntheticOptions ctr_options(const std::string& format, int64_t rows, uint64_t seed = 7) {
  CtrSyntheticOptions o;
  o.format = format;
  o.rows = rows;
  o.seed = seed;
  return o;
}

std::string ctr_text(const CtrSyntheticOptions& options) {
  std::ostringstream out;
  write_ctr_synthetic(options, out);
  return out.str();
}

std::vector<std::string> ctr_split(const std::string& text, char separator) {
  std::vector<std::string> fields;
  size_t start = 0;
  for (;;) {
    const size_t end = text.find(separator, start);
    fields.push_back(
        text.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos)
      return fields;
    start = end + 1;
  }
}

// The lines of a file's text, each split into its columns.
std::vector<std::vector<std::string>> ctr_rows(const std::string& text, char separator) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line))
    rows.push_back(ctr_split(line, separator));
  return rows;
}

bool ctr_is_hex8(const std::string& s) {
  return s.size() == 8 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

// A decimal integer without sign or leading zeros (an optional leading '-' when allowed).
bool ctr_is_integer(const std::string& s, bool negative_ok = false) {
  const size_t start = negative_ok && !s.empty() && s[0] == '-' ? 1 : 0;
  if (s.size() <= start || (s[start] == '0' && s.size() > start + 1))
    return false;
  return std::all_of(s.begin() + static_cast<std::ptrdiff_t>(start), s.end(),
                     [](char c) { return c >= '0' && c <= '9'; });
}

// Column names of a format, as the planted pairs name them.
std::vector<std::string> ctr_criteo_names() {
  std::vector<std::string> names = {"label"};
  for (int i = 1; i <= 13; ++i)
    names.push_back("I" + std::to_string(i));
  for (int i = 1; i <= 26; ++i)
    names.push_back("C" + std::to_string(i));
  return names;
}

const char* const kCtrAvazuHeader =
    "id,click,hour,C1,banner_pos,site_id,site_domain,site_category,app_id,app_domain,"
    "app_category,device_id,device_ip,device_model,device_type,device_conn_type,C14,C15,C16,"
    "C17,C18,C19,C20,C21";

// The key ctr_planted_signs uses for a value: the octave floor(log2(count + 1)) of a count.
std::string ctr_sign_key(const std::string& column, const std::string& value, bool criteo) {
  if (!criteo || column[0] != 'I')
    return value;
  uint64_t count = std::stoull(value) + 1;
  int octave = -1;
  while (count != 0) {
    count >>= 1;
    ++octave;
  }
  return std::to_string(octave);
}

}  // namespace

TEST_CASE("criteo rows have 40 tab-separated columns in the Criteo domains",
          "[data][ctr_synthetic]") {
  const std::string text = ctr_text(ctr_options("criteo", 20000));
  REQUIRE(!text.empty());
  CHECK(text.back() == '\n');
  const auto rows = ctr_rows(text, '\t');
  REQUIRE(rows.size() == 20000);
  std::vector<int64_t> missing(40, 0);
  std::vector<std::map<std::string, int64_t>> counts(40);
  uint64_t largest_count = 0;
  std::string bad;  // the first value out of its domain
  for (const auto& row : rows) {
    REQUIRE(row.size() == 40);
    if (row[0] != "0" && row[0] != "1" && bad.empty())
      bad = "label " + row[0];
    for (size_t c = 1; c < 40; ++c) {
      if (row[c].empty()) {
        ++missing[c];
        continue;
      }
      ++counts[c][row[c]];
      const bool count = c <= 13;
      if (!(count ? ctr_is_integer(row[c]) : ctr_is_hex8(row[c])) && bad.empty())
        bad = "column " + std::to_string(c) + ": " + row[c];
      else if (count)
        largest_count = std::max<uint64_t>(largest_count, std::stoull(row[c]));
    }
  }
  CHECK(bad.empty());
  // Counts: 10-40% missing in every column, heavy-tailed (many zeros, some in the millions).
  for (size_t c = 1; c <= 13; ++c) {
    const double share = static_cast<double>(missing[c]) / 20000.0;
    INFO("I" << c << " missing " << share);
    CHECK((share > 0.07 && share < 0.43));
    CHECK(counts[c].count("0") == 1);
  }
  CHECK(largest_count > 1000000);
  // Categories: some columns never missing, some mostly (C22 76%).
  CHECK(missing[14] == 0);                                  // C1
  CHECK(missing[14 + 21] > 14000);                          // C22
  CHECK((missing[14 + 2] > 300 && missing[14 + 2] < 900));  // C3, 3%
  // Cardinalities differ, and a large column has both frequent values and values seen fewer
  // than 10 times (so that a min_count of 10 maps some to out-of-vocabulary).
  CHECK(counts[14 + 8].size() == 3);  // C9
  const auto& c3 = counts[14 + 2];
  CHECK(c3.size() > 3000);
  const auto rare =
      std::count_if(c3.begin(), c3.end(), [](const auto& kv) { return kv.second < 10; });
  const auto frequent =
      std::count_if(c3.begin(), c3.end(), [](const auto& kv) { return kv.second >= 10; });
  CHECK(rare > 1000);
  CHECK(frequent > 50);
}

TEST_CASE("avazu rows have the train.csv header and 24 comma-separated columns",
          "[data][ctr_synthetic]") {
  const std::string text = ctr_text(ctr_options("avazu", 10000));
  const auto rows = ctr_rows(text, ',');
  REQUIRE(rows.size() == 10001);
  REQUIRE(text.substr(0, text.find('\n')) == kCtrAvazuHeader);
  const auto header = rows[0];
  REQUIRE(header.size() == 24);
  std::unordered_map<std::string, size_t> at;
  for (size_t i = 0; i < header.size(); ++i)
    at[header[i]] = i;
  const std::set<std::string> hex = {"site_id",   "site_domain", "site_category",
                                     "app_id",    "app_domain",  "app_category",
                                     "device_id", "device_ip",   "device_model"};
  std::set<std::string> ids;
  std::string previous_hour = "14102100";
  int64_t app_rows = 0;
  std::string bad;  // the first value out of its domain
  const auto wrong = [&](size_t r, const std::string& what) {
    if (bad.empty())
      bad = "row " + std::to_string(r) + ": " + what;
  };
  for (size_t r = 1; r < rows.size(); ++r) {
    const auto& row = rows[r];
    REQUIRE(row.size() == 24);
    if (!ctr_is_integer(row[0]) || !ids.insert(row[0]).second)
      wrong(r, "id " + row[0]);
    if (row[1] != "0" && row[1] != "1")
      wrong(r, "click " + row[1]);
    const std::string& hour = row[2];
    const bool hour_ok = hour.size() == 8 && ctr_is_integer(hour) && hour >= previous_hour &&
                         hour.substr(0, 4) == "1410" && hour.substr(4, 2) >= "21" &&
                         hour.substr(4, 2) <= "30" && hour.substr(6, 2) <= "23";
    if (!hour_ok)
      wrong(r, "hour " + hour + " after " + previous_hour);
    previous_hour = hour;
    for (size_t c = 3; c < 24; ++c) {
      const bool ok = hex.count(header[c]) == 1 ? ctr_is_hex8(row[c])
                                                : ctr_is_integer(row[c], header[c] == "C20");
      if (!ok)
        wrong(r, header[c] + " " + row[c]);
    }
    // Each row is a site row or an app row, with the other side's default values.
    const bool app = row[at["site_id"]] == "85f751fd";
    if (app == (row[at["app_id"]] == "ecad2386") ||
        app != (row[at["site_category"]] == "50e219e0") ||
        app == (row[at["app_category"]] == "07d7df22")) {
      wrong(r, "site/app defaults");
    }
    app_rows += app ? 1 : 0;
  }
  CHECK(bad.empty());
  CHECK(rows[1][2] == "14102100");
  CHECK(rows.back()[2] == "14103023");
  CHECK((app_rows > 3000 && app_rows < 4000));
  std::set<std::string> banner_pos;
  for (size_t r = 1; r < rows.size(); ++r)
    banner_pos.insert(rows[r][at["banner_pos"]]);
  CHECK(banner_pos == std::set<std::string>{"0", "1", "2", "3", "4", "5", "7"});
}

TEST_CASE("write_ctr_synthetic is deterministic in its options", "[data][ctr_synthetic]") {
  for (const std::string format : {"criteo", "avazu"}) {
    INFO(format);
    const std::string a = ctr_text(ctr_options(format, 3000, 7));
    CHECK(ctr_text(ctr_options(format, 3000, 7)) == a);
    CHECK(ctr_text(ctr_options(format, 3000, 8)) != a);
    // The file is the same bytes, renamed into place.
    autoint::test::TempDir dir("autoint-ctr");
    const std::string path = (dir.path() / "train").string();
    const auto summary = write_ctr_synthetic(ctr_options(format, 3000, 7), path);
    CHECK(autoint::test::read_file(path) == a);
    CHECK(summary.rows == 3000);
    CHECK(summary.bytes == static_cast<int64_t>(a.size()));
    CHECK_FALSE(std::filesystem::exists(path + ".tmp"));
  }
  // Rows are drawn in order, independently of the row count (criteo: a prefix).
  const std::string longer = ctr_text(ctr_options("criteo", 4000, 7));
  CHECK(longer.compare(0, ctr_text(ctr_options("criteo", 3000, 7)).size(),
                       ctr_text(ctr_options("criteo", 3000, 7))) == 0);
}

TEST_CASE("write_ctr_synthetic keeps the positive rate near 25% for any seed",
          "[data][ctr_synthetic]") {
  for (const std::string format : {"criteo", "avazu"}) {
    for (const uint64_t seed : {1, 2, 3}) {
      std::ostringstream out;
      const auto summary = write_ctr_synthetic(ctr_options(format, 20000, seed), out);
      const auto rows = ctr_rows(out.str(), format == "criteo" ? '\t' : ',');
      const size_t label = format == "criteo" ? 0 : 1;
      int64_t positives = 0;
      for (size_t r = format == "criteo" ? 0 : 1; r < rows.size(); ++r)
        positives += rows[r][label] == "1" ? 1 : 0;
      CHECK(positives == summary.positives);
      const double rate = static_cast<double>(positives) / 20000.0;
      INFO(format << " seed " << seed << " positive rate " << rate);
      CHECK((rate > 0.21 && rate < 0.30));
    }
  }
}

TEST_CASE("write_ctr_synthetic rejects bad options, naming them", "[data][ctr_synthetic]") {
  std::ostringstream out;
  SECTION("rows") {
    for (const int64_t rows : {0, -5}) {
      REQUIRE_THROWS_AS(write_ctr_synthetic(ctr_options("criteo", rows), out),
                        std::invalid_argument);
      REQUIRE_THROWS_WITH(write_ctr_synthetic(ctr_options("avazu", rows), out), Contains("rows"));
    }
  }
  SECTION("format") {
    REQUIRE_THROWS_AS(write_ctr_synthetic(ctr_options("parquet", 10), out), std::invalid_argument);
    REQUIRE_THROWS_WITH(write_ctr_synthetic(ctr_options("parquet", 10), out),
                        Contains("format") && Contains("parquet") && Contains("criteo"));
    REQUIRE_THROWS_AS(ctr_planted_pairs("Criteo"), std::invalid_argument);
    REQUIRE_THROWS_WITH(ctr_planted_signs(ctr_options("criteo", 10), "C27"), Contains("C27"));
  }
  SECTION("files") {
    autoint::test::TempDir dir("autoint-ctr");
    const std::string path = (dir.path() / "train.txt").string();
    REQUIRE_THROWS_AS(write_ctr_synthetic(ctr_options("criteo", 0), path), std::invalid_argument);
    CHECK(std::filesystem::is_empty(dir.path()));
    const std::string nowhere = (dir.path() / "no" / "train.txt").string();
    REQUIRE_THROWS_AS(write_ctr_synthetic(ctr_options("criteo", 10), nowhere), autoint::DataError);
    REQUIRE_THROWS_WITH(write_ctr_synthetic(ctr_options("criteo", 10), nowhere), Contains(nowhere));
    REQUIRE_THROWS_WITH(write_ctr_synthetic(ctr_options("criteo", 10), dir.str()),
                        Contains("is a directory"));
    CHECK(std::filesystem::is_empty(dir.path()));
  }
}

TEST_CASE("planted interactions are second-order: pairs separate clicks, values alone not",
          "[data][ctr_synthetic]") {
  for (const std::string format : {"criteo", "avazu"}) {
    const bool criteo = format == "criteo";
    const auto options = ctr_options(format, 50000, 11);
    const auto rows = ctr_rows(ctr_text(options), criteo ? '\t' : ',');
    const std::vector<std::string> names = criteo ? ctr_criteo_names() : rows[0];
    const size_t label = criteo ? 0 : 1;
    const auto column = [&](const std::string& name) {
      return static_cast<size_t>(std::find(names.begin(), names.end(), name) - names.begin());
    };
    const auto pairs = ctr_planted_pairs(format);
    REQUIRE(pairs.size() == 5);
    for (const auto& pair : pairs) {
      INFO(format << ": " << pair.first << " x " << pair.second);
      CHECK((pair.weight >= 1.5 && pair.weight <= 2.0));
      const auto signs_a = ctr_planted_signs(options, pair.first);
      const auto signs_b = ctr_planted_signs(options, pair.second);
      REQUIRE(!signs_a.empty());
      REQUIRE(!signs_b.empty());
      const size_t a = column(pair.first);
      const size_t b = column(pair.second);
      REQUIRE((a < names.size() && b < names.size()));
      // clicks and rows by the sign of a, of b and of their product (index 0: -1, 1: +1)
      double clicks[3][2] = {};
      double seen[3][2] = {};
      for (size_t r = criteo ? 0 : 1; r < rows.size(); ++r) {
        const auto& row = rows[r];
        const double y = row[label] == "1" ? 1 : 0;
        int sa = 0;
        int sb = 0;
        if (!row[a].empty())
          sa = signs_a.at(ctr_sign_key(pair.first, row[a], criteo));
        if (!row[b].empty())
          sb = signs_b.at(ctr_sign_key(pair.second, row[b], criteo));
        const int s[3] = {sa, sb, sa * sb};
        for (int k = 0; k < 3; ++k) {
          if (s[k] != 0) {
            clicks[k][s[k] > 0] += y;
            seen[k][s[k] > 0] += 1;
          }
        }
      }
      const auto gap = [&](int k) { return clicks[k][1] / seen[k][1] - clicks[k][0] / seen[k][0]; };
      // Balanced signs: each about half of the rows.
      for (int k = 0; k < 2; ++k) {
        const double share = seen[k][1] / (seen[k][0] + seen[k][1]);
        CHECK((share > 0.45 && share < 0.55));
      }
      INFO("click rate gap by s_a " << gap(0) << ", by s_b " << gap(1) << ", by s_a*s_b "
                                    << gap(2));
      CHECK(gap(2) > 0.15);
      CHECK(std::abs(gap(0)) < 0.03);
      CHECK(std::abs(gap(1)) < 0.03);
    }
    // A column in no pair has no planted signs.
    CHECK(ctr_planted_signs(options, criteo ? "C3" : "site_id").empty());
  }
}
