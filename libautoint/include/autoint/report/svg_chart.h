// A small SVG chart writer (bar and line charts with axes, ticks and a title) for reports
// that render on a Git host without any plotting dependency.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace autoint::util {

// How values (tick labels and the numbers printed on bars) are written.
enum class ValueFormat {
  kCount,    // integer with thousands separators: 12,345
  kPercent,  // a share in [0, 1] as a percentage: 57.5%
  kDecimal,  // a plain number: 3.58
};

struct BarChart {
  std::string title;
  std::string category_axis_label;   // names the bars (may be empty)
  std::string value_axis_label;      // names the values (may be empty)
  std::vector<std::string> labels;   // one per bar
  std::vector<double> values;        // one per bar, finite and >= 0
  std::vector<std::string> colours;  // one per bar; empty: every bar in `colour`
  std::string colour = "#4e79a7";
  std::string note;         // a small line under the chart (e.g. a legend); optional
  bool horizontal = false;  // bars grow to the right, labels on the left
  bool show_values = true;  // print each value at the end of its bar
  ValueFormat format = ValueFormat::kCount;
  int width = 720;
  int height = 0;  // 0: chosen from the number of bars
};

struct LineChart {
  std::string title;
  std::string x_label;
  std::string y_label;
  std::vector<double> xs;  // ascending
  std::vector<double> ys;  // finite and >= 0 (the y axis starts at 0)
  // Tick positions and labels on the x axis; empty: evenly spaced round numbers.
  std::vector<std::pair<double, std::string>> x_ticks;
  ValueFormat x_format = ValueFormat::kCount;
  ValueFormat y_format = ValueFormat::kCount;
  std::string colour = "#4e79a7";
  bool markers = false;  // a dot on every point
  std::string note;
  int width = 720;
  int height = 360;
};

// The SVG document of a chart. Every text is XML-escaped. Throws std::invalid_argument
// for mismatched lengths, no data, or a negative or non-finite value.
std::string bar_chart_svg(const BarChart& chart);
std::string line_chart_svg(const LineChart& chart);

// Writes `svg` to `path` (replacing it). Throws std::runtime_error naming the path.
void write_svg(const std::string& path, const std::string& svg);

// Escapes &, <, >, " and ' for XML text and attribute values.
std::string xml_escape(const std::string& text);

// 1234567 -> "1,234,567".
std::string group_thousands(int64_t value);

// A value as `format` writes it; `decimals` < 0 picks a default (kPercent: 1, kDecimal: 2).
std::string format_value(double value, ValueFormat format, int decimals = -1);

}  // namespace autoint::util
