// Tests of the EDA aggregates on a hand-counted tiny data set, the demographic names,
// and that the report writes README.md with every chart it links.
#include "autoint_catch.h"

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "autoint/error.h"
#include "autoint/movielens/demographics.h"
#include "autoint/movielens/format.h"
#include "autoint/report/eda_report.h"
#include "autoint/report/stats.h"
#include "test_support.h"

using autoint::data::age_group_name;
using autoint::data::compute_stats;
using autoint::data::gender_name;
using autoint::data::MovieLens;
using autoint::data::occupation_name;
using autoint::data::write_eda_report;
using autoint::test::TempDir;
using Catch::Matchers::Contains;

namespace {

constexpr int64_t kJan2000 = 947894400;  // 2000-01-15 00:00 UTC
constexpr int64_t kMar2000 = 952646400;  // 2000-03-10
constexpr int64_t kFeb2001 = 980985600;  // 2001-02-01

// 3 users, 4 movies (movie 4 never rated), 7 ratings.
MovieLens stats_tiny() {
  MovieLens d;
  d.users = {{1, 'F', 25, 12, "10001"}, {2, 'M', 1, 10, "10002"}, {3, 'M', 25, 12, "10003"}};
  d.movies = {{1, "A (1995)", {"Comedy", "Drama"}, 1995},
              {2, "B (1996)", {"Drama"}, 1996},
              {3, "C (1997)", {"Action"}, 1997},
              {4, "D (1998)", {"Comedy", "Comedy"}, 1998}};  // a repeated genre counts once
  d.ratings = {{1, 1, 5, kJan2000},                          // r1
               {1, 2, 4, kJan2000},                          // r2
               {1, 3, 1, kMar2000},                          // r3
               {2, 1, 3, kMar2000},                          // r4
               {2, 2, 2, kFeb2001},                          // r5
               {3, 1, 4, kFeb2001},                          // r6
               {3, 2, 5, kFeb2001}};                         // r7
  return d;
}

}  // namespace

TEST_CASE("compute_stats counts a tiny data set as by hand", "[data][stats]") {
  const auto s = compute_stats(stats_tiny());
  CHECK(s.label_threshold == 4.0);
  CHECK(s.users == 3);
  CHECK(s.movies == 4);
  CHECK(s.rated_movies == 3);  // movies 1, 2, 3; movie 4 has no rating
  CHECK(s.ratings == 7);
  CHECK(s.sparsity == Approx(1.0 - 7.0 / 9.0));  // 3 users x 3 rated movies = 9 cells
  // Values: r3=1, r5=2, r4=3, r2,r6=4, r1,r7=5; sum 24.
  CHECK(s.rating_counts == std::array<int64_t, 5>{1, 1, 1, 2, 2});
  CHECK(s.mean_rating == Approx(24.0 / 7.0));
  // Positives (>= 4): r1, r2, r6, r7.
  CHECK(s.positives == 4);
  CHECK(s.positive_share == Approx(4.0 / 7.0));

  // Per user: u1 3 (r1-r3), u2 2 (r4, r5), u3 2 (r6, r7) -> sorted 2, 2, 3.
  CHECK(s.ratings_per_user.min == 2);
  CHECK(s.ratings_per_user.median == 2.0);
  CHECK(s.ratings_per_user.mean == Approx(7.0 / 3.0));
  CHECK(s.ratings_per_user.max == 3);
  // Per rated movie: m1 3 (r1, r4, r6), m2 3 (r2, r5, r7), m3 1 (r3) -> sorted 1, 3, 3.
  CHECK(s.ratings_per_movie.min == 1);
  CHECK(s.ratings_per_movie.median == 3.0);
  CHECK(s.ratings_per_movie.mean == Approx(7.0 / 3.0));
  CHECK(s.ratings_per_movie.max == 3);
  CHECK(s.movie_counts_by_rank == std::vector<int64_t>{3, 3, 1});

  // Log bins: users 2, 2, 3 all in [2, 3]; movies 1 in [1, 1], 3 and 3 in [2, 3].
  REQUIRE(s.user_histogram.size() == 1);
  CHECK(s.user_histogram[0].lo == 2);
  CHECK(s.user_histogram[0].hi == 3);
  CHECK(s.user_histogram[0].items == 3);
  REQUIRE(s.movie_histogram.size() == 2);
  CHECK(s.movie_histogram[0].lo == 1);
  CHECK(s.movie_histogram[0].hi == 1);
  CHECK(s.movie_histogram[0].items == 1);
  CHECK(s.movie_histogram[1].items == 2);

  // Top shares: 10% of 3 movies rounds up to 1 movie (3 of 7 ratings); 34% to 2 (6 of 7).
  CHECK(autoint::data::top_movies_rating_share(s, 0.1) == Approx(3.0 / 7.0));
  CHECK(autoint::data::top_movies_rating_share(s, 0.34) == Approx(6.0 / 7.0));
  CHECK(autoint::data::top_movies_rating_share(s, 1.0) == Approx(1.0));
}

