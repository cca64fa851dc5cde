// Per-person histories: the row's own item left out (bag), only earlier items (recent), the
// most recent max_len kept oldest first, padding, a visitor's list, and bad inputs.
#include "autoint_catch.h"

#include <torch/torch.h>

#include "autoint/data/history.h"

using namespace autoint;

namespace {

std::vector<int64_t> row(const torch::Tensor& rows, int64_t i) {
  const torch::Tensor r = rows[i].contiguous();
  return std::vector<int64_t>(r.data_ptr<int64_t>(), r.data_ptr<int64_t>() + r.numel());
}

// Person 1 liked items 5 (t 10), 3 (t 20), 8 (t 30), 2 (t 40); person 2 item 4 (t 15).
data::Histories histories(int64_t max_len, data::HistoryOrder order) {
  return data::Histories(max_len, order, {1, 1, 2, 1, 1}, {5, 3, 4, 8, 2}, {10, 20, 15, 30, 40});
}

}  // namespace

TEST_CASE("histories: bag leaves the row's own item out and keeps the most recent",
          "[data][history]") {
  const auto h = histories(3, data::HistoryOrder::bag);
  const torch::Tensor rows = h.rows({1, 1, 2, 3}, {8, 0, 4, 0}, {});
  CHECK(row(rows, 0) == std::vector<int64_t>{5, 3, 2});  // 8 left out, so 5 comes back in
  CHECK(row(rows, 1) == std::vector<int64_t>{3, 8, 2});  // the last 3, oldest first
  CHECK(row(rows, 2) == std::vector<int64_t>{0, 0, 0});  // the only item is the row's own
  CHECK(row(rows, 3) == std::vector<int64_t>{0, 0, 0});  // an unknown person: padding
  // The time bound is for recent histories only.
  CHECK(row(h.rows({1}, {}, {15}), 0) == std::vector<int64_t>{3, 8, 2});
}

TEST_CASE("histories: recent keeps what came strictly before the row's time", "[data][history]") {
  const auto h = histories(5, data::HistoryOrder::recent);
  const torch::Tensor rows = h.rows({1, 1, 1}, {8, 0, 0}, {30, 31, 10});
  CHECK(row(rows, 0) == std::vector<int64_t>{5, 3, 0, 0, 0});
  CHECK(row(rows, 1) == std::vector<int64_t>{5, 3, 8, 0, 0});
  CHECK(row(rows, 2) == std::vector<int64_t>{0, 0, 0, 0, 0});
  CHECK(h.events(1).size() == 4);
  CHECK(h.events(9).empty());
}

TEST_CASE("histories: a visitor's list keeps its last max_len", "[data][history]") {
  const auto h = histories(3, data::HistoryOrder::bag);
  CHECK(row(h.of_items({1, 2, 3, 4, 5}), 0) == std::vector<int64_t>{3, 4, 5});
  CHECK(row(h.of_items({7}), 0) == std::vector<int64_t>{7, 0, 0});
}

TEST_CASE("histories: bad inputs", "[data][history]") {
  CHECK_THROWS_WITH(data::Histories(0, data::HistoryOrder::bag, {}, {}, {}),
                    Catch::Contains("max_len must be >= 1 (got 0)"));
  CHECK_THROWS_WITH(data::Histories(2, data::HistoryOrder::bag, {1}, {0}, {5}),
                    Catch::Contains("item id 0 (expected >= 1; 0 is the padding)"));
  CHECK_THROWS_WITH(data::Histories(2, data::HistoryOrder::bag, {1, 2}, {3}, {5}),
                    Catch::Contains("2 users, 1 items and 1 times"));
  const auto h = histories(2, data::HistoryOrder::bag);
  CHECK_THROWS_WITH(h.rows({1, 2}, {3}, {}), Catch::Contains("2 users, 1 exclusions"));
  data::HistoryOrder order = data::HistoryOrder::bag;
  CHECK(data::parse_history_order("recent", order));
  CHECK(order == data::HistoryOrder::recent);
  CHECK_FALSE(data::parse_history_order("random", order));
}
