// What every autoint app's main shares: the error boundary and option parsing helpers.
#pragma once

#include <functional>
#include <string>
#include <vector>

// Repeated flags (--set key=value ...) collect one value per flag: without this cxxopts
// would also split each value on ',' and break YAML lists such as [64,32].
#define CXXOPTS_VECTOR_DELIMITER '\0'
#include <cxxopts.hpp>

namespace autoint::apps {

// Runs `body`, turning any exception into one line on stderr ("<app>: error: ...").
// Returns body's exit code, 2 for usage errors (bad flags, config errors), 130 for an
// interrupted run (as the shell reports Ctrl-C), 1 otherwise.
int run_main(const char* app, const std::function<int()>& body);

// Parses argv, printing --help (and returning true for "exit now") when asked.
// Unknown or malformed flags throw cxxopts exceptions, which run_main reports.
cxxopts::ParseResult parse_flags(cxxopts::Options& options, int argc, char** argv, bool& help);

// The flags of the apps that load a trained run: -r/--run DIR (required), --data DIR
// (ML-1M directory instead of the run's data.dir), -d/--device (default auto) and
// --allow-other-data (data that differs from the run's manifest is a warning, not an error).
void add_run_flags(cxxopts::Options& options);

// The --run value; throws a usage error when it is missing.
std::string run_flag(const cxxopts::ParseResult& flags);

// The repeatable --set key=value overrides, in the order given (none when absent).
std::vector<std::string> set_flags(const cxxopts::ParseResult& flags);

}  // namespace autoint::apps
