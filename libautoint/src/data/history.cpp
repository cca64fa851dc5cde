// Per-person histories of training positives, and the padded rows a model takes.
#include "autoint/data/history.h"

#include <algorithm>
#include <limits>
#include <stdexcept>

#include <fmt/format.h>

namespace autoint::data {

const char* to_string(HistoryOrder order) {
  return order == HistoryOrder::bag ? "bag" : "recent";
}

bool parse_history_order(const std::string& text, HistoryOrder& order) {
  for (HistoryOrder o : {HistoryOrder::bag, HistoryOrder::recent}) {
    if (text == to_string(o)) {
      order = o;
      return true;
    }
  }
  return false;
}

Histories::Histories(int64_t max_len, HistoryOrder order, const std::vector<int64_t>& users,
                     const std::vector<int64_t>& items, const std::vector<int64_t>& timestamps)
    : max_len_(max_len), order_(order) {
  if (max_len < 1)
    throw std::invalid_argument(fmt::format("history max_len must be >= 1 (got {})", max_len));
  if (users.size() != items.size() || users.size() != timestamps.size()) {
    throw std::invalid_argument(fmt::format("histories: {} users, {} items and {} times",
                                            users.size(), items.size(), timestamps.size()));
  }
  for (std::size_t i = 0; i < users.size(); ++i) {
    if (items[i] < 1) {
      throw std::invalid_argument(
          fmt::format("histories: user {} has item id {} (expected >= 1; 0 is the padding)",
                      users[i], items[i]));
    }
    by_user_[users[i]].emplace_back(timestamps[i], items[i]);
  }
  for (auto& [user, list] : by_user_) {
    std::sort(list.begin(), list.end());
    list.erase(std::unique(list.begin(), list.end()), list.end());
  }
}

const std::vector<std::pair<int64_t, int64_t>>& Histories::events(int64_t user) const {
  static const std::vector<std::pair<int64_t, int64_t>> none;
  const auto it = by_user_.find(user);
  return it == by_user_.end() ? none : it->second;
}

torch::Tensor Histories::rows(const std::vector<int64_t>& users,
                              const std::vector<int64_t>& excluded,
                              const std::vector<int64_t>& before) const {
  if ((!excluded.empty() && excluded.size() != users.size()) ||
      (!before.empty() && before.size() != users.size())) {
    throw std::invalid_argument(fmt::format("Histories::rows: {} users, {} exclusions, {} times",
                                            users.size(), excluded.size(), before.size()));
  }
  const auto n = static_cast<int64_t>(users.size());
  torch::Tensor out = torch::zeros({n, std::max<int64_t>(max_len_, 0)}, torch::kInt64);
  if (max_len_ == 0)
    return out;
  int64_t* o = out.data_ptr<int64_t>();
  for (std::size_t i = 0; i < users.size(); ++i) {
    const auto& list = events(users[i]);
    const int64_t skip = excluded.empty() ? 0 : excluded[i];
    const int64_t limit = before.empty() || order_ == HistoryOrder::bag
                              ? std::numeric_limits<int64_t>::max()
                              : before[i];
    // The kept events, newest first, then written oldest first.
    int64_t* row = o + static_cast<int64_t>(i) * max_len_;
    int64_t kept = 0;
    for (auto it = list.rbegin(); it != list.rend() && kept < max_len_; ++it) {
      if (it->first >= limit || it->second == skip)
        continue;
      row[kept++] = it->second;
    }
    std::reverse(row, row + kept);
  }
  return out;
}

torch::Tensor Histories::of_items(const std::vector<int64_t>& items) const {
  torch::Tensor out = torch::zeros({1, max_len_}, torch::kInt64);
  const auto n = static_cast<int64_t>(items.size());
  const int64_t first = std::max<int64_t>(0, n - max_len_);
  for (int64_t i = first; i < n; ++i)
    out[0][i - first] = items[static_cast<std::size_t>(i)];
  return out;
}

}  // namespace autoint::data
