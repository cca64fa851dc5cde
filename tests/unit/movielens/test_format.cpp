// Tests of the ML-1M reader and writer: field values, tolerated quirks (CRLF, Latin-1,
// no final newline) and one DataError per kind of malformed input.
#include "autoint_catch.h"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "autoint/error.h"
#include "autoint/movielens/format.h"
#include "test_support.h"

using autoint::DataError;
using autoint::data::latin1_to_utf8;
using autoint::data::MovieLens;
using autoint::data::read_movielens;
using autoint::data::write_movielens;
using autoint::test::TempDir;
using autoint::test::write_file;
using Catch::Matchers::Contains;

namespace {

const std::string kUsers = "1::F::1::10::48067\n2::M::56::16::70072\n3::M::25::15::55455-3424\n";
const std::string kMovies =
    "1::Toy Story (1995)::Animation|Children's|Comedy\n"
    "2::Jumanji (1995)::Adventure|Children's|Fantasy\n"
    "3::Heat (1995)::Action|Crime|Thriller\n";
const std::string kRatings =
    "1::1::5::978300760\n"
    "1::2::3::978302109\n"
    "2::1::4::978301968\n"
    "3::3::1::0\n";

void write_set(const TempDir& dir, const std::string& users, const std::string& movies,
               const std::string& ratings) {
  write_file(dir.path() / "users.dat", users);
  write_file(dir.path() / "movies.dat", movies);
  write_file(dir.path() / "ratings.dat", ratings);
}

// The DataError message for the given files, or "" if they load.
std::string load_error(const std::string& users, const std::string& movies,
                       const std::string& ratings) {
  TempDir dir("autoint-ml");
  write_set(dir, users, movies, ratings);
  try {
    read_movielens(dir.str());
  } catch (const DataError& e) {
    return e.what();
  }
  return "";
}

struct BadLine {
  std::string line;      // replaces the second line of the file
  std::string expected;  // a fragment of the message saying what was expected
};

// Puts `bad.line` on line 2 of `file` and checks the message names file, line and text.
void check_bad_lines(const std::string& file, const std::vector<BadLine>& cases) {
  for (const BadLine& bad : cases) {
    std::string users = kUsers;
    std::string movies = kMovies;
    std::string ratings = kRatings;
    std::string& target = file == "users.dat" ? users : (file == "movies.dat" ? movies : ratings);
    const size_t first_end = target.find('\n') + 1;
    const size_t second_end = target.find('\n', first_end) + 1;
    target = target.substr(0, first_end) + bad.line + "\n" + target.substr(second_end);
    INFO(file << " line 2: " << bad.line);
    const std::string message = load_error(users, movies, ratings);
    REQUIRE_FALSE(message.empty());
    CHECK_THAT(message, Contains(file + ":2: ") && Contains("\"" + bad.line + "\"") &&
                            Contains(bad.expected));
  }
}

}  // namespace

TEST_CASE("read_movielens parses well-formed files", "[data][movielens]") {
  TempDir dir("autoint-ml");
  write_set(dir, kUsers, kMovies, kRatings);
  const MovieLens data = read_movielens(dir.str());

  REQUIRE(data.users.size() == 3);
  CHECK(data.users[0].id == 1);
  CHECK(data.users[0].gender == 'F');
  CHECK(data.users[0].age == 1);
  CHECK(data.users[0].occupation == 10);
  CHECK(data.users[0].zipcode == "48067");
  CHECK(data.users[1].gender == 'M');
  CHECK(data.users[1].age == 56);
  CHECK(data.users[2].zipcode == "55455-3424");

  REQUIRE(data.movies.size() == 3);
  CHECK(data.movies[0].id == 1);
  CHECK(data.movies[0].title == "Toy Story (1995)");
  CHECK(data.movies[0].year == 1995);
  CHECK(data.movies[0].genres == std::vector<std::string>{"Animation", "Children's", "Comedy"});
  CHECK(data.movies[2].genres == std::vector<std::string>{"Action", "Crime", "Thriller"});

  REQUIRE(data.ratings.size() == 4);
  CHECK(data.ratings[0].user_id == 1);
  CHECK(data.ratings[0].movie_id == 1);
  CHECK(data.ratings[0].rating == 5);
  CHECK(data.ratings[0].timestamp == 978300760);
  CHECK(data.ratings[3].rating == 1);
  CHECK(data.ratings[3].timestamp == 0);
}

