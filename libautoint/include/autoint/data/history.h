// Per-person histories: the items each person liked in the training split, as the padded
// [rows, max_len] id tensors a history-aware model (nn::HistoryOptions) takes.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <torch/torch.h>

namespace autoint::data {

// bag: a row's history is the person's training positives other than the row's own item;
// recent: those before the row's time (strictly), in time order, for sequential protocols.
// Either way the most recent max_len are kept, oldest first.
enum class HistoryOrder { bag, recent };

const char* to_string(HistoryOrder order);
bool parse_history_order(const std::string& text, HistoryOrder& order);

class Histories {
 public:
  Histories() = default;
  // The events (person, item id, time) are the training split's positives; item ids are the
  // item field's encoded ids (>= 1: 0 is the padding). Throws std::invalid_argument for
  // max_len < 1, sizes that differ, or an item id < 1.
  Histories(int64_t max_len, HistoryOrder order, const std::vector<int64_t>& users,
            const std::vector<int64_t>& items, const std::vector<int64_t>& timestamps);

  int64_t max_len() const { return max_len_; }
  HistoryOrder order() const { return order_; }
  bool empty() const { return max_len_ == 0; }
  // The person's events, (time, item) in time order (ties by item id); empty if none.
  const std::vector<std::pair<int64_t, int64_t>>& events(int64_t user) const;

  // Rows [users.size(), max_len] int64 (CPU), right-padded with 0: row i is users[i]'s history
  // without item excluded[i] (bag; 0 excludes nothing) or before time before[i] (recent).
  // `excluded` and `before` may be empty (nothing excluded; no time bound).
  torch::Tensor rows(const std::vector<int64_t>& users, const std::vector<int64_t>& excluded,
                     const std::vector<int64_t>& before) const;

  // A history given as item ids (a new visitor's liked movies, in the order given): the last
  // max_len kept, [1, max_len].
  torch::Tensor of_items(const std::vector<int64_t>& items) const;

 private:
  int64_t max_len_ = 0;
  HistoryOrder order_ = HistoryOrder::bag;
  std::unordered_map<int64_t, std::vector<std::pair<int64_t, int64_t>>> by_user_;
};

}  // namespace autoint::data
