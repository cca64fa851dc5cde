// The JSON API of autoint-serve called directly on a tiny synthetic run: good requests
// agree with the Recommender, bad ones get a 4xx with a JSON error naming the bad value.
#include "autoint_catch.h"

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "autoint/movielens/demographics.h"
#include "autoint/movielens/features.h"
#include "autoint/recommend/recommender.h"
#include "autoint/serve/api.h"
#include "tiny_run.h"

using namespace autoint;
using nlohmann::json;

namespace {

const recommend::Recommender& api_recommender() {
  static const auto r = recommend::Recommender::from_run(test::tiny_run_dir(), torch::kCPU);
  return r;
}

const serve::Api& api() {
  static const serve::Api a(api_recommender());
  return a;
}

struct Reply {
  int status;
  json body;
};

Reply get(const std::string& path, const serve::QueryParams& params = {},
          const std::string& method = "GET") {
  const auto response = api().handle(method, path, params);
  INFO(method << " " << path << " -> " << response.status << " " << response.body);
  REQUIRE_NOTHROW(json::parse(response.body));
  return {response.status, json::parse(response.body)};
}

int64_t rated_count(int64_t user_id) {
  const auto& ratings = api_recommender().data().ratings;
  return std::count_if(ratings.begin(), ratings.end(),
                       [&](const data::Rating& r) { return r.user_id == user_id; });
}

}  // namespace

TEST_CASE("api info reports the data and a default user with something to show", "[serve]") {
  const auto reply = get("/api/info");
  REQUIRE(reply.status == 200);
  CHECK(reply.body["users"] == 60);
  CHECK(reply.body["movies"] == 80);
  CHECK(reply.body["ratings"] == 2000);
  CHECK(reply.body["max_top"] == serve::kMaxTop);
  CHECK(reply.body["timestamp"] == api_recommender().default_timestamp());
  CHECK(reply.body["score"] == api_recommender().score_meaning());
  CHECK(reply.body["score"].get<std::string>().find("rate the movie 4 or higher") !=
        std::string::npos);
  const int64_t user = reply.body["default_user"];
  CHECK(user == api().default_user());
  CHECK(rated_count(user) > 0);
  CHECK(rated_count(user) < 80);
}

TEST_CASE("api profile, ratings and recommendations agree with the recommender", "[serve]") {
  const int64_t id = 3;
  const auto& user = api_recommender().user(id);

  const auto profile = get("/api/users/3");
  REQUIRE(profile.status == 200);
  CHECK(profile.body["user"]["id"] == id);
  CHECK(profile.body["user"]["gender"] == std::string(1, user.gender));
  CHECK(profile.body["user"]["age"] == user.age);
  CHECK(profile.body["user"]["occupation"] == user.occupation);
  CHECK(profile.body["user"]["zipcode"] == user.zipcode);
  CHECK(profile.body["user"]["rated_count"] == rated_count(id));
  CHECK(!profile.body["user"]["age_group"].get<std::string>().empty());
  CHECK(!profile.body["user"]["occupation_name"].get<std::string>().empty());

  const auto ratings = get("/api/users/3/ratings");
  REQUIRE(ratings.status == 200);
  const auto expected_rated = api_recommender().rated_movies(id);
  REQUIRE(ratings.body["ratings"].size() == expected_rated.size());
  CHECK(ratings.body["rated_count"] == rated_count(id));
  for (std::size_t i = 0; i < expected_rated.size(); ++i) {
    CHECK(ratings.body["ratings"][i]["movie_id"] == expected_rated[i].first.id);
    CHECK(ratings.body["ratings"][i]["rating"] == expected_rated[i].second);
    CHECK(ratings.body["ratings"][i]["title"] == expected_rated[i].first.title);
  }

  for (int64_t top : {int64_t{1}, int64_t{7}, serve::kMaxTop}) {
    INFO("top " << top);
    const auto recs = get("/api/users/3/recommendations", {{"top", std::to_string(top)}});
    REQUIRE(recs.status == 200);
    CHECK(recs.body["top"] == top);
    const auto expected = api_recommender().recommend(id, top);
    REQUIRE(recs.body["recommendations"].size() == expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i) {
      const auto& rec = recs.body["recommendations"][i];
      CHECK(rec["rank"] == i + 1);
      CHECK(rec["movie_id"] == expected[i].movie_id);
      CHECK(rec["score"].get<float>() == expected[i].score);
      CHECK(rec["title"] == api_recommender().movie(expected[i].movie_id).title);
      CHECK(rec["year"] == api_recommender().movie(expected[i].movie_id).year);
      CHECK(rec["genres"] == api_recommender().movie(expected[i].movie_id).genres);
    }
  }
  // Without ?top the default applies.
  const auto by_default = get("/api/users/3/recommendations");
  REQUIRE(by_default.status == 200);
  CHECK(by_default.body["recommendations"].size() ==
        std::min<std::size_t>(serve::kDefaultTop, 80 - expected_rated.size()));
}

