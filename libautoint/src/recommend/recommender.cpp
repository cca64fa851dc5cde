// Recommendations: a precomputed movie-field template, filled per request with the user's
// and the time's fields, scored in batches.
#include "autoint/recommend/recommender.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <stdexcept>

#include <fmt/format.h>

#include "autoint/error.h"
#include "autoint/experiment/pipeline.h"
#include "autoint/experiment/run_dir.h"
#include "autoint/util/allocator.h"

namespace autoint::recommend {
namespace {

// Rows per forward pass. The attention intermediates of a batch ([rows, 13, 128] floats and
// more) outgrow the CPU caches: on ML-1M, 4 batches of 1024 score ~25% faster on one thread
// than one batch of ~3,800 (measured: 33 vs 44 ms), and 256..1024 perform alike.
constexpr int64_t kBatchRows = 1024;

}  // namespace

std::vector<int64_t> parse_movie_ids(const std::string& text) {
  std::vector<int64_t> out;
  for (std::size_t start = 0; !text.empty() && start <= text.size();) {
    const std::size_t end = std::min(text.find(',', start), text.size());
    const std::string item = text.substr(start, end - start);
    int64_t id = 0;
    const auto [ptr, ec] = std::from_chars(item.data(), item.data() + item.size(), id);
    if (item.empty() || ec != std::errc() || ptr != item.data() + item.size()) {
      throw std::invalid_argument(fmt::format(
          "\"{}\" is not a movie id; expected ids separated by commas, e.g. 260,1196,1210",
          item.size() > 40 ? item.substr(0, 40) + "..." : item));
    }
    out.push_back(id);
    start = end + 1;
  }
  return out;
}

Recommender::Recommender(nn::AutoInt model, data::Vocabulary vocabulary, data::MovieLens data,
                         const torch::Device& device, data::Histories histories)
    : model_(std::move(model)),
      vocabulary_(std::move(vocabulary)),
      data_(std::move(data)),
      device_(device),
      candidates_(vocabulary_, data_.movies, device_),
      histories_(std::move(histories)) {
  if (model_->has_history() &&
      (histories_.empty() || histories_.max_len() != model_->options.history().max_len())) {
    throw std::invalid_argument(
        fmt::format("Recommender: the model takes histories of {} movies; expected them (got {})",
                    model_->options.history().max_len(),
                    histories_.empty() ? "none" : std::to_string(histories_.max_len())));
  }
  util::retain_freed_memory();
  model_->to(device_);
  model_->eval();

  for (std::size_t i = 0; i < data_.users.size(); ++i) {
    const int64_t id = data_.users[i].id;
    user_index_.emplace(id, i);
    min_user_id_ = i == 0 ? id : std::min(min_user_id_, id);
    max_user_id_ = i == 0 ? id : std::max(max_user_id_, id);
  }

  for (std::size_t i = 0; i < data_.movies.size(); ++i)
    movie_index_.emplace(data_.movies[i].id, i);

  for (std::size_t i = 0; i < data_.ratings.size(); ++i) {
    const data::Rating& rating = data_.ratings[i];
    const int64_t row = candidates_.row_of(rating.movie_id);
    if (row < 0 || user_index_.count(rating.user_id) == 0) {
      throw DataError(fmt::format(
          "rating {} names user {} and movie {}, one of which is not in the users/movies", i + 1,
          rating.user_id, rating.movie_id));
    }
    auto& entry = user_ratings_[rating.user_id];
    entry.ratings.push_back(i);
    entry.rows.push_back(row);
    default_timestamp_ = i == 0 ? rating.timestamp : std::max(default_timestamp_, rating.timestamp);
  }
  count_liked(label_threshold_);
}

void Recommender::count_liked(double label_threshold) {
  label_threshold_ = label_threshold;
  liked_share_.assign(static_cast<std::size_t>(candidates_.movies()), 0.0F);
  for (const auto& [user_id, entry] : user_ratings_) {
    for (std::size_t i = 0; i < entry.ratings.size(); ++i) {
      if (data_.ratings[entry.ratings[i]].rating >= label_threshold)
        liked_share_[static_cast<std::size_t>(entry.rows[i])] += 1.0F;
    }
  }
  const auto people = static_cast<float>(std::max<std::size_t>(1, data_.users.size()));
  for (float& share : liked_share_)
    share /= people;
}

Recommender Recommender::from_run(const std::string& run_dir, const torch::Device& device,
                                  const std::string& data_dir_override, bool allow_other_data) {
  train::LoadedRun run = train::load_run(run_dir, device);
  const config::DataConfig data_config =
      train::run_data_config(run.config, run_dir, data_dir_override);
  data::MovieLens movielens = train::load_movielens(data_config);
  std::string warning =
      train::check_data(run_dir, run.data, data::fingerprint(movielens), allow_other_data);
  data::Histories histories = train::serving_histories(movielens, run.vocabulary, data_config);
  Recommender recommender(run.model, std::move(run.vocabulary), std::move(movielens), device,
                          std::move(histories));
  recommender.warning_ = std::move(warning);
  recommender.count_liked(run.config.data.label_threshold);
  recommender.score_meaning_ = score_meaning(run.config.train.objective, run.config.data.positives,
                                             run.config.data.label_threshold);
  return recommender;
}

std::string Recommender::score_meaning(const std::string& objective, const std::string& positives,
                                       double label_threshold) {
  const std::string threshold = fmt::format("{:g}", label_threshold);
  if (objective != "implicit")
    return fmt::format("the model's probability that the user would rate the movie {} or higher",
                       threshold);
  if (positives == "rated")
    return "the model's probability of interaction: that the user would rate the movie at all "
           "(trained on rated movies against sampled unrated ones)";
  return fmt::format(
      "the model's probability of interaction: that the movie is one the user would rate {} or "
      "higher (trained on such movies against sampled unrated ones)",
      threshold);
}

const data::User& Recommender::user(int64_t id) const {
  const auto it = user_index_.find(id);
  if (it == user_index_.end()) {
    if (data_.users.empty())
      throw DataError(fmt::format("unknown user id {} (the data has no users)", id));
    throw DataError(fmt::format("unknown user id {} (the data has users {}..{})", id, min_user_id_,
                                max_user_id_));
  }
  return data_.users[it->second];
}

const data::Movie& Recommender::movie(int64_t id) const {
  const auto it = movie_index_.find(id);
  if (it == movie_index_.end()) {
    const auto& ids = candidates_.movie_ids();
    if (ids.empty())
      throw DataError(fmt::format("unknown movie id {} (the data has no movies)", id));
    throw DataError(fmt::format("unknown movie id {} (the data has movies {}..{})", id, ids.front(),
                                ids.back()));
  }
  return data_.movies[it->second];
}

std::vector<std::pair<data::Movie, int32_t>> Recommender::rated_movies(int64_t user_id) const {
  user(user_id);  // validates the id
  std::vector<std::pair<data::Movie, int32_t>> out;
  const auto it = user_ratings_.find(user_id);
  if (it == user_ratings_.end())
    return out;
  std::vector<std::size_t> order = it->second.ratings;
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    const data::Rating& x = data_.ratings[a];
    const data::Rating& y = data_.ratings[b];
    if (x.rating != y.rating)
      return x.rating > y.rating;
    if (x.timestamp != y.timestamp)
      return x.timestamp > y.timestamp;
    return x.movie_id < y.movie_id;
  });
  out.reserve(order.size());
  for (std::size_t i : order)
    out.emplace_back(movie(data_.ratings[i].movie_id), data_.ratings[i].rating);
  return out;
}

