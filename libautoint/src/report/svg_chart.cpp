// SVG bar and line charts written as text. Layout is computed from estimated text widths
// (no font metrics are available), erring wide so that labels never overlap.
#include "autoint/report/svg_chart.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iterator>
#include <stdexcept>

#include <fmt/format.h>

namespace autoint::util {
namespace {

constexpr double kTitleSize = 16;
constexpr double kLabelSize = 12;
constexpr double kTickSize = 11;
constexpr double kTop = 44;     // room for the title
constexpr double kMargin = 16;  // outer padding
constexpr const char* kText = "#222222";
constexpr const char* kAxis = "#555555";
constexpr const char* kGrid = "#e3e3e3";
constexpr const char* kMuted = "#666666";

// A generous average advance of sans-serif glyphs; counts code points, not UTF-8 bytes.
double text_width(const std::string& text, double size) {
  const auto chars = std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  });
  return static_cast<double>(chars) * 0.6 * size;
}

double max_text_width(const std::vector<std::string>& texts, double size) {
  double w = 0;
  for (const auto& t : texts)
    w = std::max(w, text_width(t, size));
  return w;
}

std::string num(double v) {
  return fmt::format("{:.1f}", v);
}

class Svg {
 public:
  Svg(double width, double height, const std::string& title) {
    fmt::format_to(std::back_inserter(out_),
                   "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                   "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" "
                   "viewBox=\"0 0 {0} {1}\" role=\"img\" "
                   "font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">\n"
                   "<title>{2}</title>\n"
                   "<rect x=\"0\" y=\"0\" width=\"{0}\" height=\"{1}\" fill=\"#ffffff\"/>\n",
                   num(width), num(height), xml_escape(title));
    text(width / 2, 26, title, kTitleSize, "middle", "font-weight=\"bold\"");
  }

  void text(double x, double y, const std::string& s, double size, const char* anchor = "start",
            const std::string& extra = "", const char* colour = kText) {
    fmt::format_to(std::back_inserter(out_),
                   "<text x=\"{}\" y=\"{}\" font-size=\"{}\" text-anchor=\"{}\" fill=\"{}\"{}{}>"
                   "{}</text>\n",
                   num(x), num(y), size, anchor, colour, extra.empty() ? "" : " ", extra,
                   xml_escape(s));
  }

  // Text rotated by `degrees` about its anchor point.
  void rotated_text(double x, double y, const std::string& s, double size, int degrees,
                    const char* anchor) {
    text(x, y, s, size, anchor,
         fmt::format("transform=\"rotate({} {} {})\"", degrees, num(x), num(y)));
  }

  void line(double x1, double y1, double x2, double y2, const char* colour, double width = 1) {
    fmt::format_to(std::back_inserter(out_),
                   "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" "
                   "stroke-width=\"{}\"/>\n",
                   num(x1), num(y1), num(x2), num(y2), colour, width);
  }

  // A bar, with its label and value as a hover tooltip.
  void bar(double x, double y, double w, double h, const std::string& fill,
           const std::string& tooltip) {
    fmt::format_to(std::back_inserter(out_),
                   "<rect class=\"bar\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" "
                   "fill=\"{}\"><title>{}</title></rect>\n",
                   num(x), num(y), num(w), num(h), xml_escape(fill), xml_escape(tooltip));
  }

  void raw(const std::string& element) { out_ += element; }

  std::string finish() { return out_ + "</svg>\n"; }

 private:
  std::string out_;
};

// A value axis from round-number ticks covering [lo, hi].
struct Axis {
  double lo = 0;
  double hi = 1;
  std::vector<double> ticks;
  int decimals = 0;  // for the tick labels, in the axis's ValueFormat
};

Axis nice_axis(double lo, double hi, ValueFormat format, int target_ticks = 5) {
  if (!(hi > lo))
    hi = lo + 1;
  double step = (hi - lo) / target_ticks;
  const double magnitude = std::pow(10.0, std::floor(std::log10(step)));
  const double r = step / magnitude;
  step = (r < 1.5 ? 1 : r < 3 ? 2 : r < 7 ? 5 : 10) * magnitude;
  if (format == ValueFormat::kCount)
    step = std::max(step, 1.0);  // a count axis never shows 0.5
  Axis axis;
  axis.lo = std::floor(lo / step + 1e-9) * step;
  axis.hi = std::ceil(hi / step - 1e-9) * step;
  for (double t = axis.lo; t <= axis.hi + step / 2; t += step)
    axis.ticks.push_back(std::abs(t) < step * 1e-9 ? 0.0 : t);
  const double shown_step = format == ValueFormat::kPercent ? step * 100 : step;
  axis.decimals = format == ValueFormat::kCount
                      ? 0
                      : std::max(0, static_cast<int>(-std::floor(std::log10(shown_step) + 1e-9)));
  return axis;
}

