// The JSON API: strict parameter parsing, one JSON document per response, and an error
// boundary that turns every exception into a response.
#include "autoint/serve/api.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>

#include <c10/util/Exception.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "autoint/error.h"
#include "autoint/movielens/demographics.h"
#include "autoint/movielens/format.h"
#include "autoint/recommend/recommender.h"

namespace autoint::serve {
namespace {

using Json = nlohmann::ordered_json;

constexpr const char* kEndpoints =
    "/api/info, /api/users, /api/users/ID, /api/users/ID/ratings, "
    "/api/users/ID/recommendations, /api/movies, /api/movies/ID or /api/recommend";

// A failure with the HTTP status it maps to.
class HttpError : public std::runtime_error {
 public:
  HttpError(int status, const std::string& message)
      : std::runtime_error(message), status_(status), message_(message) {}
  int status() const { return status_; }
  // The whole message: what() would end it at a NUL decoded from the request (%00).
  const std::string& message() const { return message_; }

 private:
  int status_;
  std::string message_;
};

// Invalid UTF-8 (from a percent-decoded path, say) is replaced, never a dump() exception.
std::string dump(const Json& json) {
  return json.dump(-1, ' ', false, Json::error_handler_t::replace);
}

ApiResponse json_response(int status, const Json& json) {
  return {status, dump(json)};
}

ApiResponse error_response(int status, const std::string& message) {
  return json_response(status, Json{{"error", message}});
}

// Refuses parameters the endpoint does not know and repeated ones: a typo such as
// ?tpo=5 must not silently return the default.
void check_params(const QueryParams& params, const std::string& endpoint,
                  const std::set<std::string>& allowed) {
  for (auto it = params.begin(); it != params.end(); it = params.upper_bound(it->first)) {
    if (allowed.count(it->first) == 0) {
      std::string expected = "no parameters";
      if (!allowed.empty()) {
        expected.clear();
        for (const auto& name : allowed)
          expected += (expected.empty() ? "" : ", ") + name;
      }
      throw HttpError(400, fmt::format("unknown query parameter \"{}\" for {}; expected {}",
                                       it->first, endpoint, expected));
    }
    const auto count = params.count(it->first);
    if (count > 1) {
      throw HttpError(400, fmt::format("query parameter \"{}\" given {} times; expected once",
                                       it->first, count));
    }
  }
}

// A decimal integer with nothing around it, or nullopt.
std::optional<int64_t> parse_int(const std::string& text) {
  int64_t value = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end)
    return std::nullopt;
  return value;
}

int64_t int_param(const QueryParams& params, const std::string& name, int64_t fallback, int64_t min,
                  int64_t max) {
  const auto it = params.find(name);
  if (it == params.end())
    return fallback;
  const auto value = parse_int(it->second);
  if (!value) {
    throw HttpError(400, fmt::format("{} \"{}\" is not an integer; expected an integer in {}..{}",
                                     name, it->second, min, max));
  }
  if (*value < min || *value > max) {
    throw HttpError(400, fmt::format("{} {} is out of range; expected an integer in {}..{}", name,
                                     *value, min, max));
  }
  return *value;
}

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

Json movie_json(const data::Movie& movie) {
  return {{"movie_id", movie.id},
          {"title", data::latin1_to_utf8(movie.title)},
          {"year", movie.year},
          {"genres", movie.genres}};
}

Json user_json(const data::User& user, int64_t rated_count) {
  return {{"id", user.id},
          {"gender", std::string(1, user.gender)},
          {"gender_name", data::gender_name(user.gender)},
          {"age", user.age},
          {"age_group", data::age_group_name(user.age)},
          {"occupation", user.occupation},
          {"occupation_name", data::occupation_name(user.occupation)},
          {"zipcode", user.zipcode},
          {"rated_count", rated_count}};
}

// One search word matches a user when it starts the id or the zip code; a word with a
// letter or sign may also equal the gender's name ("male" must not find women through
// "female") or occur in the age group or occupation ("5" would find every "25-34").
template <typename Fields>
bool word_matches(const std::string& word, const Fields& user) {
  if (user.id_text.rfind(word, 0) == 0 || user.zipcode.rfind(word, 0) == 0)
    return true;
  if (std::all_of(word.begin(), word.end(), [](unsigned char c) { return std::isdigit(c); }))
    return false;
  return word == user.gender || user.age_group.find(word) != std::string::npos ||
         user.occupation.find(word) != std::string::npos;
}

// Echoed values are cut: a 100 KB parameter must not come back as a 100 KB error.
std::string shorten(const std::string& text) {
  constexpr std::size_t kMax = 100;
  return text.size() <= kMax ? text : text.substr(0, kMax) + "...";
}

int hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

// %XX decoding; `what` names the text in the error ("path \"/a%zz\"").
std::string percent_decode(const std::string& text, bool plus_is_space, const std::string& what) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += plus_is_space && text[i] == '+' ? ' ' : text[i];
      continue;
    }
    const int high = i + 1 < text.size() ? hex_value(text[i + 1]) : -1;
    const int low = i + 2 < text.size() ? hex_value(text[i + 2]) : -1;
    if (high < 0 || low < 0) {
      throw std::invalid_argument(
          fmt::format("{} has a malformed escape \"{}\"; expected % followed by two hex digits",
                      what, text.substr(i, 3)));
    }
    out += static_cast<char>(high * 16 + low);
    i += 2;
  }
  return out;
}

}  // namespace