torch::Tensor Recommender::score(const std::vector<int64_t>& candidates, const data::User& who,
                                 const torch::Tensor& history, int64_t timestamp) const {
  torch::NoGradGuard no_grad;
  const auto count = static_cast<int64_t>(candidates.size());
  const auto index =
      torch::from_blob(const_cast<int64_t*>(candidates.data()), {count}, torch::kInt64).to(device_);
  // The user and time fields through raw_row and the vocabulary, exactly as training
  // encodes them.
  const torch::Tensor rows = candidates_.rows(index, who, timestamp);
  const torch::Tensor shared = history.defined() ? history.to(device_) : history;
  std::vector<torch::Tensor> logits;
  for (int64_t start = 0; start < count; start += kBatchRows) {
    const int64_t len = std::min(kBatchRows, count - start);
    logits.push_back(model_->forward(rows.narrow(0, start, len), {}, shared));
  }
  return torch::sigmoid(logits.size() == 1 ? logits.front() : torch::cat(logits))
      .to(torch::kCPU, torch::kFloat32)
      .contiguous();
}

std::vector<Recommendation> Recommender::top(const torch::Tensor& probabilities,
                                             const std::vector<int64_t>& candidates, int64_t top_n,
                                             const std::string& who) const {
  const std::vector<int64_t>& row_movie_id = candidates_.movie_ids();
  const auto count = static_cast<int64_t>(candidates.size());
  const int64_t k = std::min(top_n, count);
  const auto best = torch::topk(probabilities, k, /*dim=*/0, /*largest=*/true, /*sorted=*/true);
  const torch::Tensor top_values = std::get<0>(best).contiguous();
  const torch::Tensor top_index = std::get<1>(best).contiguous();
  const float* value = top_values.data_ptr<float>();
  const int64_t* position = top_index.data_ptr<int64_t>();
  const float* score = probabilities.data_ptr<float>();

  // topk's choice among equal scores is unspecified (and movies unseen in training with
  // the same genres and year score exactly alike): take everything above the cut from
  // topk, and the scores equal to the cut in ascending movie id order.
  const float cut = value[k - 1];
  std::vector<int64_t> chosen;
  chosen.reserve(static_cast<std::size_t>(k));
  for (int64_t i = 0; i < k; ++i) {
    if (std::isnan(value[i])) {
      throw Error(fmt::format(
          "the model scored movie {} as NaN for {}",
          row_movie_id[static_cast<std::size_t>(candidates[static_cast<std::size_t>(position[i])])],
          who));
    }
    if (value[i] > cut)
      chosen.push_back(position[i]);
  }
  for (int64_t p = 0; p < count && static_cast<int64_t>(chosen.size()) < k; ++p) {
    if (score[p] == cut)
      chosen.push_back(p);
  }

  std::vector<Recommendation> out;
  out.reserve(chosen.size());
  for (int64_t p : chosen) {
    Recommendation r;
    r.movie_id = row_movie_id[static_cast<std::size_t>(candidates[static_cast<std::size_t>(p)])];
    r.score = score[p];
    out.push_back(std::move(r));
  }
  std::sort(out.begin(), out.end(), [](const Recommendation& a, const Recommendation& b) {
    return a.score != b.score ? a.score > b.score : a.movie_id < b.movie_id;
  });
  return out;
}

