// Exception types for every error a user can cause; apps print what() and exit non-zero.
#pragma once

#include <stdexcept>
#include <string>

namespace autoint {

// Base class of all autoint errors.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A data file is missing, unreadable or malformed. The message names the file,
// the line, the offending text and what was expected.
class DataError : public Error {
 public:
  using Error::Error;
};

// A config file or override has an unknown key, a wrong type or a value out of range.
class ConfigError : public Error {
 public:
  using Error::Error;
};

// A run directory is missing files, is corrupt or comes from an incompatible version.
class RunError : public Error {
 public:
  using Error::Error;
};

// A device string is malformed or names a device that is not available.
class DeviceError : public Error {
 public:
  using Error::Error;
};

// Training stopped on request (SIGINT) after writing a checkpoint; apps exit with 130,
// the shell's code for Ctrl-C.
class Interrupted : public Error {
 public:
  using Error::Error;
};

// A value quoted in an error message, cut to its first `limit` bytes with "... (N bytes)"
// when longer, so that a huge bad value cannot turn into a huge message; control bytes
// are shown as \xHH, so that a carriage return cannot hide the rest of the line.
inline std::string quoted_value(const std::string& value, std::size_t limit = 80) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (std::size_t i = 0; i < value.size() && i < limit; ++i) {
    const auto byte = static_cast<unsigned char>(value[i]);
    if (byte < 0x20 || byte == 0x7f) {
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 0xf];
    } else {
      out += value[i];
    }
  }
  if (value.size() > limit)
    out += "... (" + std::to_string(value.size()) + " bytes)";
  return out;
}

}  // namespace autoint
