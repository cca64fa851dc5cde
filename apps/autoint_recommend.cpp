// autoint-recommend: a user's profile and their top-N unrated movies from a trained run.
#include <algorithm>
#include <iostream>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "app_support.h"
#include "autoint/device.h"
#include "autoint/movielens/demographics.h"
#include "autoint/recommend/recommender.h"

namespace {

using autoint::recommend::Recommendation;
using autoint::recommend::Recommender;

constexpr std::size_t kTopRated = 5;

std::string genre_list(const autoint::data::Movie& movie) {
  return fmt::format("{}", fmt::join(movie.genres, "|"));
}

nlohmann::ordered_json movie_json(const autoint::data::Movie& movie) {
  return {{"movie_id", movie.id},
          {"title", autoint::data::latin1_to_utf8(movie.title)},
          {"year", movie.year},
          {"genres", movie.genres}};
}

// A recommendation's "because you liked" as JSON: the movies and the logit each one's removal
// from the history costs.
nlohmann::ordered_json because_json(const Recommender& recommender, const Recommendation& r) {
  auto out = nlohmann::ordered_json::array();
  for (const auto& [movie_id, drop] : r.because) {
    auto entry = movie_json(recommender.movie(movie_id));
    entry["logit_drop_without_it"] = drop;
    out.push_back(entry);
  }
  return out;
}

nlohmann::ordered_json recommendations_json(const Recommender& recommender,
                                            const std::vector<Recommendation>& recommendations) {
  auto recs = nlohmann::ordered_json::array();
  for (std::size_t i = 0; i < recommendations.size(); ++i) {
    auto entry = movie_json(recommender.movie(recommendations[i].movie_id));
    entry["rank"] = i + 1;
    entry["score"] = recommendations[i].score;
    if (recommender.has_history())
      entry["because_you_liked"] = because_json(recommender, recommendations[i]);
    recs.push_back(entry);
  }
  return recs;
}

// "  because you liked A, B" for a recommendation with an explanation, else "".
std::string because_line(const Recommender& recommender, const Recommendation& r) {
  if (r.because.empty())
    return "";
  std::vector<std::string> titles;
  for (const auto& entry : r.because)
    titles.push_back(autoint::data::latin1_to_utf8(recommender.movie(entry.first).title));
  return fmt::format("       because you liked {}\n", fmt::join(titles, "; "));
}

void print_list(const Recommender& recommender,
                const std::vector<Recommendation>& recommendations) {
  for (std::size_t i = 0; i < recommendations.size(); ++i) {
    const auto& movie = recommender.movie(recommendations[i].movie_id);
    std::cout << fmt::format("  {:>3}. {:.4f}  {}  [{}]\n", i + 1, recommendations[i].score,
                             autoint::data::latin1_to_utf8(movie.title), genre_list(movie))
              << because_line(recommender, recommendations[i]);
  }
}

// --liked 260,1196: the ids, or a usage error naming the bad entry.
std::vector<int64_t> parse_liked(const std::string& text) {
  try {
    return autoint::recommend::parse_movie_ids(text);
  } catch (const std::invalid_argument& e) {
    throw cxxopts::exceptions::exception(fmt::format("--liked {}: {}", text, e.what()));
  }
}

int liked_main(const Recommender& recommender, const std::vector<int64_t>& liked, int64_t top,
               bool json) {
  std::vector<std::string> notes;
  const auto recommendations = recommender.recommend_liked(liked, top, &notes);
  if (json) {
    auto given = nlohmann::ordered_json::array();
    for (int64_t id : liked)
      given.push_back(movie_json(recommender.movie(id)));
    nlohmann::ordered_json out = {
        {"liked", given},
        {"notes", notes},
        {"score",
         liked.empty() ? "the share of people who liked the movie" : recommender.score_meaning()},
        {"recommendations", recommendations_json(recommender, recommendations)}};
    std::cout << out.dump(2) << '\n';
    return 0;
  }
  std::cout << fmt::format("a new visitor who liked {} movie{}:\n", liked.size(),
                           liked.size() == 1 ? "" : "s");
  for (int64_t id : liked)
    std::cout << fmt::format("  {}\n", autoint::data::latin1_to_utf8(recommender.movie(id).title));
  for (const auto& note : notes)
    std::cout << "note: " << note << '\n';
  std::cout << fmt::format("top {} recommendations:\n", recommendations.size());
  print_list(recommender, recommendations);
  return 0;
}

nlohmann::ordered_json to_json(const Recommender& recommender, int64_t user_id,
                               const std::vector<Recommendation>& recommendations) {
  const auto& user = recommender.user(user_id);
  const auto rated = recommender.rated_movies(user_id);
  auto top_rated = nlohmann::ordered_json::array();
  for (std::size_t i = 0; i < std::min(kTopRated, rated.size()); ++i) {
    auto entry = movie_json(rated[i].first);
    entry["rating"] = rated[i].second;
    top_rated.push_back(entry);
  }
  const auto recs = recommendations_json(recommender, recommendations);
  return {{"user",
           {{"id", user.id},
            {"gender", std::string(1, user.gender)},
            {"age", user.age},
            {"age_group", autoint::data::age_group_name(user.age)},
            {"occupation", user.occupation},
            {"occupation_name", autoint::data::occupation_name(user.occupation)},
            {"zipcode", user.zipcode}}},
          {"rated_count", rated.size()},
          {"top_rated", top_rated},
          {"timestamp", recommender.default_timestamp()},
          {"score", recommender.score_meaning()},
          {"recommendations", recs}};
}

void print_text(const Recommender& recommender, int64_t user_id,
                const std::vector<Recommendation>& recommendations) {
  const auto& user = recommender.user(user_id);
  const auto rated = recommender.rated_movies(user_id);
  std::cout << fmt::format("user {}: {}, age {}, {}, zip {}\n", user.id,
                           user.gender == 'F' ? "female" : "male",
                           autoint::data::age_group_name(user.age),
                           autoint::data::occupation_name(user.occupation), user.zipcode);
  std::cout << fmt::format("rated {} movies; highest rated:\n", rated.size());
  for (std::size_t i = 0; i < std::min(kTopRated, rated.size()); ++i) {
    const auto& movie = rated[i].first;
    // ML-1M titles already end in "(YYYY)", so the year is not printed again.
    std::cout << fmt::format("  {}/5  {}  [{}]\n", rated[i].second,
                             autoint::data::latin1_to_utf8(movie.title), genre_list(movie));
  }
  if (recommendations.empty()) {
    std::cout << "no recommendations: the user has rated every movie\n";
    return;
  }
  std::cout << fmt::format("top {} recommendations (score: {}):\n", recommendations.size(),
                           recommender.score_meaning());
  print_list(recommender, recommendations);
}

}  // namespace

