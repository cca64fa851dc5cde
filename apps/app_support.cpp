// The apps' shared error boundary.
#include "app_support.h"

#include <iostream>

#include <c10/util/Exception.h>

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
  auto result = options.parse(argc, argv);
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