TEST_CASE("compute_stats counts genres once per movie and ratings per genre", "[data][stats]") {
  const auto s = compute_stats(stats_tiny());
  // Movies: Comedy m1, m4 (listed twice, counted once) = 2; Drama m1, m2 = 2; Action m3 = 1.
  // Ratings: Comedy = m1's 3 (r1 5, r4 3, r6 4: 2 positive); Drama = m1's 3 + m2's 3
  // (r2 4, r5 2, r7 5) = 6, 4 positive; Action = m3's r3 (1), none positive.
  // Order: most movies first, ties by name (Comedy before Drama).
  REQUIRE(s.genres.size() == 3);
  CHECK(s.genres[0].genre == "Comedy");
  CHECK(s.genres[0].movies == 2);
  CHECK(s.genres[0].ratings == 3);
  CHECK(s.genres[0].positives == 2);
  CHECK(s.genres[1].genre == "Drama");
  CHECK(s.genres[1].movies == 2);
  CHECK(s.genres[1].ratings == 6);
  CHECK(s.genres[1].positives == 4);
  CHECK(s.genres[2].genre == "Action");
  CHECK(s.genres[2].movies == 1);
  CHECK(s.genres[2].ratings == 1);
  CHECK(s.genres[2].positives == 0);
}

TEST_CASE("compute_stats breaks users down by gender, age and occupation", "[data][stats]") {
  const auto s = compute_stats(stats_tiny());
  // Gender: F = u1 (r1-r3, positives r1, r2); M = u2, u3 (r4-r7, positives r6, r7).
  REQUIRE(s.genders.size() == 2);
  CHECK(s.genders[0].code == "F");
  CHECK(s.genders[0].name == "female");
  CHECK(s.genders[0].users == 1);
  CHECK(s.genders[0].ratings == 3);
  CHECK(s.genders[0].positives == 2);
  CHECK(s.genders[1].users == 2);
  CHECK(s.genders[1].ratings == 4);
  CHECK(s.genders[1].positives == 2);

  // Age: all seven README groups listed; "1" = u2 (r4 3, r5 2); "25" = u1, u3 (5 ratings,
  // positives r1, r2, r6, r7).
  REQUIRE(s.age_groups.size() == 7);
  CHECK(s.age_groups[0].code == "1");
  CHECK(s.age_groups[0].name == "Under 18");
  CHECK(s.age_groups[0].users == 1);
  CHECK(s.age_groups[0].ratings == 2);
  CHECK(s.age_groups[0].positives == 0);
  CHECK(s.age_groups[1].users == 0);
  CHECK(s.age_groups[2].name == "25-34");
  CHECK(s.age_groups[2].users == 2);
  CHECK(s.age_groups[2].ratings == 5);
  CHECK(s.age_groups[2].positives == 4);

  // Occupation: all 21; 10 (K-12 student) = u2; 12 (programmer) = u1, u3.
  REQUIRE(s.occupations.size() == 21);
  CHECK(s.occupations[10].name == "K-12 student");
  CHECK(s.occupations[10].users == 1);
  CHECK(s.occupations[10].ratings == 2);
  CHECK(s.occupations[12].name == "programmer");
  CHECK(s.occupations[12].users == 2);
  CHECK(s.occupations[12].ratings == 5);

  // A code the README does not define is listed after the known ones.
  auto data = stats_tiny();
  data.users[1].age = 99;
  const auto odd = compute_stats(data);
  REQUIRE(odd.age_groups.size() == 8);
  CHECK(odd.age_groups.back().code == "99");
  CHECK(odd.age_groups.back().name == "unknown (99)");
  CHECK(odd.age_groups.back().users == 1);
}

TEST_CASE("compute_stats counts ratings per UTC month and year", "[data][stats]") {
  const auto s = compute_stats(stats_tiny());
  // 2000-01: r1, r2; 2000-03: r3, r4; 2001-02: r5, r6, r7; the 11 months between are 0.
  REQUIRE(s.ratings_per_month.size() == 14);  // 2000-01 .. 2001-02
  CHECK(s.ratings_per_month[0].year == 2000);
  CHECK(s.ratings_per_month[0].month == 1);
  CHECK(s.ratings_per_month[0].ratings == 2);
  CHECK(s.ratings_per_month[1].ratings == 0);
  CHECK(s.ratings_per_month[2].month == 3);
  CHECK(s.ratings_per_month[2].ratings == 2);
  CHECK(s.ratings_per_month[13].year == 2001);
  CHECK(s.ratings_per_month[13].month == 2);
  CHECK(s.ratings_per_month[13].ratings == 3);
  int64_t total = 0;
  for (const auto& m : s.ratings_per_month)
    total += m.ratings;
  CHECK(total == 7);
  // 2000: r1-r4, positives r1, r2; 2001: r5-r7, positives r6, r7.
  REQUIRE(s.ratings_per_year.size() == 2);
  CHECK(s.ratings_per_year[0].year == 2000);
  CHECK(s.ratings_per_year[0].ratings == 4);
  CHECK(s.ratings_per_year[0].positives == 2);
  CHECK(s.ratings_per_year[1].year == 2001);
  CHECK(s.ratings_per_year[1].ratings == 3);
  CHECK(s.ratings_per_year[1].positives == 2);
}

