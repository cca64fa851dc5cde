// A baseline's figures in a full-ranking result, for the tests that compare a model with one.
#pragma once

#include <string>

#include "autoint/eval/full_ranking.h"
#include "autoint_catch.h"

namespace autoint::test {

// The metrics of the baseline called `name` (a reference into `result`); fails the test when
// there is none.
inline const train::FullRankingMetrics& baseline(const train::FullRankingResult& result,
                                                 const std::string& name) {
  for (const auto& [n, m] : result.baselines) {
    if (n == name)
      return m;
  }
  FAIL("no baseline " << name);
  throw;
}

}  // namespace autoint::test
