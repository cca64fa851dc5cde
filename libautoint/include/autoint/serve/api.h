// The JSON API of autoint-serve as a plain function of (method, path, query parameters) to
// (HTTP status, JSON body), so that it is tested without sockets.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace autoint::recommend {
class Recommender;
}

namespace autoint::serve {

// The bounds of the API's numeric query parameters (the page uses the same).
constexpr int64_t kMaxTop = 100;  // recommendations?top=1..kMaxTop
constexpr int64_t kDefaultTop = 10;
constexpr int64_t kMaxUserLimit = 500;  // users?limit=1..kMaxUserLimit
constexpr int64_t kDefaultUserLimit = 50;
// users?query=: the search costs words x users, so both its words and its length are bounded.
constexpr std::size_t kMaxQueryWords = 16;
constexpr std::size_t kMaxQueryBytes = 256;
// recommend?liked=: at most this many movie ids.
constexpr int64_t kMaxLiked = 1000;

// A multimap, so that a repeated key is visible (and refused).
using QueryParams = std::multimap<std::string, std::string>;

// The path of a request target ("/api/users/3" of "/api/users/3?top=5"), percent-decoded.
// Throws std::invalid_argument naming the bad escape for a '%' without two hex digits.
std::string decode_path(const std::string& path);

// The query string of a request target ("top=5&x=a+b", without '?'), parsed strictly:
// NAME=VALUE pairs separated by '&', '+' and %XX decoded. A raw ';' or a second '=' in a
// value, an empty pair, a pair without '=' or a bad escape throw std::invalid_argument
// naming the parameter and what was expected (other parsers read "top=50=3" as top=3).
QueryParams parse_query(const std::string& query);

struct ApiResponse {
  int status = 200;
  std::string body;  // one JSON document, UTF-8; {"error": "..."} when status >= 400
};

// Endpoints (GET only; anything else is 405):
//   /api/info                                   sizes, default user, limits, whether the
//                                               model takes a history (new visitors)
//   /api/users?query=TEXT&limit=N               users in id order matching every word of
//                                               TEXT: a prefix of the id or zip code, the
//                                               gender, part of the age group or occupation
//   /api/users/ID                               profile and number of rated movies
//   /api/users/ID/ratings                       rated movies with ratings, highest first
//   /api/users/ID/recommendations?top=N         the top-N unrated movies with scores (and,
//                                               history-aware, "because you liked" movies)
//   /api/movies?query=TEXT&limit=N              movies in id order whose title has every word
//   /api/movies/ID                              one movie
//   /api/recommend?liked=ID,ID&top=N            a new visitor's top-N from the movies they
//                                               liked (a history-aware run; an empty list:
//                                               the popularity fallback, said so in "notes")
// Errors: 400 for a malformed or out-of-range value, an unknown/repeated parameter or a
// search of more than kMaxQueryWords words, 404 for an unknown user or path, 405 for a
// method other than GET and HEAD, 500 for anything unexpected; the message names the bad
// value and what was expected.
class Api {
 public:
  // Keeps a reference: the recommender must outlive the Api.
  explicit Api(const recommend::Recommender& recommender);

  // Never throws: every failure becomes an error response.
  ApiResponse handle(const std::string& method, const std::string& path,
                     const QueryParams& params) const noexcept;

  // The user the page shows first: the lowest id with ratings and unrated movies left
  // (so that every part of the page has content), else the lowest id; 0 without users.
  int64_t default_user() const { return default_user_; }

  // {"error": message} with any invalid UTF-8 in the message replaced: the body of every
  // error response, also of those the HTTP server makes itself.
  static std::string error_json(const std::string& message);

 private:
  ApiResponse route(const std::string& method, const std::string& path,
                    const QueryParams& params) const;
  ApiResponse info(const QueryParams& params) const;
  ApiResponse users(const QueryParams& params) const;
  ApiResponse movies(const QueryParams& params) const;
  ApiResponse movie(const std::string& id_text, const QueryParams& params) const;
  ApiResponse recommend_liked(const QueryParams& params) const;
  ApiResponse user(const std::string& id_text, const std::string& part,
                   const QueryParams& params) const;

  // What a search word is matched against, lower-cased once rather than per word and user.
  struct SearchFields {
    int64_t id;
    std::string id_text, zipcode, gender, age_group, occupation;
  };

  const recommend::Recommender& recommender_;
  std::map<int64_t, int64_t> rated_count_;  // user id -> ratings, for every user (ordered)
  std::vector<SearchFields> search_;        // in id order, as rated_count_
  std::vector<std::pair<int64_t, std::string>> titles_;  // movie id, lower-cased UTF-8 title
  int64_t default_user_ = 0;
};

}  // namespace autoint::serve