TEST_CASE("api user search matches ids, words and limits", "[serve]") {
  const auto first = get("/api/users", {{"limit", "5"}});
  REQUIRE(first.status == 200);
  CHECK(first.body["total"] == 60);
  REQUIRE(first.body["users"].size() == 5);
  for (int i = 0; i < 5; ++i)
    CHECK(first.body["users"][i]["id"] == i + 1);

  // A number finds ids and zip codes starting with it (not age groups such as "25-34").
  const auto by_id = get("/api/users", {{"query", "5"}, {"limit", "500"}});
  REQUIRE(by_id.status == 200);
  std::set<int64_t> ids;
  int64_t expected = 0;
  for (const auto& user : api_recommender().data().users) {
    const bool match = std::to_string(user.id)[0] == '5' || user.zipcode.rfind('5', 0) == 0;
    expected += match;
    if (match)
      ids.insert(user.id);
  }
  CHECK(by_id.body["total"] == expected);
  std::set<int64_t> found;
  for (const auto& u : by_id.body["users"])
    found.insert(u["id"].get<int64_t>());
  CHECK(found == ids);
  for (int64_t id : {5, 50, 59})
    CHECK(found.count(id) == 1);

  // "male" is a word of its own: it must not find women through "female".
  int64_t women = 0;
  for (const auto& user : api_recommender().data().users)
    women += user.gender == 'F';
  const auto female = get("/api/users", {{"query", " Female "}, {"limit", "500"}});
  const auto male = get("/api/users", {{"query", "male"}, {"limit", "500"}});
  CHECK(female.body["total"] == women);
  CHECK(male.body["total"] == 60 - women);
  for (const auto& u : male.body["users"])
    CHECK(u["gender"] == "M");

  // Several words must all match.
  const auto& someone = api_recommender().user(7);
  const std::string query = data::occupation_name(someone.occupation) + " " + someone.zipcode;
  const auto both = get("/api/users", {{"query", query}});
  REQUIRE(both.status == 200);
  REQUIRE(both.body["total"].get<int64_t>() >= 1);
  for (const auto& u : both.body["users"]) {
    CHECK(u["occupation"] == someone.occupation);
    CHECK(u["zipcode"].get<std::string>().rfind(someone.zipcode, 0) == 0);
  }
  CHECK(get("/api/users", {{"query", "nobody-matches-this"}}).body["total"] == 0);
}

