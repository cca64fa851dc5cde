// Progress bar and progress lines.
#include "autoint/util/progress.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <stdexcept>

#include <fmt/format.h>

#include "autoint/util/clock.h"

namespace autoint::util {

ProgressMode progress_mode(const std::string& setting) {
  if (setting == "auto")
    return isatty(fileno(stdout)) ? ProgressMode::bar : ProgressMode::lines;
  if (setting == "bar")
    return ProgressMode::bar;
  if (setting == "lines")
    return ProgressMode::lines;
  if (setting == "none")
    return ProgressMode::none;
  throw std::invalid_argument(
      fmt::format("progress mode must be auto, bar, lines or none (got \"{}\")", setting));
}

std::string format_duration(double seconds) {
  const auto total = static_cast<int64_t>(std::llround(std::max(0.0, seconds)));
  const int64_t h = total / 3600, m = total / 60 % 60, s = total % 60;
  return h > 0 ? fmt::format("{}:{:02}:{:02}", h, m, s) : fmt::format("{:02}:{:02}", m, s);
}

Progress::Progress(std::ostream& out, ProgressMode mode, std::string label, int64_t total)
    : out_(out),
      mode_(mode),
      label_(std::move(label)),
      total_(std::max<int64_t>(total, 1)),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

double Progress::elapsed_seconds() const {
  return seconds_since(start_);
}

std::string Progress::status(int64_t done, double loss) const {
  const double elapsed = elapsed_seconds();
  const double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0.0;
  const double eta = rate > 0 ? static_cast<double>(total_ - done) / rate : 0.0;
  return fmt::format("{:.0f} samples/s  loss {:.4f}  elapsed {}  ETA {}", rate, loss,
                     format_duration(elapsed), format_duration(eta));
}

void Progress::update(int64_t done, double loss) {
  if (mode_ == ProgressMode::none)
    return;
  const int64_t percent = done * 100 / total_;
  if (mode_ == ProgressMode::lines) {
    if (percent < next_line_percent_)
      return;
    while (next_line_percent_ <= percent)
      next_line_percent_ += 25;
    if (percent >= 100)
      return;  // finish() prints the last line
    out_ << fmt::format("{} {:3}%  {}\n", label_, percent, status(done, loss)) << std::flush;
    return;
  }
  const auto now = std::chrono::steady_clock::now();
  if (now - last_draw_ < std::chrono::milliseconds(100) && done < total_)
    return;
  last_draw_ = now;
  constexpr int kWidth = 30;
  const auto filled = static_cast<int>(kWidth * std::min<int64_t>(done, total_) / total_);
  out_ << fmt::format("\r{} [{}{}] {:3}%  {}", label_, std::string(filled, '#'),
                      std::string(kWidth - filled, '.'), percent, status(done, loss))
       << std::flush;
}

void Progress::finish(int64_t done, double loss) {
  if (mode_ == ProgressMode::none)
    return;
  if (mode_ == ProgressMode::bar) {
    last_draw_ = {};
    update(done, loss);
    out_ << '\n' << std::flush;
    return;
  }
  out_ << fmt::format("{} 100%  {}\n", label_, status(done, loss)) << std::flush;
}

}  // namespace autoint::util
