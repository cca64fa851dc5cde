// glibc malloc thresholds; see the header.
#include "autoint/util/allocator.h"

#include <mutex>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace autoint::util {

void retain_freed_memory() {
#if defined(__GLIBC__)
  static std::once_flag once;
  std::call_once(once, [] {
    // The largest mmap threshold glibc accepts on 64-bit (HEAP_MAX_SIZE / 2); blocks below
    // it come from the heap, whose top is trimmed only beyond 1 GiB of free memory.
    mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
    mallopt(M_TRIM_THRESHOLD, 1024 * 1024 * 1024);
  });
#endif
}

}  // namespace autoint::util
