// Negative sampling: never an excluded item, reproducible for a seed, the popularity
// distribution followed, users with nothing left to draw.
#include "autoint_catch.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <stdexcept>
#include <vector>

#include "autoint/train/negatives.h"

using namespace autoint;

namespace {

// 10 items; user 0 excludes 1, 3, 5 (and 3 again); user 1 every item; user 2 all but item 9
// (so little weight is left that its draws come from its allowed items directly).
data::NegativeSampler small_sampler(const std::string& distribution = "uniform") {
  std::vector<std::vector<int64_t>> excluded{{5, 3, 1, 3}, {}, {}};
  for (int64_t i = 0; i < 10; ++i)
    excluded[1].push_back(i);
  for (int64_t i = 0; i < 9; ++i)
    excluded[2].push_back(i);
  std::vector<double> counts;
  for (int64_t i = 0; i < 10; ++i)
    counts.push_back(static_cast<double>(10 * i));
  data::NegativeSamplerOptions options;
  options.distribution = distribution;
  return data::NegativeSampler(10, excluded, counts, options);
}

}  // namespace

TEST_CASE("the sampler never returns an item the user interacted with", "[negatives]") {
  for (const std::string distribution : {"uniform", "popularity"}) {
    const auto sampler = small_sampler(distribution);
    CHECK(sampler.allowed(0) == 7);
    CHECK(sampler.allowed(1) == 0);
    CHECK(sampler.allowed(2) == 1);
    const auto draws = sampler.sample({0, 2, 1, 0}, 500, 11);
    REQUIRE(draws.size() == 2000);
    std::set<int64_t> first_user;
    for (std::size_t i = 0; i < 500; ++i) {
      first_user.insert(draws[i]);
      CHECK(draws[1500 + i] != 1);
    }
    CHECK(first_user == std::set<int64_t>{0, 2, 4, 6, 7, 8, 9});  // every allowed item, no other
    CHECK(std::all_of(draws.begin() + 500, draws.begin() + 1000, [](int64_t x) { return x == 9; }));
    CHECK(std::all_of(draws.begin() + 1000, draws.begin() + 1500,
                      [](int64_t x) { return x == -1; }));  // nothing left: -1, no endless loop
  }
}

TEST_CASE("the sampler is reproducible for a seed and differs across epochs", "[negatives]") {
  const auto sampler = small_sampler();
  const auto a = sampler.sample({0, 0, 2}, 20, data::epoch_seed(42, 1));
  CHECK(a == sampler.sample({0, 0, 2}, 20, data::epoch_seed(42, 1)));
  CHECK(a != sampler.sample({0, 0, 2}, 20, data::epoch_seed(42, 2)));
  CHECK(a != sampler.sample({0, 0, 2}, 20, data::epoch_seed(43, 1)));
  CHECK(data::epoch_seed(42, 1) != data::epoch_seed(42, 2));
}

TEST_CASE("the popularity sampler follows (count + 1)^exponent", "[negatives]") {
  std::vector<double> counts;
  for (int64_t i = 0; i < 10; ++i)
    counts.push_back(static_cast<double>(10 * i));
  data::NegativeSamplerOptions options;
  options.distribution = "popularity";
  options.exponent = 0.75;
  const data::NegativeSampler sampler(10, {{}}, counts, options);
  double total = 0;
  for (double c : counts)
    total += std::pow(c + 1, 0.75);
  const int64_t n = 200000;
  const auto draws = sampler.sample({0}, n, 7);
  std::vector<double> share(10, 0.0);
  for (int64_t d : draws)
    share[static_cast<std::size_t>(d)] += 1.0 / static_cast<double>(n);
  for (int64_t i = 0; i < 10; ++i) {
    const double expected = std::pow(counts[static_cast<std::size_t>(i)] + 1, 0.75) / total;
    CHECK(sampler.probability(i) == Approx(expected).epsilon(1e-12));
    CHECK(share[static_cast<std::size_t>(i)] == Approx(expected).margin(0.005));
  }
  // Uniform: every item 1/10.
  const data::NegativeSampler uniform(10, {{}}, {}, data::NegativeSamplerOptions{});
  CHECK(uniform.probability(3) == Approx(0.1));
}

TEST_CASE("the sampler rejects bad arguments", "[negatives]") {
  data::NegativeSamplerOptions options;
  options.distribution = "zipf";
  CHECK_THROWS_AS(data::NegativeSampler(10, {{}}, {}, options), std::invalid_argument);
  options.distribution = "popularity";
  CHECK_THROWS_AS(data::NegativeSampler(10, {{}}, {1.0}, options), std::invalid_argument);
  CHECK_THROWS_AS(data::NegativeSampler(10, {{10}}, {}, data::NegativeSamplerOptions{}),
                  std::invalid_argument);
  const auto sampler = small_sampler();
  CHECK_THROWS_AS(sampler.sample({0}, 0, 1), std::invalid_argument);
  CHECK_THROWS_AS(sampler.sample({3}, 1, 1), std::invalid_argument);
}
