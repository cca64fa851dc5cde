// The Catch2 main of the unit-test binary, in a translation unit of its own without
// LibTorch (the autoint_catch_main target): Catch2's implementation compiles once, outside
// the unity batches of the test sources, and not again when a test changes.
#define CATCH_CONFIG_MAIN  // NOLINT
#include <catch2/catch.hpp>
