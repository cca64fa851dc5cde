// Plain threads for data preparation, independent of LibTorch's intra-op pool (which Debian's
// LibTorch leaves at one thread until a trainer sets it).
#pragma once

#include <algorithm>
#include <cstddef>
#include <exception>
#include <functional>
#include <thread>
#include <utility>
#include <vector>

namespace autoint::util {

// The threads to use when `requested` were asked for: itself when positive, else the hardware's
// (at least 1).
inline std::size_t thread_count(int requested) {
  if (requested > 0)
    return static_cast<std::size_t>(requested);
  return std::max(1u, std::thread::hardware_concurrency());
}

// Part t of [0, n) cut into `parts` consecutive parts of near-equal size: [begin, end).
inline std::pair<std::size_t, std::size_t> share_of(std::size_t n, std::size_t t,
                                                    std::size_t parts) {
  return {n * t / parts, n * (t + 1) / parts};
}

// Runs job(0), ..., job(n - 1) on n threads (the last on the calling thread) and waits for all
// of them. When jobs throw, the exception of the lowest-numbered one is rethrown here, after
// every thread has ended.
inline void run_parallel(std::size_t n, const std::function<void(std::size_t)>& job) {
  if (n == 0)
    return;
  std::vector<std::exception_ptr> errors(n);
  const auto guarded = [&](std::size_t t) {
    try {
      job(t);
    } catch (...) {
      errors[t] = std::current_exception();
    }
  };
  std::vector<std::thread> workers;
  workers.reserve(n - 1);
  try {
    for (std::size_t t = 0; t + 1 < n; ++t)
      workers.emplace_back(guarded, t);
  } catch (...) {  // a thread that could not start: end the started ones, then report it
    for (auto& w : workers)
      w.join();
    throw;
  }
  guarded(n - 1);
  for (auto& w : workers)
    w.join();
  for (const auto& e : errors) {
    if (e)
      std::rethrow_exception(e);
  }
}

}  // namespace autoint::util