std::string decode_path(const std::string& path) {
  return percent_decode(path, false, fmt::format("path \"{}\"", shorten(path)));
}

QueryParams parse_query(const std::string& query) {
  QueryParams params;
  if (query.empty())
    return params;
  for (std::size_t begin = 0; begin <= query.size();) {
    const std::size_t end = std::min(query.find('&', begin), query.size());
    const std::string pair = query.substr(begin, end - begin);
    begin = end + 1;
    if (pair.empty()) {
      throw std::invalid_argument(
          fmt::format("query string \"{}\" has an empty parameter; expected NAME=VALUE pairs "
                      "separated by single '&'",
                      shorten(query)));
    }
    // The name ends at the first '=' or ';', so that "top;x=1" names "top".
    const std::size_t name_end = std::min(pair.find_first_of("=;"), pair.size());
    const std::string name = percent_decode(pair.substr(0, name_end), true,
                                            fmt::format("query parameter \"{}\"", shorten(pair)));
    if (name.empty()) {
      throw std::invalid_argument(
          fmt::format("query parameter \"{}\" has no name; expected NAME=VALUE", shorten(pair)));
    }
    if (name_end == pair.size() || pair[name_end] != '=') {
      throw std::invalid_argument(
          fmt::format("query parameter \"{}\" has no value (\"{}\"); expected {}=VALUE, parameters "
                      "separated by '&'",
                      shorten(name), shorten(pair), shorten(name)));
    }
    const std::string raw_value = pair.substr(name_end + 1);
    const std::size_t bad = raw_value.find_first_of("=;");
    if (bad != std::string::npos) {
      throw std::invalid_argument(fmt::format(
          "query parameter \"{}\" has the value \"{}\" with a raw '{}'; expected one value per "
          "{}=VALUE, parameters separated by '&' ('=' and ';' in a value are written %3D and "
          "%3B)",
          shorten(name), shorten(raw_value), raw_value[bad], shorten(name)));
    }
    params.emplace(name, percent_decode(raw_value, true,
                                        fmt::format("query parameter \"{}\"", shorten(name))));
  }
  return params;
}

