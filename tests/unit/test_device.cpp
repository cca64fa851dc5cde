// Device strings: parsing, bad strings, and no silent CPU fallback.
#include "autoint_catch.h"

#include "autoint/device.h"
#include "autoint/error.h"

using autoint::DeviceError;
using autoint::DeviceSpec;

TEST_CASE("device strings parse", "[device]") {
  CHECK(DeviceSpec::parse("auto").kind() == DeviceSpec::Kind::automatic);
  CHECK(DeviceSpec::parse("cpu").kind() == DeviceSpec::Kind::cpu);
  CHECK(DeviceSpec::parse("cuda").kind() == DeviceSpec::Kind::cuda);
  CHECK(DeviceSpec::parse("cuda").index() == -1);
  const auto cuda1 = DeviceSpec::parse("cuda:1");
  CHECK(cuda1.kind() == DeviceSpec::Kind::cuda);
  CHECK(cuda1.index() == 1);
  CHECK(cuda1.str() == "cuda:1");
  CHECK(DeviceSpec::parse("cpu").resolve() == torch::Device(torch::kCPU));
}

TEST_CASE("bad device strings are errors naming the string", "[device]") {
  for (const char* bad : {"gpu", "cuda:", "cuda:-1", "CPU", "", "cuda:1x", "cuda:+1", "cpu:0",
                          " cpu", "cuda:99999999999"}) {
    INFO(bad);
    REQUIRE_THROWS_AS(DeviceSpec::parse(bad), DeviceError);
    REQUIRE_THROWS_WITH(DeviceSpec::parse(bad), Catch::Contains(std::string("\"") + bad + "\"") &&
                                                    Catch::Contains("cuda:N"));
  }
}

// What tests/unit/run_requiring.sh asks before it runs the [cuda] tests: fails without CUDA.
TEST_CASE("CUDA is available", "[.][cuda_probe]") {
  REQUIRE(torch::cuda::is_available());
}

TEST_CASE("auto resolves to CUDA only when it is available", "[device]") {
  const auto device = DeviceSpec::parse("auto").resolve();
  CHECK(device.is_cuda() == torch::cuda::is_available());
}

TEST_CASE("asking for CUDA without CUDA is an error, not a CPU run", "[device]") {
  if (torch::cuda::is_available()) {
    WARN("CUDA is available here; checking an out-of-range index instead");
    REQUIRE_THROWS_AS(DeviceSpec::parse("cuda:4096").resolve(), DeviceError);
    return;
  }
  REQUIRE_THROWS_AS(DeviceSpec::parse("cuda").resolve(), DeviceError);
  REQUIRE_THROWS_WITH(DeviceSpec::parse("cuda:0").resolve(),
                      Catch::Contains("CUDA is not available"));
}
