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
  auto recs = nlohmann::ordered_json::array();
  for (std::size_t i = 0; i < recommendations.size(); ++i) {
    auto entry = movie_json(recommender.movie(recommendations[i].movie_id));
    entry["rank"] = i + 1;
    entry["score"] = recommendations[i].score;
    recs.push_back(entry);
  }
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
  for (std::size_t i = 0; i < recommendations.size(); ++i) {
    const auto& movie = recommender.movie(recommendations[i].movie_id);
    std::cout << fmt::format("  {:>3}. {:.4f}  {}  [{}]\n", i + 1, recommendations[i].score,
                             autoint::data::latin1_to_utf8(movie.title), genre_list(movie));
  }
}

}  // namespace

int main(int argc, char** argv) {
  return autoint::apps::run_main("autoint-recommend", [&] {
    cxxopts::Options options("autoint-recommend",
                             "Recommend the movies a user has not rated yet, best first, with a "
                             "run directory written by autoint-train.");
    autoint::apps::add_run_flags(options);
    options.add_options()("u,user", "User id", cxxopts::value<int64_t>())(
        "n,top", "How many movies to recommend", cxxopts::value<int64_t>()->default_value("10"))(
        "json", "Print one JSON document instead of text");
    bool help = false;
    auto flags = autoint::apps::parse_flags(options, argc, argv, help);
    if (help)
      return 0;
    const std::string run = autoint::apps::run_flag(flags);
    if (!flags.count("user"))
      throw cxxopts::exceptions::exception("--user ID is required");
    const int64_t top = flags["top"].as<int64_t>();
    if (top < 1)
      throw cxxopts::exceptions::exception(fmt::format("--top must be at least 1 (got {})", top));
    const torch::Device device =
        autoint::DeviceSpec::parse(flags["device"].as<std::string>()).resolve();
    const auto recommender = Recommender::from_run(run, device, flags["data"].as<std::string>(),
                                                   flags.count("allow-other-data") > 0);
    const int64_t user_id = flags["user"].as<int64_t>();
    const auto recommendations = recommender.recommend(user_id, top);
    if (flags.count("json"))
      std::cout << to_json(recommender, user_id, recommendations).dump(2) << '\n';
    else
      print_text(recommender, user_id, recommendations);
    return 0;
  });
}