Api::Api(const recommend::Recommender& recommender) : recommender_(recommender) {
  const auto& data = recommender_.data();
  for (const auto& user : data.users)
    rated_count_.emplace(user.id, 0);
  for (const auto& rating : data.ratings)
    ++rated_count_[rating.user_id];
  // rated_count_ is ordered by id, so search_ is too.
  for (const auto& [id, count] : rated_count_) {
    const data::User& user = recommender_.user(id);
    search_.push_back({id, std::to_string(id), lower(user.zipcode), data::gender_name(user.gender),
                       lower(data::age_group_name(user.age)),
                       lower(data::occupation_name(user.occupation))});
  }
  for (const auto& movie : data.movies)
    titles_.emplace_back(movie.id, lower(data::latin1_to_utf8(movie.title)));
  std::sort(titles_.begin(), titles_.end());
  const auto movies = static_cast<int64_t>(data.movies.size());
  default_user_ = rated_count_.empty() ? 0 : rated_count_.begin()->first;
  for (const auto& [id, count] : rated_count_) {
    if (count > 0 && count < movies) {
      default_user_ = id;
      break;
    }
  }
}

std::string Api::error_json(const std::string& message) {
  return error_response(400, message).body;
}

ApiResponse Api::handle(const std::string& method, const std::string& path,
                        const QueryParams& params) const noexcept {
  try {
    try {
      return route(method, path, params);
    } catch (const HttpError& e) {
      return error_response(e.status(), e.message());
    } catch (const c10::Error& e) {
      return error_response(500, fmt::format("internal error while answering {}: {}", path,
                                             e.what_without_backtrace()));
    } catch (const std::exception& e) {
      return error_response(500,
                            fmt::format("internal error while answering {}: {}", path, e.what()));
    }
  } catch (...) {
    // Even formatting the message failed (out of memory): a fixed body still answers.
    return {500, R"({"error": "internal error"})"};
  }
}

namespace {

// The query parameter and its lower-cased words, bounded in bytes and words (the search costs
// words x entries).
std::pair<std::string, std::vector<std::string>> search_words(const QueryParams& params) {
  const auto query_it = params.find("query");
  const std::string query = query_it == params.end() ? "" : query_it->second;
  if (query.size() > kMaxQueryBytes) {
    throw HttpError(400, fmt::format("query \"{}\" has {} bytes; expected at most {}",
                                     shorten(query), query.size(), kMaxQueryBytes));
  }
  std::vector<std::string> words;
  std::istringstream split(lower(query));
  for (std::string word; split >> word;)
    words.push_back(word);
  if (words.size() > kMaxQueryWords) {
    throw HttpError(400, fmt::format("query \"{}\" has {} words; expected at most {}",
                                     shorten(query), words.size(), kMaxQueryWords));
  }
  return {query, words};
}

// Recommendations as JSON, with a history-aware model's "because you liked" movies.
Json recommendations_json(const recommend::Recommender& recommender,
                          const std::vector<recommend::Recommendation>& recommendations) {
  auto list = Json::array();
  for (std::size_t i = 0; i < recommendations.size(); ++i) {
    auto entry = movie_json(recommender.movie(recommendations[i].movie_id));
    entry["rank"] = i + 1;
    entry["score"] = recommendations[i].score;
    if (recommender.has_history()) {
      auto because = Json::array();
      for (const auto& [movie_id, drop] : recommendations[i].because) {
        auto liked = movie_json(recommender.movie(movie_id));
        liked["logit_drop_without_it"] = drop;
        because.push_back(std::move(liked));
      }
      entry["because_you_liked"] = std::move(because);
    }
    list.push_back(std::move(entry));
  }
  return list;
}

}  // namespace