TEST_CASE("api bad requests get a 4xx and a JSON error naming the value", "[serve]") {
  struct Case {
    std::string method, path;
    serve::QueryParams params;
    int status;
    std::string text;  // must occur in the error message
  };
  // One request per line reads as a table.
  // clang-format off
  const std::vector<Case> cases = {
      {"GET", "/api/users/abc", {}, 400, "user id \"abc\" is not an integer"},
      {"GET", "/api/users/3x/recommendations", {}, 400, "user id \"3x\""},
      {"GET", "/api/users/-/ratings", {}, 400, "user id \"-\""},
      {"GET", "/api/users/99999999999999999999", {}, 400, "\"99999999999999999999\" is out of range"},
      {"GET", std::string("/api/users/1\0abc", sizeof("/api/users/1\0abc") - 1) + "/ratings", {}, 400, std::string("user id \"1\0abc\"", sizeof("user id \"1\0abc\"") - 1)},
      {"GET", "/api/users/999999", {}, 404, "unknown user id 999999 (the data has users 1..60)"},
      {"GET", "/api/users/0/recommendations", {}, 404, "unknown user id 0"},
      {"GET", "/api/users/3/recommendations", {{"top", "0"}}, 400, "top 0 is out of range; expected an integer in 1..100"},
      {"GET", "/api/users/3/recommendations", {{"top", "101"}}, 400, "top 101 is out of range"},
      {"GET", "/api/users/3/recommendations", {{"top", "-4"}}, 400, "top -4 is out of range"},
      {"GET", "/api/users/3/recommendations", {{"top", "ten"}}, 400, "top \"ten\" is not an integer; expected an integer in 1..100"},
      {"GET", "/api/users/3/recommendations", {{"top", ""}}, 400, "top \"\" is not an integer"},
      {"GET", "/api/users/3/recommendations", {{"top", "5"}, {"top", "6"}}, 400, "\"top\" given 2 times"},
      {"GET", "/api/users/3/recommendations", {{"tpo", "5"}}, 400, "unknown query parameter \"tpo\" for /api/users/ID/recommendations; expected top"},
      {"GET", "/api/users/3", {{"top", "5"}}, 400, "expected no parameters"},
      {"GET", "/api/users", {{"limit", "0"}}, 400, "limit 0 is out of range"},
      {"GET", "/api/users", {{"limit", "501"}}, 400, "expected an integer in 1..500"},
      {"GET", "/api/nope", {}, 404, "unknown path \"/api/nope\""},
      {"GET", "/api/users/", {}, 404, "unknown path \"/api/users/\""},
      {"GET", "/api/users/3/friends", {}, 404, "unknown path"},
      {"GET", "/index.html", {}, 404, "unknown path"},
      {"POST", "/api/users/3", {}, 405, "method POST is not allowed on /api/users/3"},
      {"DELETE", "/api/info", {}, 405, "expected GET"},
  };
  // clang-format on

  for (const auto& c : cases) {
    const auto reply = get(c.path, c.params, c.method);
    INFO(c.method << " " << c.path << " -> " << reply.body.dump());
    CHECK(reply.status == c.status);
    REQUIRE(reply.body.is_object());
    REQUIRE(reply.body.size() == 1);
    REQUIRE(reply.body["error"].is_string());
    CHECK(reply.body["error"].get<std::string>().find(c.text) != std::string::npos);
  }
  // Bytes that are not UTF-8 (a percent-decoded path) still give valid JSON.
  const auto binary = get("/api/users/\xff\xfe");
  CHECK(binary.status == 400);
  CHECK(binary.body["error"].get<std::string>().find("is not an integer") != std::string::npos);
}

