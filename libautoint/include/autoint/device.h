// Device selection as a small value type: "auto" | "cpu" | "cuda" | "cuda:N".
#pragma once

#include <charconv>
#include <string>

#include "autoint/error.h"

// LibTorch's device type, declared here so that parsing needs no LibTorch (the config parser
// and its fuzzer); resolve()'s callers include LibTorch and get the whole type.
namespace c10 {
struct Device;
}  // namespace c10

namespace autoint {

class DeviceSpec {
 public:
  enum class Kind { automatic, cpu, cuda };

  // Parses "auto", "cpu", "cuda" or "cuda:N" (N a non-negative integer). Throws
  // DeviceError naming the string and the accepted forms for anything else
  // ("gpu", "cuda:", "cuda:-1", "CPU", ...).
  // (Defined here, without LibTorch or fmt: the config parser and its fuzzer use it.)
  static DeviceSpec parse(const std::string& text) {
    if (text == "auto")
      return DeviceSpec(Kind::automatic, -1);
    if (text == "cpu")
      return DeviceSpec(Kind::cpu, -1);
    if (text == "cuda")
      return DeviceSpec(Kind::cuda, -1);
    const std::string prefix = "cuda:";
    if (text.compare(0, prefix.size(), prefix) == 0 && text.size() > prefix.size()) {
      const char* first = text.data() + prefix.size();
      const char* last = text.data() + text.size();
      int index = -1;
      auto [ptr, ec] = std::from_chars(first, last, index);
      if (ec == std::errc() && ptr == last && index >= 0 && *first != '+')
        return DeviceSpec(Kind::cuda, index);
    }
    throw DeviceError("unknown device \"" + text +
                      "\": expected \"auto\", \"cpu\", \"cuda\" or \"cuda:N\" with N >= 0");
  }

  DeviceSpec() = default;
  Kind kind() const { return kind_; }
  int index() const { return index_; }  // -1 when no index was given
  std::string str() const {
    switch (kind_) {
      case Kind::automatic:
        return "auto";
      case Kind::cpu:
        return "cpu";
      case Kind::cuda:
        return index_ < 0 ? "cuda" : "cuda:" + std::to_string(index_);
    }
    return "auto";
  }

  // The concrete device: `auto` is CUDA when LibTorch has a usable GPU, else CPU.
  // Throws DeviceError when CUDA is asked for and unavailable, or the index is out
  // of range; never falls back to the CPU silently.
  c10::Device resolve() const;

  bool operator==(const DeviceSpec& other) const {
    return kind_ == other.kind_ && index_ == other.index_;
  }

 private:
  DeviceSpec(Kind kind, int index) : kind_(kind), index_(index) {}
  Kind kind_ = Kind::automatic;
  int index_ = -1;
};

}  // namespace autoint
