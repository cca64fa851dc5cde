// autoint-data: data tools; `synth` writes a synthetic data set in the ML-1M format.
#include <iostream>

#include <fmt/format.h>

#include "app_support.h"
#include "autoint/data/synthetic.h"

int main(int argc, char** argv) {
  return autoint::apps::run_main("autoint-data", [&] {
    cxxopts::Options options("autoint-data",
                             "Data tools.\n  autoint-data synth --out DIR [--users N] [--movies N] "
                             "[--ratings N] [--seed S]\n    writes users.dat, movies.dat and "
                             "ratings.dat of a seeded synthetic data set in the ML-1M format");
    options.add_options()("command", "Sub-command: synth", cxxopts::value<std::string>())(
        "o,out", "Output directory", cxxopts::value<std::string>())(
        "users", "Number of users", cxxopts::value<int64_t>()->default_value("1000"))(
        "movies", "Number of movies", cxxopts::value<int64_t>()->default_value("400"))(
        "ratings", "Number of ratings", cxxopts::value<int64_t>()->default_value("100000"))(
        "seed", "Generator seed", cxxopts::value<uint64_t>()->default_value("7"));
    options.parse_positional({"command"});
    options.positional_help("synth");
    bool help = false;
    auto flags = autoint::apps::parse_flags(options, argc, argv, help);
    if (help)
      return 0;
    const std::string command = flags.count("command") ? flags["command"].as<std::string>() : "";
    if (command != "synth") {
      throw cxxopts::exceptions::exception(
          fmt::format("unknown command \"{}\": expected synth", command));
    }
    if (!flags.count("out"))
      throw cxxopts::exceptions::exception("--out DIR is required");
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
  });
}