TEST_CASE("api on a user who rated every movie answers with an empty list", "[serve]") {
  data::MovieLens data;
  data.users = {{1, 'F', 25, 3, "12345"}, {2, 'M', 18, 4, "54321"}};
  data::Movie a;
  a.id = 10;
  a.title = "Caf\xe9 (1999)";  // Latin-1, as ML-1M stores titles
  a.genres = {"Drama"};
  a.year = 1999;
  data::Movie b = a;
  b.id = 11;
  data.movies = {a, b};
  data.ratings = {{1, 10, 5, 978300760}, {1, 11, 3, 978300761}, {2, 10, 4, 978300762}};
  const auto vocabulary = data::Vocabulary::fit(data::featurize(data, 4.0), {0, 1, 2});
  torch::manual_seed(1);
  nn::AutoInt model(nn::AutoIntOptions(vocabulary.cardinalities()).embed_dim(4));
  const recommend::Recommender r(model, vocabulary, data, torch::kCPU);
  const serve::Api small(r);
  // User 1 has nothing left to recommend, so the page starts with user 2.
  CHECK(small.default_user() == 2);
  const auto full = small.handle("GET", "/api/users/1/recommendations", {});
  CHECK(full.status == 200);
  CHECK(json::parse(full.body)["recommendations"].empty());
  const auto rest = json::parse(small.handle("GET", "/api/users/2/recommendations", {}).body);
  REQUIRE(rest["recommendations"].size() == 1);
  CHECK(rest["recommendations"][0]["movie_id"] == 11);
  CHECK(rest["recommendations"][0]["title"] == "Caf\xc3\xa9 (1999)");  // sent as UTF-8
}

TEST_CASE("api query strings are parsed strictly, naming the parameter", "[serve]") {
  CHECK(serve::parse_query("").empty());
  const auto params = serve::parse_query("top=5&query=a+b%20c%3D%3B&limit=");
  CHECK(params == serve::QueryParams{{"top", "5"}, {"query", "a b c=;"}, {"limit", ""}});
  CHECK(serve::parse_query("top=1&top=2").count("top") == 2);  // refused later, by name

  struct BadQuery {
    std::string query, text;  // text must occur in the error
  };
  // clang-format off
  const std::vector<BadQuery> cases = {
      {"top=50=3", "query parameter \"top\" has the value \"50=3\" with a raw '='"},
      {"top=5;limit=3", "query parameter \"top\" has the value \"5;limit=3\" with a raw ';'"},
      {"top;limit=3", "query parameter \"top\" has no value"},
      {"top", "query parameter \"top\" has no value (\"top\"); expected top=VALUE"},
      {"=5", "query parameter \"=5\" has no name"},
      {"top=5&&limit=3", "has an empty parameter"},
      {"top=5&", "has an empty parameter"},
      {"top=%zz", "query parameter \"top\" has a malformed escape \"%zz\"; expected % followed by two hex digits"},
      {"top=5%", "malformed escape \"%\""},
  };
  // clang-format on
  for (const auto& c : cases) {
    INFO(c.query);
    try {
      serve::parse_query(c.query);
      FAIL("no error");
    } catch (const std::invalid_argument& e) {
      CHECK(std::string(e.what()).find(c.text) != std::string::npos);
    }
  }
  CHECK(serve::decode_path("/api/users/%33") == "/api/users/3");
  CHECK(serve::decode_path("/a+b") == "/a+b");  // '+' is a space only in a query
  CHECK_THROWS_WITH(serve::decode_path("/api/%4"),
                    Catch::Matchers::Contains("path \"/api/%4\" has a malformed escape"));
}

TEST_CASE("api search is bounded in words and length", "[serve]") {
  std::string words;
  for (std::size_t i = 0; i < serve::kMaxQueryWords; ++i)
    words += "x ";
  CHECK(get("/api/users", {{"query", words}}).status == 200);
  const auto many = get("/api/users", {{"query", words + "y"}});
  CHECK(many.status == 400);
  CHECK(many.body["error"].get<std::string>().find("has 17 words; expected at most 16") !=
        std::string::npos);
  // 4,000 words, as in the report that took 0.8 s of CPU: refused before any matching.
  std::string huge;
  for (int i = 0; i < 4000; ++i)
    huge += "a ";
  const auto refused = get("/api/users", {{"query", huge}});
  CHECK(refused.status == 400);
  CHECK(refused.body["error"].get<std::string>().find("has 8000 bytes; expected at most 256") !=
        std::string::npos);
  CHECK(refused.body["error"].get<std::string>().size() < 300);  // the query is cut
}

