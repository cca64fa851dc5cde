// Whole files: read at once, written atomically.
#include "autoint/util/files.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include <fmt/format.h>

#include "autoint/error.h"

namespace autoint::util {
namespace fs = std::filesystem;

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw RunError(fmt::format("{}: missing or unreadable", path));
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

void write_file_atomically(const std::string& path, const std::string& content) {
  const std::string tmp = path + ".tmp";
  auto fail = [&](const std::string& what, int error) {
    ::unlink(tmp.c_str());
    return RunError(fmt::format("{}: {}: {}; {} is unchanged", tmp, what,
                                std::generic_category().message(error), path));
  };
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    throw RunError(fmt::format("{}: cannot open for writing: {}", tmp,
                               std::generic_category().message(errno)));
  }
  std::size_t written = 0;
  while (written < content.size()) {
    const ssize_t n = ::write(fd, content.data() + written, content.size() - written);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      const int error = n < 0 ? errno : ENOSPC;
      ::close(fd);
      throw fail(fmt::format("write failed after {} of {} bytes", written, content.size()), error);
    }
    written += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    const int error = errno;
    ::close(fd);
    throw fail("cannot flush to disk", error);
  }
  if (::close(fd) != 0)
    throw fail("cannot close", errno);
  if (::rename(tmp.c_str(), path.c_str()) != 0)
    throw fail("cannot rename into place", errno);
  // The rename itself is durable only once the directory is flushed; some file systems
  // cannot fsync a directory, which costs durability on a power cut, not consistency.
  const std::string parent = fs::path(path).parent_path().empty()
                                 ? std::string(".")
                                 : fs::path(path).parent_path().string();
  const int dir_fd = ::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
}

}  // namespace autoint::util
