// Device selection as a small value type: "auto" | "cpu" | "cuda" | "cuda:N".
#pragma once

#include <string>

#include <torch/torch.h>

namespace autoint {

class DeviceSpec {
 public:
  enum class Kind { automatic, cpu, cuda };

  // Parses "auto", "cpu", "cuda" or "cuda:N" (N a non-negative integer). Throws
  // DeviceError naming the string and the accepted forms for anything else
  // ("gpu", "cuda:", "cuda:-1", "CPU", ...).
  static DeviceSpec parse(const std::string& text);

  DeviceSpec() = default;
  Kind kind() const { return kind_; }
  int index() const { return index_; }  // -1 when no index was given
  std::string str() const;

  // The concrete device: `auto` is CUDA when LibTorch has a usable GPU, else CPU.
  // Throws DeviceError when CUDA is asked for and unavailable, or the index is out
  // of range; never falls back to the CPU silently.
  torch::Device resolve() const;

  bool operator==(const DeviceSpec& other) const {
    return kind_ == other.kind_ && index_ == other.index_;
  }

 private:
  DeviceSpec(Kind kind, int index) : kind_(kind), index_(index) {}
  Kind kind_ = Kind::automatic;
  int index_ = -1;
};

}  // namespace autoint
