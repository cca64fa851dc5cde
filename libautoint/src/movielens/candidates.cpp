// Candidate rows: a per-movie template of encoded movie fields, completed per request.
#include "autoint/movielens/candidates.h"

#include <algorithm>
#include <numeric>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "autoint/error.h"

namespace autoint::data {
namespace {

// Field layout of raw_row: user 0..4, movie 5..10, time 11..12.
constexpr int64_t kUserFields = 5;
constexpr int64_t kMovieBegin = 5;
constexpr int64_t kMovieFields = 6;
constexpr int64_t kTimeBegin = 11;
constexpr int64_t kTimeFields = 2;

}  // namespace

CandidateRows::CandidateRows(const Vocabulary& vocabulary, const std::vector<Movie>& movies,
                             const torch::Device& device)
    : vocabulary_(vocabulary), device_(device) {
  if (!is_seed_vocabulary(vocabulary_)) {
    std::vector<std::string> names;
    for (const auto& field : vocabulary_.fields())
      names.push_back(field.name);
    throw RunError(fmt::format(
        "recommending and full-ranking evaluation build rows of the seed's 13 fields, but the "
        "model was trained on other fields ({}); train with data.features: seed and no "
        "data.drop_fields",
        fmt::join(names, ", ")));
  }
  std::vector<std::size_t> order(movies.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return movies[a].id < movies[b].id; });
  const auto count = static_cast<int64_t>(order.size());
  auto movie_rows = torch::zeros({count, kNumFields}, torch::kInt64);
  int64_t* dst = movie_rows.data_ptr<int64_t>();
  // The movie fields do not depend on the user or the time: any user and timestamp will do.
  const User placeholder;
  movie_ids_.resize(order.size());
  for (int64_t r = 0; r < count; ++r) {
    const Movie& movie = movies[order[static_cast<std::size_t>(r)]];
    const auto ids = encode_row(vocabulary_, raw_row(placeholder, movie, 0));
    std::copy(ids.begin() + kMovieBegin, ids.begin() + kMovieBegin + kMovieFields,
              dst + r * kNumFields + kMovieBegin);
    movie_ids_[static_cast<std::size_t>(r)] = movie.id;
  }
  if (!order.empty())
    any_movie_ = movies[order.front()];
  movie_rows_ = movie_rows.to(device_);
}

int64_t CandidateRows::row_of(int64_t movie_id) const {
  const auto it = std::lower_bound(movie_ids_.begin(), movie_ids_.end(), movie_id);
  return it != movie_ids_.end() && *it == movie_id ? it - movie_ids_.begin() : -1;
}

torch::Tensor CandidateRows::rows(const torch::Tensor& index, const User& user,
                                  int64_t timestamp) const {
  auto ids = encode_row(vocabulary_, raw_row(user, any_movie_, timestamp));
  const auto ids_tensor = torch::from_blob(ids.data(), {1, kNumFields}, torch::kInt64).to(device_);
  const int64_t count = index.size(0);
  torch::Tensor out = movie_rows_.index_select(0, index);
  out.narrow(1, 0, kUserFields).copy_(ids_tensor.narrow(1, 0, kUserFields).expand({count, -1}));
  out.narrow(1, kTimeBegin, kTimeFields)
      .copy_(ids_tensor.narrow(1, kTimeBegin, kTimeFields).expand({count, -1}));
  return out;
}

torch::Tensor CandidateRows::with_movies(const torch::Tensor& features,
                                         const torch::Tensor& index) const {
  if (features.dim() != 2 || features.size(1) != kNumFields || index.dim() != 1 ||
      index.size(0) != features.size(0)) {
    throw std::invalid_argument(fmt::format(
        "CandidateRows::with_movies: expected features [n, {}] and index [n] (got [{}] and [{}])",
        kNumFields, fmt::join(features.sizes(), ", "), fmt::join(index.sizes(), ", ")));
  }
  torch::Tensor out = features.clone();
  out.narrow(1, kMovieBegin, kMovieFields)
      .copy_(movie_rows_.index_select(0, index).narrow(1, kMovieBegin, kMovieFields));
  return out;
}

}  // namespace autoint::data
