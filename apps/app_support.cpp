// The apps' shared error boundary.
#include "app_support.h"

#include <iostream>
#include <map>

#include <c10/util/Exception.h>
#include <fmt/format.h>

#include "autoint/error.h"

namespace autoint::apps {

int run_main(const char* app, const std::function<int()>& body) {
  try {
    return body();
  } catch (const cxxopts::exceptions::exception& e) {
    std::cerr << app << ": error: " << e.what() << " (see " << app << " --help)\n";
    return 2;
  } catch (const Interrupted& e) {
    std::cerr << app << ": " << e.what() << '\n';
    return 130;
  } catch (const ConfigError& e) {
    std::cerr << app << ": error: " << e.what() << '\n';
    return 2;
  } catch (const DeviceError& e) {
    std::cerr << app << ": error: " << e.what() << '\n';
    return 2;
  } catch (const c10::Error& e) {
    std::cerr << app << ": error: " << e.what_without_backtrace() << '\n';
    return 1;
  } catch (const std::exception& e) {
    std::cerr << app << ": error: " << e.what() << '\n';
    return 1;
  }
}

cxxopts::ParseResult parse_flags(cxxopts::Options& options, int argc, char** argv, bool& help) {
  options.add_options()("h,help", "Print this help and exit");
  cxxopts::ParseResult result;
  try {
    result = options.parse(argc, argv);
  } catch (const cxxopts::exceptions::incorrect_argument_type& e) {
    // cxxopts names the value, not the option: find the option it was given to.
    const std::string what = e.what();
    // "Argument ‘abc’ failed to parse": the value between the quotes (UTF-8 ‘ and ’).
    const std::string left = "\xE2\x80\x98", right = "\xE2\x80\x99";
    const auto open = what.find(left), close = what.rfind(right);
    const std::string value =
        open != std::string::npos && close != std::string::npos && close > open
            ? what.substr(open + left.size(), close - open - left.size())
            : "";
    for (int i = 1; i < argc; ++i) {
      const std::string arg = argv[i];
      const auto eq = arg.find('=');
      if (arg.rfind("--", 0) == 0 && eq != std::string::npos && arg.substr(eq + 1) == value)
        throw cxxopts::exceptions::exception(fmt::format(
            "{} \"{}\": not a valid value for {}", arg.substr(0, eq), value, arg.substr(0, eq)));
      if (i > 1 && arg == value && argv[i - 1][0] == '-')
        throw cxxopts::exceptions::exception(
            fmt::format("{} \"{}\": not a valid value for {}", argv[i - 1], value, argv[i - 1]));
    }
    throw;
  }
  // An option given twice would silently keep the last value (the repeatable ones are lists).
  std::map<std::string, int> seen;
  for (const auto& kv : result.arguments()) {
    if (++seen[kv.key()] == 2 && kv.key() != "set" && kv.key() != "allow-host")
      throw cxxopts::exceptions::exception(
          fmt::format("--{} is given twice; give it once", kv.key()));
  }
  help = result.count("help") > 0;
  if (help)
    std::cout << options.help() << '\n';
  if (!result.unmatched().empty()) {
    throw cxxopts::exceptions::exception("unexpected argument \"" + result.unmatched().front() +
                                         "\"");
  }
  return result;
}

void add_run_flags(cxxopts::Options& options) {
  options.add_options()("r,run", "Run directory", cxxopts::value<std::string>())(
      "data", "ML-1M directory to read instead of the run's data.dir",
      cxxopts::value<std::string>()->default_value(""))(
      "d,device", "Device: auto, cpu, cuda or cuda:N",
      cxxopts::value<std::string>()->default_value("auto"))(
      "allow-other-data",
      "Use the run with data other than it was trained on (a warning instead of an error)");
}

std::string run_flag(const cxxopts::ParseResult& flags) {
  if (!flags.count("run"))
    throw cxxopts::exceptions::exception("--run DIR is required");
  return flags["run"].as<std::string>();
}

std::vector<std::string> set_flags(const cxxopts::ParseResult& flags) {
  if (!flags.count("set"))
    return {};
  return flags["set"].as<std::vector<std::string>>();
}

}  // namespace autoint::apps
