// Resolving device specs to LibTorch devices (parsing is in the header, torch-free).
#include "autoint/device.h"

#include <torch/torch.h>

#include <fmt/format.h>

#include "autoint/error.h"

namespace autoint {

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