std::vector<std::string> tick_labels(const Axis& axis, ValueFormat format) {
  std::vector<std::string> labels;
  for (const double t : axis.ticks)
    labels.push_back(format_value(t, format, axis.decimals));
  return labels;
}

void check_values(const std::vector<double>& values, const char* what) {
  for (const double v : values) {
    if (!std::isfinite(v) || v < 0) {
      throw std::invalid_argument(fmt::format("{}: expected finite values >= 0, got {}", what, v));
    }
  }
}

std::string colour_of(const BarChart& c, size_t i) {
  return c.colours.empty() ? c.colour : c.colours[i];
}

std::string vertical_bars(const BarChart& c) {
  const size_t n = c.values.size();
  const double width = c.width;
  const Axis axis = nice_axis(0, *std::max_element(c.values.begin(), c.values.end()), c.format);
  const auto ticks = tick_labels(axis, c.format);
  const double left =
      kMargin + (c.value_axis_label.empty() ? 0 : 20) + max_text_width(ticks, kTickSize) + 8;
  const double plot_w = width - left - kMargin;
  const double slot = plot_w / static_cast<double>(n);
  const double label_w = max_text_width(c.labels, kTickSize);
  const bool rotate = label_w > slot - 6;
  // A label rotated by 45 degrees needs its width times sin(45) of height.
  const double labels_h = rotate ? label_w * 0.71 + kTickSize + 8 : kTickSize + 10;
  const double bottom = 6 + labels_h + (c.category_axis_label.empty() ? 0 : 22) +
                        (c.note.empty() ? 0 : 20) + kMargin / 2;
  const double top = kTop + (c.show_values ? 14 : 0);
  const double height = c.height > 0 ? c.height : top + 260 + bottom;
  const double plot_h = height - top - bottom;
  const double base = top + plot_h;

  Svg svg(width, height, c.title);
  for (size_t i = 0; i < axis.ticks.size(); ++i) {
    const double y = base - (axis.ticks[i] - axis.lo) / (axis.hi - axis.lo) * plot_h;
    svg.line(left, y, left + plot_w, y, kGrid);
    svg.text(left - 6, y + 4, ticks[i], kTickSize, "end", "", kMuted);
  }
  for (size_t i = 0; i < n; ++i) {
    const double bar_w = slot * 0.72;
    const double x = left + static_cast<double>(i) * slot + (slot - bar_w) / 2;
    const double h = c.values[i] / axis.hi * plot_h;
    const std::string value = format_value(c.values[i], c.format);
    svg.bar(x, base - h, bar_w, h, colour_of(c, i), c.labels[i] + ": " + value);
    if (c.show_values && text_width(value, kTickSize) <= slot)
      svg.text(x + bar_w / 2, base - h - 4, value, kTickSize, "middle");
    const double cx = x + bar_w / 2;
    if (rotate)
      svg.rotated_text(cx + 4, base + 14, c.labels[i], kTickSize, -45, "end");
    else
      svg.text(cx, base + 16, c.labels[i], kTickSize, "middle");
  }
  svg.line(left, top, left, base, kAxis);
  svg.line(left, base, left + plot_w, base, kAxis);
  if (!c.value_axis_label.empty())
    svg.rotated_text(kMargin + 10, top + plot_h / 2, c.value_axis_label, kLabelSize, -90, "middle");
  double y = base + 6 + labels_h;
  if (!c.category_axis_label.empty()) {
    y += 16;
    svg.text(left + plot_w / 2, y, c.category_axis_label, kLabelSize, "middle");
  }
  if (!c.note.empty())
    svg.text(left + plot_w / 2, y + 20, c.note, kTickSize, "middle", "", kMuted);
  return svg.finish();
}