TEST_CASE("api recommends for a new visitor from liked movies, saying why", "[serve][history]") {
  static const auto r = recommend::Recommender::from_run(test::tiny_history_run_dir(), torch::kCPU);
  const serve::Api history_api(r);
  const auto call = [&](const serve::QueryParams& params) {
    const auto response = history_api.handle("GET", "/api/recommend", params);
    INFO(response.status << " " << response.body);
    return std::make_pair(response.status, json::parse(response.body));
  };
  // Three movies user 1 liked (rated highest).
  std::vector<int64_t> liked;
  for (const auto& [movie, rating] : r.rated_movies(1)) {
    if (liked.size() < 3)
      liked.push_back(movie.id);
  }
  REQUIRE(liked.size() == 3);
  const std::string ids = fmt::format("{},{},{}", liked[0], liked[1], liked[2]);
  const auto [status, body] = call({{"liked", ids}, {"top", "4"}});
  REQUIRE(status == 200);
  REQUIRE(body["recommendations"].size() == 4);
  CHECK(body["liked"].size() == 3);
  for (const auto& rec : body["recommendations"]) {
    CHECK(std::find(liked.begin(), liked.end(), rec["movie_id"].get<int64_t>()) == liked.end());
    REQUIRE(rec.contains("because_you_liked"));
    CHECK(rec["because_you_liked"].size() <= 2);
    for (const auto& why : rec["because_you_liked"]) {
      CHECK(std::find(liked.begin(), liked.end(), why["movie_id"].get<int64_t>()) != liked.end());
      CHECK(why["logit_drop_without_it"].get<double>() > 0);
    }
  }
  // The same list as the recommender's.
  const auto direct = r.recommend_liked(liked, 4);
  for (std::size_t i = 0; i < direct.size(); ++i)
    CHECK(body["recommendations"][i]["movie_id"].get<int64_t>() == direct[i].movie_id);

  const auto [popular_status, popular] = call({{"liked", ""}});
  CHECK(popular_status == 200);
  REQUIRE(popular["notes"].size() == 1);
  CHECK_THAT(popular["notes"][0].get<std::string>(), Catch::Contains("ranked by popularity"));

  CHECK(call({{"liked", "1,x"}}).first == 400);
  CHECK_THAT(call({{"liked", "1,x"}}).second["error"].get<std::string>(),
             Catch::Contains("\"x\" is not a movie id"));
  CHECK(call({{"liked", "1,99999"}}).first == 400);
  CHECK_THAT(call({{"liked", "1,99999"}}).second["error"].get<std::string>(),
             Catch::Contains("unknown movie id 99999"));
  CHECK(call({}).first == 400);
  // A run without a history cannot serve a visitor.
  const auto plain = get("/api/recommend", {{"liked", ids}});
  CHECK(plain.status == 400);
  CHECK_THAT(plain.body["error"].get<std::string>(), Catch::Contains("history-aware model"));
  // Known users' lists carry "because you liked" too, from their own liked movies.
  const auto own = json::parse(history_api.handle("GET", "/api/users/1/recommendations", {}).body);
  REQUIRE(!own["recommendations"].empty());
  CHECK(own["recommendations"][0].contains("because_you_liked"));
}

TEST_CASE("api movie search matches title words", "[serve]") {
  const auto& movies = api_recommender().data().movies;
  const std::string word = movies.front().title.substr(0, 3);
  const auto reply = get("/api/movies", {{"query", word}, {"limit", "5"}});
  REQUIRE(reply.status == 200);
  CHECK(reply.body["total"].get<int64_t>() >= 1);
  CHECK(reply.body["movies"].size() <= 5);
  CHECK(get("/api/movies", {{"limit", "0"}}).status == 400);
  CHECK(get("/api/movies", {{"color", "red"}}).status == 400);
}
