// FNV-1a, 64 bits: the one hash behind run manifests, checkpoint headers and data
// fingerprints (cheap, dependency-free, and stable across platforms and versions).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace autoint::util {

class Fnv1a {
 public:
  void update(const void* data, std::size_t size) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (std::size_t i = 0; i < size; ++i) {
      hash_ ^= p[i];
      hash_ *= 1099511628211ULL;
    }
  }
  uint64_t value() const { return hash_; }
  // 16 hex digits, as manifests and checkpoint headers write it.
  std::string hex() const {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out(16, '0');
    for (int i = 15, shift = 0; i >= 0; --i, shift += 4)
      out[static_cast<std::size_t>(i)] = kDigits[(hash_ >> shift) & 0xF];
    return out;
  }

 private:
  uint64_t hash_ = 1469598103934665603ULL;
};

// The 16 hex digits of `bytes`' hash.
inline std::string fnv1a_hex(const std::string& bytes) {
  Fnv1a hash;
  hash.update(bytes.data(), bytes.size());
  return hash.hex();
}

}  // namespace autoint::util
