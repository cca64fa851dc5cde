// The run log.
#include "autoint/util/log.h"

#include <stdexcept>

#include <fmt/format.h>

namespace autoint::util {

Log::Log(std::ostream* console, const std::string& path) : console_(console) {
  if (!path.empty()) {
    file_.open(path, std::ios::app);
    if (!file_)
      throw std::runtime_error(fmt::format("{}: cannot open log file", path));
  }
}

void Log::line(const std::string& text) {
  if (console_)
    *console_ << text << '\n' << std::flush;
  if (file_.is_open())
    file_ << text << '\n' << std::flush;
}

}  // namespace autoint::util
