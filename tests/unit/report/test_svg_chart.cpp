// Tests of the SVG chart writer: escaping, well-formed output, one bar per value,
// number formatting and errors.
#include "autoint_catch.h"

#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "autoint/report/svg_chart.h"
#include "test_support.h"

using autoint::util::bar_chart_svg;
using autoint::util::BarChart;
using autoint::util::format_value;
using autoint::util::group_thousands;
using autoint::util::line_chart_svg;
using autoint::util::LineChart;
using autoint::util::ValueFormat;
using Catch::Matchers::Contains;

namespace {

// "" if `xml` is well-formed as far as tags and entities go, else what is wrong: every
// open tag closed in order, no stray '<' or '&' in text or attribute values.
std::string xml_problem(const std::string& xml) {
  std::vector<std::string> open;
  size_t i = 0;
  while (i < xml.size()) {
    if (xml[i] == '&') {
      const size_t semi = xml.find(';', i);
      const std::string entity = semi == std::string::npos ? "" : xml.substr(i, semi - i + 1);
      if (entity != "&amp;" && entity != "&lt;" && entity != "&gt;" && entity != "&quot;" &&
          entity != "&apos;") {
        return "bad entity at " + std::to_string(i);
      }
      i = semi + 1;
    } else if (xml[i] == '<') {
      const size_t end = xml.find('>', i);
      if (end == std::string::npos)
        return "unterminated tag";
      const std::string tag = xml.substr(i + 1, end - i - 1);
      if (tag.find('<') != std::string::npos)
        return "'<' inside tag: " + tag;
      if (tag[0] == '?') {
        // XML declaration
      } else if (tag[0] == '/') {
        if (open.empty() || open.back() != tag.substr(1))
          return "unbalanced </" + tag.substr(1) + ">";
        open.pop_back();
      } else if (tag.back() != '/') {
        open.push_back(tag.substr(0, tag.find(' ')));
      }
      i = end + 1;
    } else {
      ++i;
    }
  }
  return open.empty() ? "" : "unclosed <" + open.back() + ">";
}

BarChart tricky_bars(bool horizontal) {
  BarChart c;
  c.title = "Bars & <things>";
  c.labels = {"a<b", "c&d", "plain", "\"quoted\""};
  c.values = {1, 20, 300, 4000};
  c.value_axis_label = "count <n>";
  c.category_axis_label = "label & co";
  c.note = "note <1>";
  c.horizontal = horizontal;
  return c;
}

}  // namespace

TEST_CASE("bar charts escape labels and are well-formed", "[util][svg]") {
  for (const bool horizontal : {false, true}) {
    INFO("horizontal " << horizontal);
    const std::string svg = bar_chart_svg(tricky_bars(horizontal));
    CHECK(xml_problem(svg).empty());
    CHECK(test::occurrences(svg, "<svg ") == 1);
    CHECK(test::occurrences(svg, "</svg>") == 1);
    CHECK(test::occurrences(svg, "<rect class=\"bar\"") == 4);  // one per bar
    CHECK_THAT(svg, Contains(">a&lt;b</text>"));
    CHECK_THAT(svg, Contains(">c&amp;d</text>"));
    CHECK_THAT(svg, Contains("&quot;quoted&quot;"));
    CHECK_THAT(svg, Contains("Bars &amp; &lt;things&gt;"));
    CHECK_THAT(svg, !Contains("a<b"));
    CHECK_THAT(svg, !Contains("c&d"));
    CHECK_THAT(svg, Contains("4,000"));  // values printed on the bars
  }
}

TEST_CASE("bar charts rotate category labels that do not fit", "[util][svg]") {
  BarChart c;
  c.title = "many";
  for (int i = 0; i < 30; ++i) {
    c.labels.push_back("a fairly long label " + std::to_string(i));
    c.values.push_back(i);
  }
  const std::string svg = bar_chart_svg(c);
  CHECK(xml_problem(svg).empty());
  CHECK(test::occurrences(svg, "<rect class=\"bar\"") == 30);
  CHECK_THAT(svg, Contains("rotate(-45"));
}

TEST_CASE("line charts are well-formed with one polyline", "[util][svg]") {
  LineChart c;
  c.title = "Line <1> & 2";
  c.x_label = "x";
  c.y_label = "y";
  for (int i = 0; i < 1000; ++i) {
    c.xs.push_back(i + 1);
    c.ys.push_back(i < 10 ? 1000.0 / (i + 1) : 1.0);  // a long flat tail
  }
  std::string svg = line_chart_svg(c);
  CHECK(xml_problem(svg).empty());
  CHECK(test::occurrences(svg, "<polyline") == 1);
  CHECK_THAT(svg, Contains("Line &lt;1&gt; &amp; 2"));
  CHECK(svg.size() < 20000);  // the flat tail collapses

  LineChart months;
  months.title = "months";
  months.xs = {0, 1, 2};
  months.ys = {0.25, 0.5, 0.75};
  months.y_format = ValueFormat::kPercent;
  months.x_ticks = {{0, "2000-01"}, {2, "2000-03"}};
  months.markers = true;
  svg = line_chart_svg(months);
  CHECK(xml_problem(svg).empty());
  CHECK(test::occurrences(svg, "<circle") == 3);
  CHECK_THAT(svg, Contains(">2000-03</text>"));
  CHECK_THAT(svg, Contains(">80%</text>"));  // y ticks in percent up to 0.8
}

TEST_CASE("charts reject bad input", "[util][svg]") {
  BarChart c;
  c.title = "bad";
  CHECK_THROWS_AS(bar_chart_svg(c), std::invalid_argument);  // no bars
  c.labels = {"a", "b"};
  c.values = {1};
  CHECK_THROWS_AS(bar_chart_svg(c), std::invalid_argument);
  c.values = {1, -2};
  CHECK_THROWS_AS(bar_chart_svg(c), std::invalid_argument);
  LineChart l;
  l.xs = {1, 2};
  l.ys = {1};
  CHECK_THROWS_AS(line_chart_svg(l), std::invalid_argument);
}

TEST_CASE("numbers are formatted for people", "[util][svg]") {
  CHECK(group_thousands(0) == "0");
  CHECK(group_thousands(999) == "999");
  CHECK(group_thousands(1000) == "1,000");
  CHECK(group_thousands(1000209) == "1,000,209");
  CHECK(group_thousands(-1234) == "-1,234");
  CHECK(format_value(0.5751, ValueFormat::kPercent) == "57.5%");
  CHECK(format_value(0.5, ValueFormat::kPercent, 0) == "50%");
  CHECK(format_value(3.58156, ValueFormat::kDecimal) == "3.58");
  CHECK(format_value(12345.4, ValueFormat::kCount) == "12,345");
  CHECK(autoint::util::xml_escape("<a href='x'>&</a>") ==
        "&lt;a href=&apos;x&apos;&gt;&amp;&lt;/a&gt;");
}

TEST_CASE("write_svg names the path it cannot write", "[util][svg]") {
  autoint::test::TempDir tmp("autoint-svg");
  const auto good = tmp.path() / "chart.svg";
  autoint::util::write_svg(good.string(), "<svg/>");
  CHECK(std::filesystem::file_size(good) == 6);
  const auto bad = (tmp.path() / "missing" / "chart.svg").string();
  CHECK_THROWS_WITH(autoint::util::write_svg(bad, "<svg/>"), Contains(bad));
}
