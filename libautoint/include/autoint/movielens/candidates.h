// Encoded feature rows for scoring many (user, movie) pairs: the movie fields are encoded
// once per movie, the user and time fields once per request.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include <torch/torch.h>

#include "autoint/movielens/features.h"
#include "autoint/movielens/format.h"

namespace autoint::data {

class CandidateRows {
 public:
  // Encodes the movie fields of every movie with `vocabulary`; rows are in ascending
  // movie id order, so equal scores can be broken by id cheaply. Tensors live on `device`.
  // Throws RunError unless the vocabulary is of the seed's feature set.
  CandidateRows(const Vocabulary& vocabulary, const std::vector<Movie>& movies,
                const torch::Device& device);

  // Movie id of each template row, ascending.
  const std::vector<int64_t>& movie_ids() const { return movie_ids_; }
  int64_t movies() const { return static_cast<int64_t>(movie_ids_.size()); }

  // The template row of a movie id, or -1 when the id is not among the movies.
  int64_t row_of(int64_t movie_id) const;

  // Feature rows [index.size(0), kNumFields] for the template rows `index` (int64 on the
  // device) with the user and time fields of `user` rated at `timestamp`, encoded exactly
  // as training encodes them (through raw_row and the vocabulary).
  torch::Tensor rows(const torch::Tensor& index, const User& user, int64_t timestamp) const;

  // Encoded rows `features` [n, kNumFields] (on the device) with their movie fields replaced
  // by those of the template rows `index` [n]: the same user at the same time, other movies
  // (the sampled negatives of implicit training).
  torch::Tensor with_movies(const torch::Tensor& features, const torch::Tensor& index) const;

 private:
  Vocabulary vocabulary_;
  Movie any_movie_;  // raw_row needs a movie; only its user and time fields are kept
  torch::Device device_;
  torch::Tensor movie_rows_;  // [movies, kNumFields] int64, movie fields filled
  std::vector<int64_t> movie_ids_;
};

}  // namespace autoint::data