std::string horizontal_bars(const BarChart& c) {
  const size_t n = c.values.size();
  const double width = c.width;
  const Axis axis = nice_axis(0, *std::max_element(c.values.begin(), c.values.end()), c.format);
  const auto ticks = tick_labels(axis, c.format);
  std::vector<std::string> values;
  for (const double v : c.values)
    values.push_back(format_value(v, c.format));
  const double left =
      kMargin + (c.category_axis_label.empty() ? 0 : 20) + max_text_width(c.labels, kLabelSize) + 8;
  // The last tick label is centred on the plot's right edge, so half of it sticks out.
  const double right = kMargin + std::max(c.show_values ? max_text_width(values, kTickSize) + 6 : 0,
                                          text_width(ticks.back(), kTickSize) / 2);
  const double plot_w = width - left - right;
  const double bottom = 6 + kTickSize + 10 + (c.value_axis_label.empty() ? 0 : 22) +
                        (c.note.empty() ? 0 : 20) + kMargin / 2;
  // Thicker bars when there are few, so that a two-bar chart is not a sliver.
  const double slot = c.height > 0 ? (c.height - kTop - bottom) / static_cast<double>(n)
                                   : std::max(24.0, 96.0 / static_cast<double>(n));
  const double plot_h = slot * static_cast<double>(n);
  const double height = kTop + plot_h + bottom;
  const double base = kTop + plot_h;

  Svg svg(width, height, c.title);
  for (size_t i = 0; i < axis.ticks.size(); ++i) {
    const double x = left + (axis.ticks[i] - axis.lo) / (axis.hi - axis.lo) * plot_w;
    svg.line(x, kTop, x, base, kGrid);
    svg.text(x, base + 16, ticks[i], kTickSize, "middle", "", kMuted);
  }
  for (size_t i = 0; i < n; ++i) {
    const double bar_h = slot * 0.7;
    const double y = kTop + static_cast<double>(i) * slot + (slot - bar_h) / 2;
    const double w = c.values[i] / axis.hi * plot_w;
    svg.bar(left, y, w, bar_h, colour_of(c, i), c.labels[i] + ": " + values[i]);
    svg.text(left - 6, y + bar_h / 2 + 4, c.labels[i], kLabelSize, "end");
    if (c.show_values)
      svg.text(left + w + 4, y + bar_h / 2 + 4, values[i], kTickSize);
  }
  svg.line(left, kTop, left, base, kAxis);
  svg.line(left, base, left + plot_w, base, kAxis);
  if (!c.category_axis_label.empty())
    svg.rotated_text(kMargin + 10, kTop + plot_h / 2, c.category_axis_label, kLabelSize, -90,
                     "middle");
  double y = base + 6 + kTickSize + 10;
  if (!c.value_axis_label.empty()) {
    y += 16;
    svg.text(left + plot_w / 2, y, c.value_axis_label, kLabelSize, "middle");
  }
  if (!c.note.empty())
    svg.text(left + plot_w / 2, y + 20, c.note, kTickSize, "middle", "", kMuted);
  return svg.finish();
}

}  // namespace

std::string xml_escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (const char ch : text) {
    switch (ch) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out += ch;
    }
  }
  return out;
}

std::string group_thousands(int64_t value) {
  // Via the unsigned magnitude so that INT64_MIN does not overflow.
  const bool negative = value < 0;
  uint64_t magnitude = negative ? 0 - static_cast<uint64_t>(value) : static_cast<uint64_t>(value);
  std::string digits = std::to_string(magnitude);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0)
      out += ',';
    out += digits[i];
  }
  return negative ? "-" + out : out;
}

std::string format_value(double value, ValueFormat format, int decimals) {
  switch (format) {
    case ValueFormat::kCount:
      return group_thousands(std::llround(value));
    case ValueFormat::kPercent:
      return fmt::format("{:.{}f}%", value * 100, decimals < 0 ? 1 : decimals);
    case ValueFormat::kDecimal:
      break;
  }
  return fmt::format("{:.{}f}", value, decimals < 0 ? 2 : decimals);
}

std::string bar_chart_svg(const BarChart& chart) {
  if (chart.values.empty())
    throw std::invalid_argument("bar chart \"" + chart.title + "\": no bars");
  if (chart.labels.size() != chart.values.size() ||
      (!chart.colours.empty() && chart.colours.size() != chart.values.size())) {
    throw std::invalid_argument(fmt::format(
        "bar chart \"{}\": expected as many labels (and colours) as values, got {} labels, "
        "{} colours, {} values",
        chart.title, chart.labels.size(), chart.colours.size(), chart.values.size()));
  }
  check_values(chart.values, "bar chart");
  return chart.horizontal ? horizontal_bars(chart) : vertical_bars(chart);
}

