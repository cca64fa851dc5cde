// Seeded splits and the batch iterator.
#include "autoint_catch.h"

#include <type_traits>

#include <numeric>
#include <set>

#include "autoint/data/dataset.h"

using namespace autoint::data;

TEST_CASE("splits are deterministic, disjoint and sized as Keras/sklearn", "[data][split]") {
  const auto a = split_rows(1000, 0.2, 0.1, 42);
  const auto b = split_rows(1000, 0.2, 0.1, 42);
  const auto c = split_rows(1000, 0.2, 0.1, 43);
  CHECK(a.train == b.train);
  CHECK(a.test == b.test);
  CHECK(a.validation == b.validation);
  CHECK(a.test != c.test);
  CHECK(a.test.size() == 200);
  CHECK(a.validation.size() == 80);  // floor(800 * 0.1)
  CHECK(a.train.size() == 720);
  std::set<int64_t> all(a.train.begin(), a.train.end());
  all.insert(a.test.begin(), a.test.end());
  all.insert(a.validation.begin(), a.validation.end());
  CHECK(all.size() == 1000);
  CHECK(*all.begin() == 0);
  CHECK(*all.rbegin() == 999);
  // ceil for the test size, as scikit-learn
  CHECK(split_rows(1001, 0.2, 0.0, 1).test.size() == 201);
  CHECK(split_rows(1001, 0.2, 0.0, 1).validation.empty());
  // The permutation itself is pinned: a change of algorithm changes every split.
  CHECK(permutation(5, 42) == permutation(5, 42));
  REQUIRE_THROWS_AS(split_rows(10, 0.0, 0.1, 1), std::invalid_argument);
}

TEST_CASE("batch iterator covers every row once per epoch, seeded", "[data][batches]") {
  const int64_t n = 1003;
  TensorDataset ds{
      torch::arange(n, torch::kInt64).unsqueeze(1).repeat({1, 13}),
      torch::arange(n, torch::kFloat32), torch::zeros({n}, torch::kInt64),
      torch::zeros({n}, torch::kInt64), torch::zeros({n}, torch::kFloat32),
      // numeric values travel with their rows: 2 columns, row r holds (r, -r)
      torch::stack({torch::arange(n, torch::kFloat32), -torch::arange(n, torch::kFloat32)}, 1),
      // and so do histories: 3 columns, row r holds (r + 1, 0, r + 2)
      torch::stack({torch::arange(n, torch::kInt64) + 1, torch::zeros({n}, torch::kInt64),
                    torch::arange(n, torch::kInt64) + 2},
                   1)};
  auto collect = [&](uint64_t seed, bool shuffle) {
    BatchIterator it(ds, 100, shuffle, seed);
    std::vector<std::vector<int64_t>> epochs;
    for (int e = 0; e < 2; ++e) {
      it.start_epoch();
      std::vector<int64_t> order;
      Batch batch;
      int64_t batches = 0;
      while (it.next(batch)) {
        ++batches;
        CHECK(batch.features.size(1) == 13);
        CHECK(torch::equal(batch.features.select(1, 0).to(torch::kFloat32), batch.labels));
        REQUIRE(batch.numeric.sizes() == torch::IntArrayRef({batch.features.size(0), 2}));
        CHECK(torch::equal(batch.numeric.select(1, 0), batch.labels));
        CHECK(torch::equal(batch.numeric.select(1, 1), -batch.labels));
        REQUIRE(batch.history.sizes() == torch::IntArrayRef({batch.features.size(0), 3}));
        CHECK(torch::equal(batch.history.select(1, 0), batch.features.select(1, 0) + 1));
        CHECK(torch::equal(batch.history.select(1, 2), batch.features.select(1, 0) + 2));
        for (int64_t i = 0; i < batch.features.size(0); ++i) {
          order.push_back(batch.features[i][0].item<int64_t>());
        }
      }
      CHECK(batches == it.batches_per_epoch());
      CHECK(batches == 11);
      epochs.push_back(order);
    }
    return epochs;
  };
  const auto a = collect(7, true);
  const auto b = collect(7, true);
  CHECK(a == b);
  CHECK(a[0] != a[1]);  // reshuffled each epoch
  auto sorted = a[0];
  std::sort(sorted.begin(), sorted.end());
  std::vector<int64_t> expected(n);
  std::iota(expected.begin(), expected.end(), 0);
  CHECK(sorted == expected);
  CHECK(collect(7, false)[0] == expected);
}

TEST_CASE("a restored batch iterator continues with the same batches", "[data][batches]") {
  const int64_t n = 503;
  TensorDataset ds{torch::arange(n, torch::kInt64).unsqueeze(1),
                   torch::arange(n, torch::kFloat32),
                   torch::zeros({n}, torch::kInt64),
                   torch::zeros({n}, torch::kInt64),
                   torch::zeros({n}, torch::kFloat32),
                   torch::Tensor(),   // no numeric fields
                   torch::Tensor()};  // no history
  auto first_rows = [](BatchIterator& it, int batches) {
    std::vector<int64_t> rows;
    Batch batch;
    for (int i = 0; i < batches && it.next(batch); ++i)
      rows.push_back(batch.features[0][0].item<int64_t>());
    return rows;
  };
  // Mid-pass (epoch 2, after 3 of 11 batches), at its end, and right after its start.
  for (int served : {3, 11, 0}) {
    INFO("batches served in epoch 2: " << served);
    BatchIterator original(ds, 50, true, 11);
    original.start_epoch();
    first_rows(original, 100);
    original.start_epoch();
    first_rows(original, served);
    const BatchIteratorState saved = original.state();
    BatchIterator resumed(ds, 50, true, 11);
    resumed.restore(saved);
    CHECK(first_rows(resumed, 100) == first_rows(original, 100));
    resumed.start_epoch();
    original.start_epoch();
    CHECK(first_rows(resumed, 100) == first_rows(original, 100));
  }
  BatchIterator fresh(ds, 50, true, 11);
  BatchIterator restored(ds, 50, true, 11);
  restored.restore(fresh.state());
  CHECK(first_rows(restored, 3) == first_rows(fresh, 3));

  BatchIteratorState bad = fresh.state();
  bad.rng = "not a generator";
  CHECK_THROWS_WITH(restored.restore(bad), Catch::Contains("does not parse"));
  bad = fresh.state();
  bad.in_pass = true;
  bad.position = n + 1;
  CHECK_THROWS_WITH(restored.restore(bad), Catch::Contains("position 504 is outside [0, 503]"));
}

// A BatchIterator keeps a reference to its dataset, so one made from a temporary would dangle:
// that must not compile.
static_assert(!std::is_constructible_v<autoint::data::BatchIterator, autoint::data::TensorDataset&&,
                                       int64_t, bool>,
              "BatchIterator must not accept a temporary dataset");
static_assert(std::is_constructible_v<autoint::data::BatchIterator,
                                      const autoint::data::TensorDataset&, int64_t, bool>,
              "BatchIterator takes a dataset that outlives it");
