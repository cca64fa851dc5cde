// The EDA report: Markdown (so that it renders on a Git host) with one SVG chart per
// topic and a table of the key figures under each.
#include "autoint/report/eda_report.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "autoint/error.h"
#include "autoint/report/svg_chart.h"

namespace autoint::data {
namespace {

namespace fs = std::filesystem;
using util::BarChart;
using util::LineChart;
using util::ValueFormat;

constexpr const char* kBlue = "#4e79a7";
constexpr const char* kOrange = "#f28e2b";
constexpr const char* kGreen = "#59a14f";
constexpr const char* kPurple = "#b07aa1";

// Text from the data (genre names, the label) must not become Markdown or HTML markup.
std::string md(const std::string& text) {
  std::string out;
  for (const char ch : text) {
    switch (ch) {
      case '|':
        out += "\\|";
        break;
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      default:
        out += ch;
    }
  }
  return out;
}

std::string count(int64_t n) {
  return util::group_thousands(n);
}

double share(int64_t part, int64_t whole) {
  return whole > 0 ? static_cast<double>(part) / static_cast<double>(whole) : 0.0;
}

std::string pct(double value, int decimals = 1) {
  return util::format_value(value, ValueFormat::kPercent, decimals);
}

std::string ratio(int64_t part, int64_t whole) {
  return whole > 0 ? fmt::format("{:.1f}", static_cast<double>(part) / whole) : "-";
}

// A Markdown table; `align` has one letter per column, 'l' or 'r'.
std::string table(const std::vector<std::string>& header, const std::string& align,
                  const std::vector<std::vector<std::string>>& rows) {
  std::string out = "|";
  for (const auto& h : header)
    out += " " + h + " |";
  out += "\n|";
  for (const char a : align)
    out += a == 'r' ? " ---: |" : " --- |";
  out += "\n";
  for (const auto& row : rows) {
    out += "|";
    for (const auto& cell : row)
      out += " " + cell + " |";
    out += "\n";
  }
  return out + "\n";
}

class Report {
 public:
  explicit Report(std::string dir) : dir_(std::move(dir)) {}

  void text(const std::string& markdown) { md_ += markdown; }

  // Adds a chart file and its image link.
  void chart(const std::string& file, const std::string& alt, const std::string& svg) {
    charts_.emplace_back(file, svg);
    md_ += fmt::format("![{}]({})\n\n", md(alt), file);
  }

  void write() const {
    std::error_code ec;
    fs::create_directories(dir_, ec);
    if (ec)
      throw DataError(fmt::format("{}: cannot create directory: {}", dir_, ec.message()));
    for (const auto& [file, svg] : charts_) {
      try {
        util::write_svg((fs::path(dir_) / file).string(), svg);
      } catch (const std::runtime_error& e) {
        throw DataError(e.what());
      }
    }
    const std::string path = (fs::path(dir_) / "README.md").string();
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out)
      throw DataError("cannot open " + path + " for writing");
    out << md_;
    out.close();
    if (!out)
      throw DataError("cannot write " + path);
  }

