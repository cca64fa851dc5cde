// The Catch2 main of the unit-test binary.
#define CATCH_CONFIG_MAIN  // NOLINT
#include "autoint_catch.h"