TEST_CASE("read_movielens tolerates CRLF, Latin-1 titles and a missing final newline",
          "[data][movielens]") {
  TempDir dir("autoint-ml");
  const std::string latin1_title = "Cit\xe9 des enfants perdus, La (1995)";
  write_set(dir, "1::F::1::10::48067\r\n2::M::18::0::02139",
            "10::" + latin1_title +
                "::Adventure|Sci-Fi\r\n"
                "11::City of Lost Children, The (Cit\xe9 des enfants perdus, La) (1995)::Drama\r\n"
                "12::Untitled Project::Documentary\r\n"
                "13::Odd (Year)::Comedy\r\n"
                "14::Ends with digits (95)::Comedy\r\n"
                "15::(2000)::Comedy",
            "1::10::4::978300760\r\n2::15::2::978300761");
  const MovieLens data = read_movielens(dir.str());

  REQUIRE(data.users.size() == 2);
  CHECK(data.users[0].zipcode == "48067");  // no '\r' left on the last field
  CHECK(data.users[1].zipcode == "02139");
  CHECK(data.users[1].occupation == 0);

  REQUIRE(data.movies.size() == 6);
  CHECK(data.movies[0].title == latin1_title);  // bytes kept, not converted
  CHECK(data.movies[0].title.size() == latin1_title.size());
  CHECK(data.movies[0].year == 1995);
  CHECK(data.movies[0].genres == std::vector<std::string>{"Adventure", "Sci-Fi"});
  CHECK(data.movies[1].year == 1995);
  CHECK(data.movies[1].genres == std::vector<std::string>{"Drama"});
  CHECK(data.movies[2].year == 0);
  CHECK(data.movies[3].year == 0);
  CHECK(data.movies[4].year == 0);
  CHECK(data.movies[5].year == 2000);
  CHECK(data.movies[5].genres == std::vector<std::string>{"Comedy"});

  REQUIRE(data.ratings.size() == 2);
  CHECK(data.ratings[1].movie_id == 15);
  CHECK(data.ratings[1].timestamp == 978300761);
}

TEST_CASE("read_movielens rejects malformed users.dat lines", "[data][movielens]") {
  check_bad_lines("users.dat",
                  {
                      {"2::M::56::16", "expected 5 '::'-separated fields"},
                      {"2::M::56::16::70072::x", "got 6"},
                      {"x::M::56::16::70072", "UserID a positive integer"},
                      {"0::M::56::16::70072", "UserID a positive integer"},
                      {"2 ::M::56::16::70072", "UserID a positive integer"},
                      {"2::X::56::16::70072", "Gender 'M' or 'F'"},
                      {"2::m::56::16::70072", "Gender 'M' or 'F'"},
                      {"2::M::30::16::70072", "Age one of 1, 18, 25"},
                      {"2::M::5x::16::70072", "Age one of 1, 18, 25"},
                      {"2::M::56::21::70072", "Occupation an integer in 0..20"},
                      {"2::M::56::-1::70072", "Occupation an integer in 0..20"},
                      {"2::M::56::::70072", "Occupation an integer in 0..20"},
                      {"2::M::56::16::", "Zip-code a non-empty string"},
                      {"1::M::56::16::70072", "unique UserID, got 1 again (first on line 1)"},
                      {"", "got a blank line"},
                  });
}

TEST_CASE("read_movielens rejects malformed movies.dat lines", "[data][movielens]") {
  check_bad_lines("movies.dat", {
                                    {"2::Jumanji (1995)", "expected 3 '::'-separated fields"},
                                    {"2::Jumanji (1995)::Comedy::x", "got 4"},
                                    {"two::Jumanji (1995)::Comedy", "MovieID a positive integer"},
                                    {"-2::Jumanji (1995)::Comedy", "MovieID a positive integer"},
                                    {"2::::Comedy", "Title a non-empty string"},
                                    {"2::Jumanji (1995)::", "Genres a non-empty"},
                                    {"2::Jumanji (1995)::Comedy||Drama", "non-empty names"},
                                    {"2::Jumanji (1995)::Comedy|", "non-empty names"},
                                    {"1::Jumanji (1995)::Comedy", "unique MovieID, got 1 again"},
                                });
}

TEST_CASE("read_movielens rejects malformed ratings.dat lines", "[data][movielens]") {
  check_bad_lines("ratings.dat",
                  {
                      {"1::2::5",
                       "expected 4 '::'-separated fields "
                       "UserID::MovieID::Rating::Timestamp, got 3"},
                      {"1::2::5::978302109::", "got 5"},
                      {"1::2::3.5::978302109", "Rating an integer in 1..5"},
                      {"1::2::0::978302109", "Rating an integer in 1..5"},
                      {"1::2::6::978302109", "Rating an integer in 1..5"},
                      {"1::2::3::-5", "Timestamp a non-negative integer"},
                      {"1::2::3::97830210x", "Timestamp a non-negative integer"},
                      {"1::2::3::99999999999999999999", "Timestamp a non-negative integer"},
                      {"a::2::3::978302109", "UserID a positive integer"},
                      {"1::::3::978302109", "MovieID a positive integer"},
                      {"9::2::3::978302109", "UserID defined in users.dat, got 9"},
                      {"1::99::3::978302109", "MovieID defined in movies.dat, got 99"},
                      {"1::1::3::978302109", "at most one rating per (UserID, MovieID)"},
                      {"", "got a blank line"},
                  });
}

