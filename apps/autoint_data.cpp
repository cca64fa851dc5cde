// autoint-data: data tools; `synth` writes a synthetic data set in the ML-1M format or a CTR
// file in the Criteo or Avazu format, `stats` writes the exploratory data analysis of a data set as
// a Markdown/SVG report.
#include <sys/resource.h>

#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "app_support.h"
#include "autoint/config/config.h"
#include "autoint/data/table/ctr_synthetic.h"
#include "autoint/error.h"
#include "autoint/experiment/table_report.h"
#include "autoint/movielens/format.h"
#include "autoint/movielens/synthetic.h"
#include "autoint/report/eda_report.h"
#include "autoint/report/stats.h"

namespace {

// argv as a shell would need it typed again, so the report says exactly how to regenerate
// it; a long one gets a line per flag.
std::string command_line(int argc, char** argv) {
  std::vector<std::string> args;
  size_t length = 0;
  for (int i = 0; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool plain = !arg.empty() && arg.find_first_not_of(
                                           "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                           "0123456789-_./=:,+@%") == std::string::npos;
    std::string quoted = "'";
    for (const char c : arg)
      quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
    args.push_back(plain ? arg : quoted + "'");
    length += args.back().size() + 1;
  }
  std::string out;
  for (size_t i = 0; i < args.size(); ++i) {
    if (i > 0)
      out += length > 100 && args[i].rfind("--", 0) == 0 ? " \\\n    " : " ";
    out += args[i];
  }
  return out;
}

// synth --format criteo|avazu: one file of CTR rows with planted feature interactions.
int synth_ctr(const cxxopts::ParseResult& flags, const std::string& format) {
  for (const char* flag : {"users", "movies", "ratings"}) {
    if (flags.count(flag)) {
      throw cxxopts::exceptions::exception(
          fmt::format("--{} applies to --format movielens, not {}", flag, format));
    }
  }
  autoint::data::CtrSyntheticOptions synth;
  synth.format = format;
  synth.rows = flags["rows"].as<int64_t>();
  synth.seed = flags["seed"].as<uint64_t>();
  const auto out = flags["out"].as<std::string>();
  const auto written = autoint::data::write_ctr_synthetic(synth, out);
  // The rows may go to stdout (--out /dev/stdout): the summary then goes to stderr.
  (out == "/dev/stdout" ? std::cerr : std::cout) << fmt::format(
      "wrote {} rows ({:.1f}% positive) in the {} format to {}\n", written.rows,
      100.0 * static_cast<double>(written.positives) / static_cast<double>(written.rows), format,
      out);
  return 0;
}

int synth(const cxxopts::ParseResult& flags) {
  const std::string format = flags["format"].as<std::string>();
  if (format == "criteo" || format == "avazu")
    return synth_ctr(flags, format);
  if (format != "movielens") {
    throw cxxopts::exceptions::exception(fmt::format(
        "--format {}: expected movielens, criteo or avazu", autoint::quoted_value(format)));
  }
  if (flags.count("rows"))
    throw cxxopts::exceptions::exception("--rows applies to --format criteo or avazu");
  autoint::data::SyntheticOptions synth;
  synth.users = flags["users"].as<int64_t>();
  synth.movies = flags["movies"].as<int64_t>();
  synth.ratings = flags["ratings"].as<int64_t>();
  synth.seed = flags["seed"].as<uint64_t>();
  const auto data = autoint::data::generate_synthetic(synth);
  const auto out = flags["out"].as<std::string>();
  autoint::data::write_movielens(data, out);
  std::cout << fmt::format("wrote {} users, {} movies, {} ratings to {}\n", data.users.size(),
                           data.movies.size(), data.ratings.size(), out);
  return 0;
}

int stats(const cxxopts::ParseResult& flags, int argc, char** argv) {
  if (!flags.count("data"))
    throw cxxopts::exceptions::exception("--data DIR is required");
  const double threshold = flags["label-threshold"].as<double>();
  if (!(threshold >= 1 && threshold <= 5)) {
    throw cxxopts::exceptions::exception(
        fmt::format("--label-threshold: expected a value in [1, 5], got {}", threshold));
  }
  const auto dir = flags["data"].as<std::string>();
  const auto out = flags["out"].as<std::string>();
  const auto stats = autoint::data::compute_stats(autoint::data::read_movielens(dir), threshold);
  std::string label = std::filesystem::path(dir).lexically_normal().string();
  while (label.size() > 1 && label.back() == '/')
    label.pop_back();
  label = std::filesystem::path(label).filename().string();
  std::string preamble;
  if (flags.count("note"))
    preamble = flags["note"].as<std::string>() + "\n\n";
  preamble += "Generated with\n\n```sh\n" + command_line(argc, argv) + "\n```";
  autoint::data::write_eda_report(stats, out, label, preamble);
  std::cout << fmt::format(
      "wrote the EDA report of {} users, {} movies, {} ratings ({:.1f}% positive) to "
      "{}/README.md\n",
      stats.users, stats.movies, stats.ratings, stats.positive_share * 100, out);
  return 0;
}

// Peak resident memory of this process so far, in bytes (getrusage: kilobytes on Linux).
double peak_rss_bytes() {
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) * 1024.0;
}

// Reads and encodes the table a config describes, as autoint-train would, and reports its
// size, speed and memory.
int table(const cxxopts::ParseResult& flags) {
  if (!flags.count("config"))
    throw cxxopts::exceptions::exception("--config FILE is required");
  const std::string path = flags["config"].as<std::string>();
  const auto config = autoint::config::load_config(path, autoint::apps::set_flags(flags));
  const double rss_before = peak_rss_bytes();
  const autoint::train::TableReport r = autoint::train::measure_table(config.data);
  const double peak = peak_rss_bytes();
  const double mib = 1024.0 * 1024.0;
  std::cout << fmt::format(
      "{} rows x {} fields read in {:.2f} s ({:.0f} rows/s, {} threads), encoded in {:.2f} s "
      "({:.0f} rows/s in all)\n"
      "split train {} / validation {} / test {}; embedding rows per field: {}\n"
      "raw codes {:.1f} MiB, encoded tensors {:.1f} MiB; peak resident memory {:.1f} MiB, "
      "{:.1f} MiB above the {:.1f} MiB before reading ({:.2f}x the encoded tensors)\n",
      r.rows, r.fields, r.read_seconds, static_cast<double>(r.rows) / r.read_seconds, r.threads,
      r.encode_seconds, static_cast<double>(r.rows) / (r.read_seconds + r.encode_seconds),
      r.train_rows, r.validation_rows, r.test_rows, fmt::join(r.cardinalities, " "),
      r.raw_bytes / mib, r.encoded_bytes / mib, peak / mib, (peak - rss_before) / mib,
      rss_before / mib, (peak - rss_before) / r.encoded_bytes);
  for (const auto& note : r.notes)
    std::cout << note << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return autoint::apps::run_main("autoint-data", [&] {
    cxxopts::Options options(
        "autoint-data",
        "Data tools.\n"
        "  autoint-data synth --out DIR [--users N] [--movies N] [--ratings N] [--seed S]\n"
        "    writes users.dat, movies.dat and ratings.dat of a seeded synthetic data set in the "
        "ML-1M format\n"
        "  autoint-data synth --format criteo|avazu --out FILE [--rows N] [--seed S]\n"
        "    writes a seeded synthetic CTR file in the Criteo (train.txt) or Avazu (train.csv) "
        "format, with planted pairwise feature interactions (see "
        "autoint/data/table/ctr_synthetic.h)\n"
        "  autoint-data stats --data DIR --out REPORT_DIR [--label-threshold T] [--note TEXT]\n"
        "    writes the exploratory data analysis of the data set in DIR (aggregate figures "
        "only) as REPORT_DIR/README.md with SVG charts\n"
        "  autoint-data table --config FILE [--set key=value ...]\n"
        "    reads and encodes the table (data.source table) as autoint-train would, and prints "
        "its rows, fields, reading speed and memory");
    options.add_options()("command", "Sub-command: synth, stats or table",
                          cxxopts::value<std::string>())(
        "o,out", "Output directory (synth --format criteo|avazu: output file)",
        cxxopts::value<std::string>())("format",
                                       "synth: movielens (a directory), criteo or avazu (a file)",
                                       cxxopts::value<std::string>()->default_value("movielens"))(
        "rows", "synth --format criteo|avazu: number of rows",
        cxxopts::value<int64_t>()->default_value("100000"))(
        "users", "synth: number of users", cxxopts::value<int64_t>()->default_value("1000"))(
        "movies", "synth: number of movies", cxxopts::value<int64_t>()->default_value("400"))(
        "ratings", "synth: number of ratings", cxxopts::value<int64_t>()->default_value("100000"))(
        "seed", "synth: generator seed", cxxopts::value<uint64_t>()->default_value("7"))(
        "data", "stats: directory with users.dat, movies.dat, ratings.dat",
        cxxopts::value<std::string>())("label-threshold",
                                       "stats: a rating >= this value is a positive",
                                       cxxopts::value<double>()->default_value("4"))(
        "note",
        "stats: Markdown paragraph put at the top of the report (e.g. the data's provenance)",
        cxxopts::value<std::string>())("c,config", "table: experiment config (YAML)",
                                       cxxopts::value<std::string>())(
        "set", "table: override a config key (repeatable)",
        cxxopts::value<std::vector<std::string>>());
    options.parse_positional({"command"});
    options.positional_help("synth|stats|table");
    bool help = false;
    auto flags = autoint::apps::parse_flags(options, argc, argv, help);
    if (help)
      return 0;
    const std::string command = flags.count("command") ? flags["command"].as<std::string>() : "";
    if (command == "table")
      return table(flags);
    if (command != "synth" && command != "stats") {
      throw cxxopts::exceptions::exception(
          fmt::format("unknown command \"{}\": expected synth, stats or table", command));
    }
    if (!flags.count("out"))
      throw cxxopts::exceptions::exception("--out DIR is required");
    return command == "synth" ? synth(flags) : stats(flags, argc, argv);
  });
}
