// Elapsed time on the steady clock: the one helper every timing in the library uses.
#pragma once

#include <chrono>

namespace autoint::util {

using Clock = std::chrono::steady_clock;

// Seconds from `start` to now.
inline double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace autoint::util
