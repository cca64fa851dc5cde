// Whole files: read at once, and written so that no reader or crash sees half of one.
#pragma once

#include <string>

namespace autoint::util {

// A file's bytes; throws RunError naming it when it is missing or unreadable.
std::string read_file(const std::string& path);

// Writes `content` to `path` through a temporary file that is flushed to disk (fsync)
// before it is renamed over `path`, so neither a reader nor a crash ever sees half a
// file. On failure (disk full, ...) the temporary is removed, `path` keeps its old
// content, and RunError names the file and the reason.
void write_file_atomically(const std::string& path, const std::string& content);

}  // namespace autoint::util