std::string line_chart_svg(const LineChart& c) {
  if (c.xs.empty() || c.xs.size() != c.ys.size()) {
    throw std::invalid_argument(fmt::format(
        "line chart \"{}\": expected as many x as y values (at least one), got {} and {}", c.title,
        c.xs.size(), c.ys.size()));
  }
  check_values(c.ys, "line chart");
  for (const double x : c.xs) {
    if (!std::isfinite(x))
      throw std::invalid_argument("line chart \"" + c.title + "\": non-finite x value");
  }
  const double width = c.width;
  const double height = c.height;
  const Axis y_axis = nice_axis(0, *std::max_element(c.ys.begin(), c.ys.end()), c.y_format);
  const auto y_ticks = tick_labels(y_axis, c.y_format);

  // The x domain: round numbers around the data, or exactly the data with given ticks.
  double x_lo = c.xs.front();
  double x_hi = c.xs.back();
  std::vector<std::pair<double, std::string>> x_ticks;
  if (c.x_ticks.empty()) {
    const Axis x_axis = nice_axis(x_lo, x_hi, c.x_format);
    x_lo = x_axis.lo;
    x_hi = x_axis.hi;
    const auto labels = tick_labels(x_axis, c.x_format);
    for (size_t i = 0; i < labels.size(); ++i)
      x_ticks.emplace_back(x_axis.ticks[i], labels[i]);
  } else {
    if (!(x_hi > x_lo)) {
      x_lo -= 0.5;
      x_hi += 0.5;
    }
    for (const auto& tick : c.x_ticks) {
      if (tick.first >= x_lo && tick.first <= x_hi)
        x_ticks.push_back(tick);
    }
  }

  const double left =
      kMargin + (c.y_label.empty() ? 0 : 20) + max_text_width(y_ticks, kTickSize) + 8;
  const double right = kMargin + 12;
  const double plot_w = width - left - right;
  auto to_x = [&](double x) { return left + (x - x_lo) / (x_hi - x_lo) * plot_w; };
  double x_label_w = 0;
  double spacing = plot_w;
  for (size_t i = 0; i < x_ticks.size(); ++i) {
    x_label_w = std::max(x_label_w, text_width(x_ticks[i].second, kTickSize));
    if (i > 0)
      spacing = std::min(spacing, to_x(x_ticks[i].first) - to_x(x_ticks[i - 1].first));
  }
  const bool rotate = x_label_w > spacing - 6;
  const double labels_h = rotate ? x_label_w * 0.71 + kTickSize + 8 : kTickSize + 10;
  const double bottom =
      6 + labels_h + (c.x_label.empty() ? 0 : 22) + (c.note.empty() ? 0 : 20) + kMargin / 2;
  const double plot_h = height - kTop - bottom;
  const double base = kTop + plot_h;
  auto to_y = [&](double y) { return base - (y - y_axis.lo) / (y_axis.hi - y_axis.lo) * plot_h; };

  Svg svg(width, height, c.title);
  for (size_t i = 0; i < y_axis.ticks.size(); ++i) {
    const double y = to_y(y_axis.ticks[i]);
    svg.line(left, y, left + plot_w, y, kGrid);
    svg.text(left - 6, y + 4, y_ticks[i], kTickSize, "end", "", kMuted);
  }
  for (const auto& [x_value, label] : x_ticks) {
    const double x = to_x(x_value);
    svg.line(x, base, x, base + 4, kAxis);
    if (rotate)
      svg.rotated_text(x + 4, base + 14, label, kTickSize, -45, "end");
    else
      svg.text(x, base + 16, label, kTickSize, "middle", "", kMuted);
  }

  // Points closer than half a pixel to the last one drawn add nothing but bytes (the
  // long tail of a thousand equal counts collapses to its two ends).
  std::string points;
  double last_x = -1e9;
  double last_y = -1e9;
  for (size_t i = 0; i < c.xs.size(); ++i) {
    const double x = to_x(c.xs[i]);
    const double y = to_y(c.ys[i]);
    const bool is_last = i + 1 == c.xs.size();
    const bool flat = i + 1 < c.xs.size() && to_y(c.ys[i + 1]) == y && y == last_y;
    if (!is_last && (flat || (std::abs(x - last_x) < 0.5 && std::abs(y - last_y) < 0.5)))
      continue;
    points += (points.empty() ? "" : " ") + num(x) + "," + num(y);
    last_x = x;
    last_y = y;
  }
  svg.raw(fmt::format(
      "<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"2\" stroke-linejoin=\"round\" "
      "points=\"{}\"/>\n",
      xml_escape(c.colour), points));
  if (c.markers) {
    for (size_t i = 0; i < c.xs.size(); ++i) {
      svg.raw(fmt::format("<circle cx=\"{}\" cy=\"{}\" r=\"3\" fill=\"{}\"/>\n", num(to_x(c.xs[i])),
                          num(to_y(c.ys[i])), xml_escape(c.colour)));
    }
  }
  svg.line(left, kTop, left, base, kAxis);
  svg.line(left, base, left + plot_w, base, kAxis);
  if (!c.y_label.empty())
    svg.rotated_text(kMargin + 10, kTop + plot_h / 2, c.y_label, kLabelSize, -90, "middle");
  double y = base + 6 + labels_h;
  if (!c.x_label.empty()) {
    y += 16;
    svg.text(left + plot_w / 2, y, c.x_label, kLabelSize, "middle");
  }
  if (!c.note.empty())
    svg.text(left + plot_w / 2, y + 20, c.note, kTickSize, "middle", "", kMuted);
  return svg.finish();
}

void write_svg(const std::string& path, const std::string& svg) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out)
    throw std::runtime_error("cannot open " + path + " for writing");
  out << svg;
  out.close();
  if (!out)
    throw std::runtime_error("cannot write " + path);
}

}  // namespace autoint::util
