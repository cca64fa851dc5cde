// Parsing and resolving device strings.
#include "autoint/device.h"

#include <charconv>

#include <fmt/format.h>

#include "autoint/error.h"

namespace autoint {

DeviceSpec DeviceSpec::parse(const std::string& text) {
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
    if (ec == std::errc() && ptr == last && index >= 0 && *first != '+') {
      return DeviceSpec(Kind::cuda, index);
    }
  }
  throw DeviceError(fmt::format(
      "unknown device \"{}\": expected \"auto\", \"cpu\", \"cuda\" or \"cuda:N\" with N >= 0",
      text));
}

std::string DeviceSpec::str() const {
  switch (kind_) {
    case Kind::automatic:
      return "auto";
    case Kind::cpu:
      return "cpu";
    case Kind::cuda:
      return index_ < 0 ? "cuda" : fmt::format("cuda:{}", index_);
  }
  return "auto";
}

torch::Device DeviceSpec::resolve() const {
  switch (kind_) {
    case Kind::cpu:
      return torch::Device(torch::kCPU);
    case Kind::automatic:
      return torch::cuda::is_available() ? torch::Device(torch::kCUDA, 0)
                                         : torch::Device(torch::kCPU);
    case Kind::cuda:
      break;
  }
  if (!torch::cuda::is_available()) {
    throw DeviceError(fmt::format(
        "device \"{}\" requested but CUDA is not available ({}); use \"cpu\" or \"auto\"", str(),
        at::hasCUDA() ? "no GPU is visible" : "this LibTorch was built without CUDA"));
  }
  const int count = static_cast<int>(torch::cuda::device_count());
  const int index = index_ < 0 ? 0 : index_;
  if (index >= count) {
    throw DeviceError(
        fmt::format("device \"{}\" requested but only {} CUDA device(s) exist", str(), count));
  }
  return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(index));
}

}  // namespace autoint