TEST_CASE("read_movielens rejects empty, missing and blank-line files", "[data][movielens]") {
  SECTION("an empty file") {
    const std::string message = load_error(kUsers, "", kRatings);
    CHECK_THAT(message, Contains("movies.dat: is empty, expected at least one line"));
  }
  SECTION("a blank line in the middle, with CRLF line ends") {
    const std::string message =
        load_error(kUsers, kMovies, "1::1::5::978300760\r\n\r\n2::1::4::1\r\n");
    CHECK_THAT(message, Contains("ratings.dat:2: expected 4 '::'-separated fields") &&
                            Contains("got a blank line in \"\""));
  }
  SECTION("a blank line at the end") {
    const std::string message = load_error(kUsers + "\n", kMovies, kRatings);
    CHECK_THAT(message, Contains("users.dat:4: ") && Contains("got a blank line"));
  }
  SECTION("a missing file") {
    TempDir dir("autoint-ml");
    write_file(dir.path() / "users.dat", kUsers);
    write_file(dir.path() / "movies.dat", kMovies);
    const std::string path = (dir.path() / "ratings.dat").string();
    REQUIRE_THROWS_AS(read_movielens(dir.str()), DataError);
    REQUIRE_THROWS_WITH(read_movielens(dir.str()), Contains(path) && Contains("cannot open"));
  }
  SECTION("a missing directory") {
    TempDir dir("autoint-ml");
    const std::string missing = (dir.path() / "nope").string();
    REQUIRE_THROWS_WITH(read_movielens(missing), Contains(missing) && Contains("users.dat"));
  }
  SECTION("a directory in place of a file") {
    TempDir dir("autoint-ml");
    write_set(dir, kUsers, kMovies, kRatings);
    std::filesystem::remove(dir.path() / "movies.dat");
    std::filesystem::create_directory(dir.path() / "movies.dat");
    REQUIRE_THROWS_WITH(read_movielens(dir.str()), Contains("movies.dat") && Contains("directory"));
  }
}

TEST_CASE("read_movielens error messages quote long lines only in part", "[data][movielens]") {
  const std::string long_line = "1::" + std::string(5000, 'x');
  const std::string message = load_error(kUsers, kMovies, long_line);
  CHECK_THAT(message, Contains("ratings.dat:1: ") && Contains("(5003 bytes)"));
  CHECK(message.size() < 1000);
}

TEST_CASE("write_movielens then read_movielens round-trips exactly", "[data][movielens]") {
  TempDir src("autoint-ml");
  write_set(src, kUsers,
            kMovies +
                "4::Cit\xe9 des enfants perdus, La (1995)::Adventure|Sci-Fi\n"
                "5::No Year::Drama\n",
            kRatings + "2::5::2::1046476799\n");
  const MovieLens original = read_movielens(src.str());

  TempDir out("autoint-ml");
  const std::string target = (out.path() / "nested" / "dir").string();
  write_movielens(original, target);
  const MovieLens copy = read_movielens(target);

  REQUIRE(copy.users.size() == original.users.size());
  for (size_t i = 0; i < copy.users.size(); ++i) {
    CHECK(copy.users[i].id == original.users[i].id);
    CHECK(copy.users[i].gender == original.users[i].gender);
    CHECK(copy.users[i].age == original.users[i].age);
    CHECK(copy.users[i].occupation == original.users[i].occupation);
    CHECK(copy.users[i].zipcode == original.users[i].zipcode);
  }
  REQUIRE(copy.movies.size() == original.movies.size());
  for (size_t i = 0; i < copy.movies.size(); ++i) {
    CHECK(copy.movies[i].id == original.movies[i].id);
    CHECK(copy.movies[i].title == original.movies[i].title);
    CHECK(copy.movies[i].genres == original.movies[i].genres);
    CHECK(copy.movies[i].year == original.movies[i].year);
  }
  REQUIRE(copy.ratings.size() == original.ratings.size());
  for (size_t i = 0; i < copy.ratings.size(); ++i) {
    CHECK(copy.ratings[i].user_id == original.ratings[i].user_id);
    CHECK(copy.ratings[i].movie_id == original.ratings[i].movie_id);
    CHECK(copy.ratings[i].rating == original.ratings[i].rating);
    CHECK(copy.ratings[i].timestamp == original.ratings[i].timestamp);
  }

  // The files themselves are the canonical ML-1M text, byte for byte.
  std::ifstream in(std::filesystem::path(target) / "users.dat", std::ios::binary);
  const std::string users_text((std::istreambuf_iterator<char>(in)),
                               std::istreambuf_iterator<char>());
  CHECK(users_text == kUsers);
}

