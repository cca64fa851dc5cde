// Top-N movie recommendations for one user from a trained model: every unrated movie
// scored in one vectorised pass, with the same field mapping as training.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <torch/torch.h>

#include "autoint/data/history.h"
#include "autoint/movielens/candidates.h"
#include "autoint/movielens/features.h"
#include "autoint/movielens/format.h"
#include "autoint/nn/autoint.h"

namespace autoint::recommend {

struct Recommendation {
  int64_t movie_id = 0;
  float score = 0;  // the model's probability (Recommender::score_meaning says of what)
  // A history-aware model's "because you liked": up to two movies of the history that most
  // explain the score, each with the logit it loses when that movie alone is left out of the
  // history (largest first; only movies whose removal lowers the score).
  std::vector<std::pair<int64_t, float>> because;
};

// Movie ids separated by commas, as --liked and /api/recommend?liked= take them ("" is none);
// each a decimal integer. Throws std::invalid_argument naming the first entry that is not one
// (cut to 40 characters): "\"x\" is not a movie id; expected ids separated by commas, ...".
std::vector<int64_t> parse_movie_ids(const std::string& text);

// Scores candidate movies for a user. Construction precomputes the encoded movie fields
// of every movie (data::CandidateRows) on the device, so that recommend() only copies the
// unrated rows, fills the user and time columns and runs the model.
//
// recommend() and the accessors are const and may run concurrently: the model is put in
// eval mode once and is only read afterwards (as long as nobody else switches it to training).
class Recommender {
 public:
  // `histories`: for a history-aware model, each user's history (train::serving_histories);
  // std::invalid_argument if the model takes one and it is empty.
  Recommender(nn::AutoInt model, data::Vocabulary vocabulary, data::MovieLens data,
              const torch::Device& device, data::Histories histories = {});

  // Loads a run directory (train::load_run) and the data its config names
  // (train::load_movielens), reading ML-1M from `data_dir_override` when it is not empty.
  // Throws RunError/DataError from loading, ConfigError when an override is given for a
  // run trained on synthetic data, and RunError when the data is not what the run was
  // trained on (its manifest's fingerprint) unless `allow_other_data`, which makes that
  // a warning (warning()).
  static Recommender from_run(const std::string& run_dir, const torch::Device& device,
                              const std::string& data_dir_override = "",
                              bool allow_other_data = false);

  // Why the data may not suit the model (from_run with allow_other_data); empty if none.
  const std::string& warning() const { return warning_; }

  // What a score is, in words, for the run's train.objective, data.positives and
  // data.label_threshold (from_run; one constructed directly says the seed's objective).
  const std::string& score_meaning() const { return score_meaning_; }
  static std::string score_meaning(const std::string& objective, const std::string& positives,
                                   double label_threshold);

  // The top_n highest-scoring movies the user has not rated, best first; equal scores
  // are ordered by movie id, lower first (also when a tie straddles the cut). Fewer than
  // top_n when fewer movies are unrated, empty when none are. The time fields come from
  // `timestamp`, by default the latest rating timestamp in the data.
  // Throws std::invalid_argument when top_n < 1, DataError for an unknown user id.
  std::vector<Recommendation> recommend(int64_t user_id, int64_t top_n,
                                        std::optional<int64_t> timestamp = std::nullopt) const;

  // For someone who is not in the data (a new visitor): the top_n movies for a person who
  // liked `liked` (movie ids, most recent last), without a user id or demographics (their
  // fields get the unknown id), the liked movies left out. The last history max_len ids are
  // kept (notes() says so). Needs a history-aware model (RunError otherwise); DataError for
  // an unknown or repeated id, or a movie the model never saw in training. An empty list
  // ranks by popularity (the share of people who liked each movie), said so in `notes`.
  std::vector<Recommendation> recommend_liked(const std::vector<int64_t>& liked, int64_t top_n,
                                              std::vector<std::string>* notes = nullptr) const;

  bool has_history() const { return model_->has_history(); }

  const data::MovieLens& data() const { return data_; }
  const data::Vocabulary& vocabulary() const { return vocabulary_; }
  const torch::Device& device() const { return device_; }
  int64_t default_timestamp() const { return default_timestamp_; }

  // Throw DataError naming the id (and the range of known ids) when it is unknown.
  const data::User& user(int64_t id) const;
  const data::Movie& movie(int64_t id) const;

  // The user's rated movies with their ratings: highest rating first, then most recent,
  // then lower movie id.
  std::vector<std::pair<data::Movie, int32_t>> rated_movies(int64_t user_id) const;

 private:
  struct UserRatings {
    std::vector<std::size_t> ratings;  // indices into data_.ratings
    std::vector<int64_t> rows;         // candidate template rows of the rated movies
  };

  // Scores the candidate template rows for `who` with history `history` ([1, max_len] or
  // undefined) at `timestamp`: probabilities [candidates.size()] (CPU).
  torch::Tensor score(const std::vector<int64_t>& candidates, const data::User& who,
                      const torch::Tensor& history, int64_t timestamp) const;
  // The best top_n of `probabilities` over `candidates` (ties by movie id), NaN refused.
  std::vector<Recommendation> top(const torch::Tensor& probabilities,
                                  const std::vector<int64_t>& candidates, int64_t top_n,
                                  const std::string& who) const;
  // liked_share_ for a rating >= label_threshold being a liked movie (construction, from_run).
  void count_liked(double label_threshold);
  // Fills each recommendation's `because` from the history [1, max_len].
  void explain(std::vector<Recommendation>& list, const data::User& who,
               const torch::Tensor& history, int64_t timestamp) const;

  mutable nn::AutoInt model_;  // forward() is non-const in LibTorch; scoring does not mutate it
  data::Vocabulary vocabulary_;
  data::MovieLens data_;
  torch::Device device_;
  data::CandidateRows candidates_;  // template rows in ascending movie id order
  std::unordered_map<int64_t, std::size_t> user_index_;    // user id -> index in data_.users
  std::unordered_map<int64_t, std::size_t> movie_index_;   // movie id -> index in data_.movies
  std::unordered_map<int64_t, UserRatings> user_ratings_;  // users without ratings are absent
  data::Histories histories_;
  int64_t min_user_id_ = 0;
  int64_t max_user_id_ = 0;
  std::string warning_;
  std::string score_meaning_ = score_meaning("rating", "liked", 4.0);
  double label_threshold_ = 4.0;    // a liked movie, for the popularity fallback
  std::vector<float> liked_share_;  // per template row: the share of people who liked it
  int64_t default_timestamp_ = 0;
};

}  // namespace autoint::recommend