 private:
  std::string dir_;
  std::string md_;
  std::vector<std::pair<std::string, std::string>> charts_;
};

void counts_section(Report& r, const DatasetStats& s) {
  r.text("## Counts\n\n");
  r.text(table({"figure", "value"}, "lr",
               {{"users", count(s.users)},
                {"movies (movies.dat)", count(s.movies)},
                {"movies with at least one rating", count(s.rated_movies)},
                {"ratings", count(s.ratings)},
                {"mean rating", fmt::format("{:.3f}", s.mean_rating)},
                {"sparsity: 1 - ratings / (users × rated movies)", pct(s.sparsity, 2)},
                {fmt::format("positives (rating ≥ {:g})", s.label_threshold),
                 fmt::format("{} ({})", count(s.positives), pct(s.positive_share))}}));
}

void rating_section(Report& r, const DatasetStats& s) {
  r.text("## Rating distribution\n\n");
  BarChart c;
  c.title = "Ratings by value";
  c.category_axis_label = "rating";
  c.value_axis_label = "ratings";
  std::vector<std::vector<std::string>> rows;
  for (int v = 1; v <= 5; ++v) {
    const int64_t n = s.rating_counts[static_cast<size_t>(v - 1)];
    const bool positive = v >= s.label_threshold;
    c.labels.push_back(std::to_string(v));
    c.values.push_back(static_cast<double>(n));
    c.colours.push_back(positive ? kOrange : kBlue);
    rows.push_back({std::to_string(v), count(n), pct(share(n, s.ratings)), positive ? "1" : "0"});
  }
  c.note = fmt::format("orange: positive label (rating ≥ {:g}); blue: negative", s.label_threshold);
  r.chart("rating_distribution.svg", "Bar chart of the number of ratings per rating value",
          util::bar_chart_svg(c));
  r.text(table({"rating", "ratings", "share", "label"}, "rrrr", rows));
}

std::string summary_table(const DatasetStats& s) {
  auto row = [](const std::string& what, const CountSummary& c) {
    // A median is a whole count or halfway between two.
    const std::string median = c.median == std::floor(c.median)
                                   ? count(static_cast<int64_t>(c.median))
                                   : fmt::format("{:.1f}", c.median);
    return std::vector<std::string>{what, count(c.min), median, fmt::format("{:.1f}", c.mean),
                                    count(c.max)};
  };
  return table({"ratings per", "min", "median", "mean", "max"}, "lrrrr",
               {row("user", s.ratings_per_user), row("rated movie", s.ratings_per_movie)});
}

void histogram(Report& r, const std::vector<HistogramBin>& bins, const std::string& file,
               const std::string& items, const char* colour) {
  if (bins.empty()) {
    r.text("(no " + items + ")\n\n");
    return;
  }
  BarChart c;
  c.title = fmt::format("Ratings per {} (log-spaced bins)", items);
  c.category_axis_label = "ratings (bin)";
  c.value_axis_label = items + "s";
  c.colour = colour;
  int64_t total = 0;
  for (const auto& b : bins)
    total += b.items;
  std::vector<std::vector<std::string>> rows;
  for (const auto& b : bins) {
    const std::string label = b.lo == b.hi ? count(b.lo) : count(b.lo) + "-" + count(b.hi);
    c.labels.push_back(label);
    c.values.push_back(static_cast<double>(b.items));
    rows.push_back({label, count(b.items), pct(share(b.items, total))});
  }
  r.chart(file, "Histogram of ratings per " + items + " on bins doubling in width",
          util::bar_chart_svg(c));
  r.text(table({"ratings", items + "s", "share"}, "rrr", rows));
}

void long_tail(Report& r, const DatasetStats& s) {
  const auto& counts = s.movie_counts_by_rank;
  if (counts.empty())
    return;
  LineChart c;
  c.title = "The long tail: ratings per movie by popularity rank";
  c.x_label = "movie rank (1 = most rated)";
  c.y_label = "ratings";
  c.colour = kOrange;
  for (size_t i = 0; i < counts.size(); ++i) {
    c.xs.push_back(static_cast<double>(i + 1));
    c.ys.push_back(static_cast<double>(counts[i]));
  }
  r.chart("movie_long_tail.svg", "Line chart of the ratings of each movie against its rank",
          util::line_chart_svg(c));
  std::vector<std::vector<std::string>> rows;
  for (const double f : {0.01, 0.1, 0.2, 0.5}) {
    rows.push_back({fmt::format("the most-rated {:g}% of rated movies", f * 100),
                    pct(top_movies_rating_share(s, f))});
  }
  const auto fewer = [&](int64_t n) {
    return std::count_if(counts.begin(), counts.end(), [n](int64_t c) { return c < n; });
  };
  r.text(table({"movies", "share of all ratings"}, "lr", rows));
  r.text(table({"figure", "movies"}, "lr",
               {{"rated exactly once", count(fewer(2))},
                {"fewer than 10 ratings", count(fewer(10))},
                {"fewer than 100 ratings", count(fewer(100))},
                {"in movies.dat but never rated", count(s.movies - s.rated_movies)}}));
}

void genre_section(Report& r, const DatasetStats& s) {
  r.text(
      "## Genres\n\nA movie counts once for each genre it lists; a rating counts once for "
      "each genre of its movie (so the columns add up to more than the totals).\n\n");
  if (s.genres.empty()) {
    r.text("(no genres)\n\n");
    return;
  }
  BarChart movies;
  movies.title = "Movies per genre";
  movies.value_axis_label = "movies";
  movies.horizontal = true;
  BarChart ratings = movies;
  ratings.title = "Ratings per genre";
  ratings.value_axis_label = "ratings";
  ratings.colour = kOrange;
  std::vector<std::vector<std::string>> rows;
  for (const auto& g : s.genres) {
    movies.labels.push_back(g.genre);
    movies.values.push_back(static_cast<double>(g.movies));
    rows.push_back({md(g.genre), count(g.movies), pct(share(g.movies, s.movies)), count(g.ratings),
                    ratio(g.ratings, g.movies), pct(share(g.positives, g.ratings))});
  }
  // Ratings sorted on their own: the order of popularity differs from that of supply.
  auto by_ratings = s.genres;
  std::stable_sort(by_ratings.begin(), by_ratings.end(),
                   [](const GenreCount& a, const GenreCount& b) { return a.ratings > b.ratings; });
  for (const auto& g : by_ratings) {
    ratings.labels.push_back(g.genre);
    ratings.values.push_back(static_cast<double>(g.ratings));
  }
  r.chart("genre_movies.svg", "Bar chart of the number of movies per genre",
          util::bar_chart_svg(movies));
  r.chart("genre_ratings.svg", "Bar chart of the number of ratings per genre",
          util::bar_chart_svg(ratings));
  r.text(table({"genre", "movies", "share of movies", "ratings", "ratings per movie",
                fmt::format("positive share (≥ {:g})", s.label_threshold)},
               "lrrrrr", rows));
}

std::string group_table(const DatasetStats& s, const std::vector<GroupCount>& groups) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& g : groups) {
    rows.push_back({md(g.code), md(g.name), count(g.users), pct(share(g.users, s.users)),
                    count(g.ratings), ratio(g.ratings, g.users),
                    pct(share(g.positives, g.ratings))});
  }
  return table(
      {"code", "group", "users", "share of users", "ratings", "ratings per user", "positive share"},
      "llrrrrr", rows);
}