void Recommender::explain(std::vector<Recommendation>& list, const data::User& who,
                          const torch::Tensor& history, int64_t timestamp) const {
  // Leave-one-out: the logit of each recommended movie with the full history and with each
  // history movie alone removed; the two largest drops name the movies that explain it (by
  // construction the named movie moves the score by the drop reported: a test checks it).
  const torch::Tensor h = history.to(torch::kCPU, torch::kInt64).contiguous();
  const int64_t len = h.size(1);
  std::vector<int64_t> items;  // the history's movie ids (field-local), in order
  for (int64_t i = 0; i < len; ++i) {
    if (const int64_t id = h.data_ptr<int64_t>()[i]; id > 0)
      items.push_back(id);
  }
  if (items.empty() || list.empty())
    return;
  const auto variants = static_cast<int64_t>(items.size()) + 1;
  // Row 0 is the whole history; row v + 1 the history without its v-th movie, packed as a
  // history of the others is (right-padded): the same as asking for that shorter list, also
  // where position matters (tokens pooling).
  std::vector<int64_t> packed(static_cast<std::size_t>(variants * len), 0);
  for (int64_t v = 0; v < variants; ++v) {
    int64_t column = 0;
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (static_cast<int64_t>(i) + 1 != v)
        packed[static_cast<std::size_t>(v * len + column++)] = items[i];
    }
  }
  const torch::Tensor histories = torch::from_blob(packed.data(), {variants, len}, torch::kInt64)
                                      .to(device_, /*non_blocking=*/false,
                                          /*copy=*/true);
  const int64_t field = model_->options.history().item_field();
  torch::NoGradGuard no_grad;
  for (Recommendation& r : list) {
    const int64_t row = candidates_.row_of(r.movie_id);
    const torch::Tensor index =
        torch::full({variants}, row, torch::TensorOptions().dtype(torch::kInt64).device(device_));
    const torch::Tensor logits =
        model_->forward(candidates_.rows(index, who, timestamp), {}, histories)
            .to(torch::kCPU, torch::kFloat32)
            .contiguous();
    const float* l = logits.data_ptr<float>();
    std::vector<std::pair<float, int64_t>> drops;  // (logit lost, movie id)
    for (std::size_t v = 0; v < items.size(); ++v) {
      const float drop = l[0] - l[v + 1];
      if (drop > 0)
        drops.emplace_back(drop, std::stoll(vocabulary_.value(field, items[v])));
    }
    std::sort(drops.begin(), drops.end(), [](const auto& a, const auto& b) {
      return a.first != b.first ? a.first > b.first : a.second < b.second;
    });
    for (std::size_t i = 0; i < std::min<std::size_t>(2, drops.size()); ++i)
      r.because.emplace_back(drops[i].second, drops[i].first);
  }
}