TEST_CASE("write_movielens refuses what it cannot write", "[data][movielens]") {
  MovieLens data;
  data.users.push_back({1, 'M', 25, 3, "12345"});
  data.movies.push_back({1, "Fine (1999)", {"Drama"}, 1999});
  data.ratings.push_back({1, 1, 4, 978300760});
  TempDir dir("autoint-ml");

  SECTION("a title with '::'") {
    data.movies[0].title = "Bad::Title";
    REQUIRE_THROWS_WITH(write_movielens(data, dir.str()),
                        Contains("movies.dat") && Contains("\"Bad::Title\""));
  }
  SECTION("a genre with '|'") {
    data.movies[0].genres = {"Drama|Comedy"};
    REQUIRE_THROWS_AS(write_movielens(data, dir.str()), DataError);
  }
  SECTION("a zip code with a line break") {
    data.users[0].zipcode = "12\n345";
    REQUIRE_THROWS_AS(write_movielens(data, dir.str()), DataError);
  }
  SECTION("a directory that cannot be created") {
    write_file(dir.path() / "file", "x");
    const std::string target = (dir.path() / "file" / "sub").string();
    REQUIRE_THROWS_WITH(write_movielens(data, target), Contains(target));
  }
}

TEST_CASE("latin1_to_utf8 widens bytes >= 0x80 to two UTF-8 bytes", "[data][movielens]") {
  CHECK(latin1_to_utf8("\xe9") == "\xc3\xa9");
  CHECK(latin1_to_utf8("Cit\xe9 (1995)") == "Cit\xc3\xa9 (1995)");
  CHECK(latin1_to_utf8("plain ASCII") == "plain ASCII");
  CHECK(latin1_to_utf8("\x80\xff") == "\xc2\x80\xc3\xbf");
  CHECK(latin1_to_utf8("").empty());
}

TEST_CASE("the parsers read a buffer and name its origin in errors", "[data][movielens]") {
  using autoint::data::parse_movies;
  using autoint::data::parse_ratings;
  using autoint::data::parse_users;
  const auto users = parse_users(kUsers, "u");
  const auto movies = parse_movies(kMovies, "m");
  const auto ratings = parse_ratings(kRatings, "r", users, movies);
  TempDir dir("autoint-ml");
  write_set(dir, kUsers, kMovies, kRatings);
  const MovieLens from_files = read_movielens(dir.str());
  CHECK(users.size() == from_files.users.size());
  CHECK(movies.size() == from_files.movies.size());
  REQUIRE(ratings.size() == from_files.ratings.size());
  CHECK(ratings.back().timestamp == from_files.ratings.back().timestamp);
  // A buffer is not NUL-terminated: only `content` is read.
  const std::string padded = kUsers + "4::X::1::1::1\n";
  CHECK(parse_users(std::string_view(padded).substr(0, kUsers.size()), "u").size() == 3);
  CHECK_THROWS_WITH(parse_users("", "stdin"), Contains("stdin: is empty"));
  CHECK_THROWS_WITH(parse_ratings("1::9::5::0\n", "pasted ratings", users, movies),
                    Contains("pasted ratings:1: expected a MovieID defined in movies.dat, got 9"));
}

TEST_CASE("error messages show control and non-ASCII bytes as \\xHH", "[data][movielens]") {
  // A byte-order mark or NUL is invisible on a terminal; escaped, the message explains itself.
  CHECK_THROWS_WITH(autoint::data::parse_users("1\t::F::1::10::1\n", "u"),
                    Contains("got \"1\\x09\" in \"1\\x09::F::1::10::1\""));
  CHECK_THROWS_WITH(autoint::data::parse_users("\xef\xbb\xbf" + kUsers, "u"),
                    Contains("u:1: the file is encoded as UTF-8 (byte-order mark EF BB BF)"));
  CHECK_THROWS_WITH(autoint::data::parse_users(std::string("\xfe\xff\0001", 4), "u"),
                    Contains("u:1: the file is encoded as UTF-16"));
}
