// A run log: each line goes to the console and to the run directory's log file.
#pragma once

#include <fstream>
#include <ostream>
#include <string>

namespace autoint::util {

class Log {
 public:
  // Lines go to `console` (when not null) and are appended to `path` (when not empty).
  // Throws std::runtime_error naming the path if the file cannot be opened.
  Log(std::ostream* console, const std::string& path);
  void line(const std::string& text);
  // Where the lines go on screen (null: nowhere); progress bars draw there too.
  std::ostream* console() const { return console_; }

 private:
  std::ostream* console_;
  std::ofstream file_;
};

}  // namespace autoint::util