std::vector<Recommendation> Recommender::recommend(int64_t user_id, int64_t top_n,
                                                   std::optional<int64_t> timestamp) const {
  if (top_n < 1)
    throw std::invalid_argument(fmt::format("top_n must be at least 1 (got {})", top_n));
  const data::User& who = user(user_id);

  const auto movies = candidates_.movies();
  std::vector<char> rated(static_cast<std::size_t>(movies), 0);
  if (const auto it = user_ratings_.find(user_id); it != user_ratings_.end()) {
    for (int64_t row : it->second.rows)
      rated[static_cast<std::size_t>(row)] = 1;
  }
  std::vector<int64_t> candidates;  // template rows, ascending, hence ascending movie id
  candidates.reserve(static_cast<std::size_t>(movies));
  for (int64_t r = 0; r < movies; ++r) {
    if (!rated[static_cast<std::size_t>(r)])
      candidates.push_back(r);
  }
  if (candidates.empty())
    return {};
  const int64_t time = timestamp.value_or(default_timestamp_);
  // A history-aware model sees the user's liked movies up to the time (all of them by default).
  const torch::Tensor history =
      model_->has_history() ? histories_.rows({user_id}, {}, {time + 1}) : torch::Tensor();
  std::vector<Recommendation> out = top(score(candidates, who, history, time), candidates, top_n,
                                        fmt::format("user {}", user_id));
  if (history.defined())
    explain(out, who, history, time);
  return out;
}

std::vector<Recommendation> Recommender::recommend_liked(const std::vector<int64_t>& liked,
                                                         int64_t top_n,
                                                         std::vector<std::string>* notes) const {
  if (top_n < 1)
    throw std::invalid_argument(fmt::format("top_n must be at least 1 (got {})", top_n));
  if (!model_->has_history()) {
    throw RunError(
        "--liked needs a history-aware model (trained with data.history); this run's model "
        "knows people only by their id");
  }
  const int64_t field = model_->options.history().item_field();
  std::vector<char> seen(static_cast<std::size_t>(candidates_.movies()), 0);
  std::vector<int64_t> ids;
  for (int64_t movie_id : liked) {
    movie(movie_id);  // unknown ids are a DataError naming the id
    const int64_t row = candidates_.row_of(movie_id);
    if (seen[static_cast<std::size_t>(row)])
      throw DataError(fmt::format("movie {} is listed twice among the liked movies", movie_id));
    seen[static_cast<std::size_t>(row)] = 1;
    const int64_t id = vocabulary_.id(field, std::to_string(movie_id));
    if (id == 0) {
      throw DataError(fmt::format(
          "movie {} was never liked in the training data, so the model has no embedding for it",
          movie_id));
    }
    ids.push_back(id);
  }
  const int64_t max_len = histories_.max_len();
  if (notes != nullptr && static_cast<int64_t>(ids.size()) > max_len) {
    notes->push_back(
        fmt::format("{} liked movies given; the model reads the last {} (data.history.max_len)",
                    ids.size(), max_len));
  }
  std::vector<int64_t> candidates;
  for (int64_t r = 0; r < candidates_.movies(); ++r) {
    if (!seen[static_cast<std::size_t>(r)])
      candidates.push_back(r);
  }
  if (candidates.empty())
    return {};
  // Someone the model knows nothing of but the history: every person field unknown.
  data::User visitor;
  visitor.id = 0;
  visitor.gender = '?';
  visitor.age = -1;
  visitor.occupation = -1;
  if (ids.empty()) {
    if (notes != nullptr) {
      notes->push_back(
          "no liked movies given: ranked by popularity (how many people liked each movie), not "
          "by the model");
    }
    torch::Tensor share = torch::empty({static_cast<int64_t>(candidates.size())}, torch::kFloat32);
    float* s = share.data_ptr<float>();
    for (std::size_t i = 0; i < candidates.size(); ++i)
      s[i] = liked_share_[static_cast<std::size_t>(candidates[i])];
    return top(share, candidates, top_n, "a new visitor");
  }
  const torch::Tensor history = histories_.of_items(ids);
  std::vector<Recommendation> out = top(score(candidates, visitor, history, default_timestamp_),
                                        candidates, top_n, "a new visitor");
  explain(out, visitor, history, default_timestamp_);
  return out;
}

}  // namespace autoint::recommend
