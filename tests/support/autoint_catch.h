// Catch2 for tests that see LibTorch: LibTorch pulls in glog, whose CHECK macro would
// silently replace Catch's (aborting instead of reporting). Include this first, always.
#pragma once

#include <torch/torch.h>

#undef CHECK
#include <catch2/catch.hpp>