BarChart group_chart(const std::string& title, const std::vector<GroupCount>& groups,
                     bool horizontal, const char* colour) {
  BarChart c;
  c.title = title;
  c.value_axis_label = "users";
  c.horizontal = horizontal;
  c.colour = colour;
  for (const auto& g : groups) {
    c.labels.push_back(g.name);
    c.values.push_back(static_cast<double>(g.users));
  }
  return c;
}

void user_section(Report& r, const DatasetStats& s) {
  r.text(
      "## Users\n\nAge groups and occupations as the ML-1M README names them; the positive "
      "share is that of the group's ratings.\n\n### Gender\n\n");
  if (s.users == 0) {
    r.text("(no users)\n\n");
    return;
  }
  r.chart("users_by_gender.svg", "Bar chart of users per gender",
          util::bar_chart_svg(group_chart("Users by gender", s.genders, true, kPurple)));
  r.text(group_table(s, s.genders));
  r.text("### Age group\n\n");
  BarChart age = group_chart("Users by age group", s.age_groups, false, kGreen);
  age.category_axis_label = "age group";
  r.chart("users_by_age.svg", "Bar chart of users per age group", util::bar_chart_svg(age));
  r.text(group_table(s, s.age_groups));
  r.text("### Occupation\n\n");
  auto by_users = s.occupations;
  std::stable_sort(by_users.begin(), by_users.end(),
                   [](const GroupCount& a, const GroupCount& b) { return a.users > b.users; });
  r.chart("users_by_occupation.svg", "Bar chart of users per occupation",
          util::bar_chart_svg(group_chart("Users by occupation", by_users, true, kBlue)));
  r.text(group_table(s, s.occupations));
}

std::string month_text(const MonthCount& m) {
  return fmt::format("{}-{:02}", m.year, m.month);
}