ApiResponse Api::route(const std::string& method, const std::string& path,
                       const QueryParams& params) const {
  if (method != "GET" && method != "HEAD") {
    throw HttpError(
        405, fmt::format("method {} is not allowed on {}; expected GET or HEAD", method, path));
  }
  // "/api/users/3" -> {"users", "3"}; an empty segment ("/api/users/", "//") matches nothing.
  std::vector<std::string> parts;
  if (path.rfind("/api/", 0) == 0) {
    std::size_t begin = 5;
    for (std::size_t end; (end = path.find('/', begin)) != std::string::npos; begin = end + 1)
      parts.push_back(path.substr(begin, end - begin));
    parts.push_back(path.substr(begin));
    if (std::any_of(parts.begin(), parts.end(), [](const std::string& p) { return p.empty(); }))
      parts.clear();
  }
  if (parts.size() == 1 && parts[0] == "info")
    return info(params);
  if (parts.size() == 1 && parts[0] == "users")
    return users(params);
  if (parts.size() == 1 && parts[0] == "movies")
    return movies(params);
  if (parts.size() == 2 && parts[0] == "movies")
    return movie(parts[1], params);
  if (parts.size() == 1 && parts[0] == "recommend")
    return recommend_liked(params);
  if (parts.size() == 2 && parts[0] == "users")
    return user(parts[1], "", params);
  if (parts.size() == 3 && parts[0] == "users" &&
      (parts[2] == "ratings" || parts[2] == "recommendations"))
    return user(parts[1], parts[2], params);
  throw HttpError(404, fmt::format("unknown path \"{}\"; expected {}", path, kEndpoints));
}

ApiResponse Api::info(const QueryParams& params) const {
  check_params(params, "/api/info", {});
  const auto& data = recommender_.data();
  return json_response(200, Json{{"users", data.users.size()},
                                 {"movies", data.movies.size()},
                                 {"ratings", data.ratings.size()},
                                 {"default_user", default_user_},
                                 {"timestamp", recommender_.default_timestamp()},
                                 {"device", recommender_.device().str()},
                                 {"score", recommender_.score_meaning()},
                                 {"default_top", kDefaultTop},
                                 {"max_top", kMaxTop},
                                 {"max_user_limit", kMaxUserLimit},
                                 {"history", recommender_.has_history()},
                                 {"max_liked", kMaxLiked}});
}

ApiResponse Api::users(const QueryParams& params) const {
  check_params(params, "/api/users", {"limit", "query"});
  const int64_t limit = int_param(params, "limit", kDefaultUserLimit, 1, kMaxUserLimit);
  const auto [query, words] = search_words(params);

  // Users in id order, as search_ is ordered.
  auto list = Json::array();
  int64_t total = 0;
  for (const SearchFields& fields : search_) {
    if (!std::all_of(words.begin(), words.end(),
                     [&](const std::string& word) { return word_matches(word, fields); }))
      continue;
    if (++total <= limit)
      list.push_back(user_json(recommender_.user(fields.id), rated_count_.at(fields.id)));
  }
  return json_response(
      200, Json{{"query", query}, {"limit", limit}, {"total", total}, {"users", std::move(list)}});
}

ApiResponse Api::user(const std::string& id_text, const std::string& part,
                      const QueryParams& params) const {
  const std::string endpoint = part.empty() ? "/api/users/ID" : "/api/users/ID/" + part;
  const auto id = parse_int(id_text);
  if (!id) {
    const bool digits = !id_text.empty() && std::all_of(id_text.begin(), id_text.end(), [](char c) {
      return c >= '0' && c <= '9';
    });
    throw HttpError(400, fmt::format("user id \"{}\" is {}; expected a user id such as {}", id_text,
                                     digits ? "out of range" : "not an integer", default_user_));
  }
  const data::User* user = nullptr;
  try {
    user = &recommender_.user(*id);
  } catch (const DataError& e) {
    throw HttpError(404, e.what());
  }
  const int64_t rated_count = rated_count_.at(user->id);

  if (part.empty()) {
    check_params(params, endpoint, {});
    return json_response(200, Json{{"user", user_json(*user, rated_count)}});
  }
  if (part == "ratings") {
    check_params(params, endpoint, {});
    auto list = Json::array();
    for (const auto& [movie, rating] : recommender_.rated_movies(user->id)) {
      auto entry = movie_json(movie);
      entry["rating"] = rating;
      list.push_back(std::move(entry));
    }
    return json_response(
        200,
        Json{{"user_id", user->id}, {"rated_count", rated_count}, {"ratings", std::move(list)}});
  }
  check_params(params, endpoint, {"top"});
  const int64_t top = int_param(params, "top", kDefaultTop, 1, kMaxTop);
  const auto recommendations = recommender_.recommend(user->id, top);
  return json_response(
      200, Json{{"user_id", user->id},
                {"top", top},
                {"timestamp", recommender_.default_timestamp()},
                {"recommendations", recommendations_json(recommender_, recommendations)}});
}

