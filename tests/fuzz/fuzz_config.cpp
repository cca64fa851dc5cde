// libFuzzer target: the YAML config loader (config::parse_config and --set overrides).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "autoint/config/config.h"
#include "autoint/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  // Text before the first NUL is the YAML file; each line after it is a --set override.
  const size_t nul = input.find('\0');
  const std::string yaml = input.substr(0, nul);
  std::vector<std::string> overrides;
  if (nul != std::string::npos) {
    size_t start = nul + 1;
    while (start <= input.size()) {
      const size_t end = std::min(input.find('\n', start), input.size());
      overrides.push_back(input.substr(start, end - start));
      start = end + 1;
    }
  }
  try {
    const autoint::config::Config config =
        autoint::config::parse_config(yaml, "fuzz.yaml", overrides);
    // A config that parsed must survive its own round trip (to_yaml is what a run saves).
    const autoint::config::Config again =
        autoint::config::parse_config(autoint::config::to_yaml(config), "fuzz-roundtrip.yaml");
    if (autoint::config::to_yaml(again) != autoint::config::to_yaml(config)) {
      __builtin_trap();
    }
  } catch (const autoint::ConfigError&) {
    // The documented answer to bad input; anything else escaping is a bug.
  }
  return 0;
}
