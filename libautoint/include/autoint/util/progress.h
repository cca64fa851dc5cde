// Training progress: a redrawn bar on a terminal, plain lines otherwise.
#pragma once

#include <chrono>
#include <cstdint>
#include <ostream>
#include <string>

namespace autoint::util {

enum class ProgressMode { bar, lines, none };

// "auto" becomes bar when stdout is a terminal and lines otherwise; "bar", "lines"
// and "none" are taken as they are. Throws std::invalid_argument for anything else.
ProgressMode progress_mode(const std::string& setting);

// "1:02:03", "02:03" style durations.
std::string format_duration(double seconds);

class Progress {
 public:
  Progress(std::ostream& out, ProgressMode mode, std::string label, int64_t total);
  // `done` samples processed so far, `loss` the running mean loss.
  void update(int64_t done, double loss);
  // Ends the bar (a newline) or prints a last line.
  void finish(int64_t done, double loss);
  double elapsed_seconds() const;

 private:
  std::string status(int64_t done, double loss) const;
  std::ostream& out_;
  ProgressMode mode_;
  std::string label_;
  int64_t total_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
  int64_t next_line_percent_ = 25;
};

}  // namespace autoint::util