ApiResponse Api::movies(const QueryParams& params) const {
  check_params(params, "/api/movies", {"limit", "query"});
  const int64_t limit = int_param(params, "limit", kDefaultUserLimit, 1, kMaxUserLimit);
  // Movies in id order whose title contains every word of the query (case-insensitive).
  const auto [query, words] = search_words(params);
  auto list = Json::array();
  int64_t total = 0;
  for (const auto& entry : titles_) {
    // (not a structured binding: C++17 lambdas cannot capture one, and clang-14 says so)
    const std::string& title = entry.second;
    if (!std::all_of(words.begin(), words.end(), [&](const std::string& word) {
          return title.find(word) != std::string::npos;
        }))
      continue;
    if (++total <= limit)
      list.push_back(movie_json(recommender_.movie(entry.first)));
  }
  return json_response(
      200, Json{{"query", query}, {"limit", limit}, {"total", total}, {"movies", std::move(list)}});
}

ApiResponse Api::movie(const std::string& id_text, const QueryParams& params) const {
  check_params(params, "/api/movies/ID", {});
  const auto id = parse_int(id_text);
  if (!id) {
    throw HttpError(400, fmt::format("movie id \"{}\" is not an integer; expected a movie id",
                                     shorten(id_text)));
  }
  try {
    return json_response(200, Json{{"movie", movie_json(recommender_.movie(*id))}});
  } catch (const DataError& e) {
    throw HttpError(404, e.what());
  }
}

ApiResponse Api::recommend_liked(const QueryParams& params) const {
  check_params(params, "/api/recommend", {"liked", "top"});
  const int64_t top = int_param(params, "top", kDefaultTop, 1, kMaxTop);
  const auto it = params.find("liked");
  if (it == params.end()) {
    throw HttpError(400,
                    "/api/recommend needs liked=ID,ID,... (the movie ids a visitor liked; empty "
                    "for the popularity fallback)");
  }
  std::vector<int64_t> liked;
  try {
    liked = recommend::parse_movie_ids(it->second);
  } catch (const std::invalid_argument& e) {
    throw HttpError(400, fmt::format("liked \"{}\": {}", shorten(it->second), e.what()));
  }
  if (liked.size() > static_cast<std::size_t>(kMaxLiked)) {
    throw HttpError(
        400, fmt::format("liked has {} movie ids; expected at most {}", liked.size(), kMaxLiked));
  }
  std::vector<std::string> notes;
  std::vector<recommend::Recommendation> recommendations;
  try {
    recommendations = recommender_.recommend_liked(liked, top, &notes);
  } catch (const RunError& e) {
    throw HttpError(400, e.what());
  } catch (const DataError& e) {
    throw HttpError(400, e.what());
  }
  auto given = Json::array();
  for (int64_t id : liked)
    given.push_back(movie_json(recommender_.movie(id)));
  return json_response(
      200, Json{{"liked", std::move(given)},
                {"top", top},
                {"notes", notes},
                {"score", liked.empty() ? "the share of people who liked the movie (popularity)"
                                        : recommender_.score_meaning()},
                {"recommendations", recommendations_json(recommender_, recommendations)}});
}

}  // namespace autoint::serve