void time_section(Report& r, const DatasetStats& s) {
  r.text("## Ratings over time\n\nBy the month of the rating's timestamp, in UTC.\n\n");
  const auto& months = s.ratings_per_month;
  if (months.empty()) {
    r.text("(no ratings)\n\n");
    return;
  }
  // Tick every 1, 2, 3, 6 or 12 months, on month boundaries that divide the year.
  int64_t step = 1;
  for (const int64_t candidate : {1, 2, 3, 6, 12}) {
    step = candidate;
    if (static_cast<int64_t>(months.size()) / candidate <= 12)
      break;
  }
  LineChart c;
  c.title = "Ratings per month";
  c.x_label = "month (UTC)";
  c.y_label = "ratings";
  c.markers = months.size() <= 120;
  for (size_t i = 0; i < months.size(); ++i) {
    c.xs.push_back(static_cast<double>(i));
    c.ys.push_back(static_cast<double>(months[i].ratings));
    if ((months[i].month - 1) % step == 0) {
      c.x_ticks.emplace_back(static_cast<double>(i),
                             step == 12 ? std::to_string(months[i].year) : month_text(months[i]));
    }
  }
  r.chart("ratings_per_month.svg", "Line chart of the number of ratings per month",
          util::line_chart_svg(c));
  const auto busiest = std::max_element(
      months.begin(), months.end(),
      [](const MonthCount& a, const MonthCount& b) { return a.ratings < b.ratings; });
  const auto active = std::count_if(months.begin(), months.end(),
                                    [](const MonthCount& m) { return m.ratings > 0; });
  r.text(table({"figure", "value"}, "lr",
               {{"first month", month_text(months.front())},
                {"last month", month_text(months.back())},
                {"months with ratings", fmt::format("{} of {}", active, months.size())},
                {"busiest month",
                 fmt::format("{} ({} ratings)", month_text(*busiest), count(busiest->ratings))}}));
  std::vector<std::vector<std::string>> rows;
  for (const auto& y : s.ratings_per_year)
    rows.push_back({std::to_string(y.year), count(y.ratings), pct(share(y.ratings, s.ratings))});
  r.text(table({"year", "ratings", "share"}, "rrr", rows));
}

void label_section(Report& r, const DatasetStats& s) {
  r.text(fmt::format(
      "## Positive labels\n\nA rating ≥ {0:g} is a positive (label 1), as the model is trained. "
      "Overall: {1} of {2} ratings, **{3}**.\n\n",
      s.label_threshold, count(s.positives), count(s.ratings), pct(s.positive_share)));
  if (s.ratings_per_year.empty())
    return;
  BarChart c;
  c.title = fmt::format("Share of positive ratings (≥ {:g}) per rating year", s.label_threshold);
  c.category_axis_label = "year of the rating (UTC)";
  c.value_axis_label = "positive share";
  c.format = ValueFormat::kPercent;
  c.colour = kOrange;
  c.note = fmt::format("overall: {}", pct(s.positive_share));
  std::vector<std::vector<std::string>> rows;
  for (const auto& y : s.ratings_per_year) {
    c.labels.push_back(std::to_string(y.year));
    c.values.push_back(share(y.positives, y.ratings));
    rows.push_back({std::to_string(y.year), count(y.ratings), count(y.positives),
                    pct(share(y.positives, y.ratings))});
  }
  r.chart("positive_share_by_year.svg", "Bar chart of the share of positive ratings per year",
          util::bar_chart_svg(c));
  r.text(table({"year", "ratings", "positives", "positive share"}, "rrrr", rows));
}

}  // namespace

void write_eda_report(const DatasetStats& stats, const std::string& out_dir,
                      const std::string& data_label, const std::string& preamble) {
  Report r(out_dir);
  r.text("# Exploratory data analysis: " + md(data_label) + "\n\n");
  if (!preamble.empty())
    r.text(preamble + "\n\n");
  r.text(
      "Every figure below is an aggregate: no row of the data set is reproduced. Charts are "
      "SVG files next to this page.\n\n"
      "Contents: [Counts](#counts) · [Rating distribution](#rating-distribution) · "
      "[Ratings per user](#ratings-per-user) · [Ratings per movie](#ratings-per-movie) · "
      "[Genres](#genres) · [Users](#users) · [Ratings over time](#ratings-over-time) · "
      "[Positive labels](#positive-labels)\n\n");
  counts_section(r, stats);
  rating_section(r, stats);
  r.text("## Ratings per user\n\n");
  r.text(summary_table(stats));
  histogram(r, stats.user_histogram, "ratings_per_user.svg", "user", kBlue);
  r.text(
      "## Ratings per movie\n\nOver the movies with at least one rating. A few blockbusters "
      "collect a large share of all ratings; most movies have few.\n\n");
  histogram(r, stats.movie_histogram, "ratings_per_movie.svg", "movie", kOrange);
  long_tail(r, stats);
  genre_section(r, stats);
  user_section(r, stats);
  time_section(r, stats);
  label_section(r, stats);
  r.write();
}

}  // namespace autoint::data
