// util/parallel.h: the thread count, the parts of a range, and run_parallel, which waits for
// every job and rethrows a job's exception on the calling thread (the table reader's threads
// run through it).
#include "autoint_catch.h"

#include <atomic>
#include <stdexcept>
#include <thread>
#include <vector>

#include "autoint/util/parallel.h"

using namespace autoint;

TEST_CASE("thread_count takes a positive request, else the hardware's", "[util]") {
  CHECK(util::thread_count(3) == 3);
  CHECK(util::thread_count(0) >= 1);
  CHECK(util::thread_count(-1) == util::thread_count(0));
}

TEST_CASE("share_of cuts a range into consecutive near-equal parts", "[util]") {
  std::size_t next = 0;
  for (std::size_t t = 0; t < 3; ++t) {
    const auto [begin, end] = util::share_of(10, t, 3);
    CHECK(begin == next);
    CHECK(end - begin >= 3);
    next = end;
  }
  CHECK(next == 10);
}

TEST_CASE("run_parallel runs every job and rethrows the lowest-numbered failure", "[util]") {
  std::vector<int> done(4, 0);
  util::run_parallel(4, [&](std::size_t t) { done[t] = 1; });
  CHECK(done == std::vector<int>{1, 1, 1, 1});

  std::atomic<int> finished{0};
  CHECK_THROWS_WITH(util::run_parallel(4,
                                       [&](std::size_t t) {
                                         if (t == 1 || t == 2)
                                           throw std::runtime_error("job " + std::to_string(t));
                                         ++finished;
                                       }),
                    "job 1");
  CHECK(finished == 2);  // the other jobs ran to the end before the rethrow
  util::run_parallel(0, [](std::size_t) { throw std::logic_error("not run"); });
}