TEST_CASE("compute_stats honours the label threshold and rejects bad ratings", "[data][stats]") {
  const auto s = compute_stats(stats_tiny(), 5.0);
  CHECK(s.positives == 2);  // r1, r7
  CHECK(s.positive_share == Approx(2.0 / 7.0));
  CHECK(s.ratings_per_year[0].positives == 1);  // r1

  auto data = stats_tiny();
  data.ratings[2].movie_id = 42;
  CHECK_THROWS_AS(compute_stats(data), autoint::DataError);
  data = stats_tiny();
  data.ratings[0].rating = 6;
  CHECK_THROWS_WITH(compute_stats(data), Contains("1..5"));

  const auto empty = compute_stats(MovieLens{});
  CHECK(empty.ratings == 0);
  CHECK(empty.sparsity == 1.0);
  CHECK(empty.ratings_per_month.empty());
}

TEST_CASE("demographic names follow the ML-1M README", "[data][stats]") {
  const std::vector<std::pair<int64_t, std::string>> ages{
      {1, "Under 18"}, {18, "18-24"}, {25, "25-34"}, {35, "35-44"},
      {45, "45-49"},   {50, "50-55"}, {56, "56+"},   {2, "unknown (2)"}};
  for (const auto& [code, name] : ages)
    CHECK(age_group_name(code) == name);
  CHECK(autoint::data::age_group_codes() == std::vector<int64_t>{1, 18, 25, 35, 45, 50, 56});

  const std::vector<std::string> occupations{"other or not specified",
                                             "academic/educator",
                                             "artist",
                                             "clerical/admin",
                                             "college/grad student",
                                             "customer service",
                                             "doctor/health care",
                                             "executive/managerial",
                                             "farmer",
                                             "homemaker",
                                             "K-12 student",
                                             "lawyer",
                                             "programmer",
                                             "retired",
                                             "sales/marketing",
                                             "scientist",
                                             "self-employed",
                                             "technician/engineer",
                                             "tradesman/craftsman",
                                             "unemployed",
                                             "writer"};
  for (size_t code = 0; code < occupations.size(); ++code)
    CHECK(occupation_name(static_cast<int64_t>(code)) == occupations[code]);
  CHECK(occupation_name(21) == "unknown (21)");
  CHECK(occupation_name(-1) == "unknown (-1)");
  CHECK(gender_name('F') == "female");
  CHECK(gender_name('M') == "male");
  CHECK(gender_name('X') == "unknown (X)");
}

TEST_CASE("write_eda_report writes README.md and every chart it links", "[data][stats]") {
  TempDir tmp("autoint-eda");
  const auto out = tmp.path() / "nested" / "report";  // created by the writer
  auto data = stats_tiny();
  data.movies[2].genres = {"Sci<Fi & more"};  // data text must be escaped in charts and tables
  write_eda_report(compute_stats(data), out.string(), "tiny set", "A note from the caller.");

  const std::string readme = autoint::test::read_file(out / "README.md");
  CHECK_THAT(readme, Contains("# Exploratory data analysis: tiny set"));
  CHECK_THAT(readme, Contains("A note from the caller."));
  CHECK_THAT(readme, Contains("| users | 3 |"));
  CHECK_THAT(readme, Contains("| ratings | 7 |"));
  CHECK_THAT(readme, Contains("| movies with at least one rating | 3 |"));
  CHECK_THAT(readme, Contains("Sci&lt;Fi &amp; more"));
  CHECK_THAT(readme, !Contains("10001"));  // no raw rows (a zip code)

  const std::regex link(R"(\]\(([^)]+\.svg)\))");
  std::vector<std::string> files;
  for (auto it = std::sregex_iterator(readme.begin(), readme.end(), link);
       it != std::sregex_iterator(); ++it) {
    files.push_back((*it)[1].str());
  }
  CHECK(files.size() >= 10);
  for (const auto& file : files) {
    INFO(file);
    CHECK(file.find('/') == std::string::npos);  // relative, next to README.md
    REQUIRE(std::filesystem::is_regular_file(out / file));
    const std::string svg = autoint::test::read_file(out / file);
    CHECK(svg.rfind("<?xml", 0) == 0);
    CHECK(test::occurrences(svg, "<svg") == 1);
    CHECK(test::occurrences(svg, "</svg>") == 1);
    CHECK_THAT(svg, !Contains("Sci<Fi"));
  }
  CHECK_THAT(autoint::test::read_file(out / "genre_movies.svg"), Contains("Sci&lt;Fi &amp; more"));
}

TEST_CASE("write_eda_report names the path it cannot write", "[data][stats]") {
  TempDir tmp("autoint-eda");
  const auto blocker = tmp.path() / "file";
  autoint::test::write_file(blocker, "not a directory");
  std::string message;
  try {
    write_eda_report(compute_stats(stats_tiny()), blocker.string(), "x");
  } catch (const autoint::DataError& e) {
    message = e.what();
  }
  CHECK_THAT(message, Contains(blocker.string()));
}