int main(int argc, char** argv) {
  return autoint::apps::run_main("autoint-recommend", [&] {
    cxxopts::Options options("autoint-recommend",
                             "Recommend the movies a user has not rated yet, best first, with a "
                             "run directory written by autoint-train.");
    autoint::apps::add_run_flags(options);
    options.add_options()("u,user", "User id", cxxopts::value<int64_t>())(
        "liked",
        "For a new visitor (no user id): the movie ids they liked, most recent last, e.g. "
        "260,1196,1210 (a history-aware run; an empty list ranks by popularity)",
        cxxopts::value<std::string>())("n,top", "How many movies to recommend",
                                       cxxopts::value<int64_t>()->default_value("10"))(
        "json", "Print one JSON document instead of text");
    bool help = false;
    auto flags = autoint::apps::parse_flags(options, argc, argv, help);
    if (help)
      return 0;
    const std::string run = autoint::apps::run_flag(flags);
    if (flags.count("user") == flags.count("liked"))
      throw cxxopts::exceptions::exception("give one of --user ID and --liked IDS");
    const int64_t top = flags["top"].as<int64_t>();
    if (top < 1)
      throw cxxopts::exceptions::exception(fmt::format("--top must be at least 1 (got {})", top));
    const torch::Device device =
        autoint::DeviceSpec::parse(flags["device"].as<std::string>()).resolve();
    const auto recommender = Recommender::from_run(run, device, flags["data"].as<std::string>(),
                                                   flags.count("allow-other-data") > 0);
    if (flags.count("liked")) {
      return liked_main(recommender, parse_liked(flags["liked"].as<std::string>()), top,
                        flags.count("json") > 0);
    }
    const int64_t user_id = flags["user"].as<int64_t>();
    const auto recommendations = recommender.recommend(user_id, top);
    if (flags.count("json"))
      std::cout << to_json(recommender, user_id, recommendations).dump(2) << '\n';
    else
      print_text(recommender, user_id, recommendations);
    return 0;
  });
}
