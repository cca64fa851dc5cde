// Process-wide allocator tuning for the CPU training and scoring loops, and huge pages for
// large buffers.
#pragma once

#include <cstddef>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

namespace autoint::util {

// glibc hands large freed blocks back to the kernel (munmap, heap trimming), so every
// training step page-faults and zeroes its ~10 MB of activations afresh: about 10% of a
// CPU training step here (docs/performance.md). This keeps freed memory in the process
// for reuse by raising glibc's mmap and trim thresholds. It changes process-wide malloc
// settings, once (later calls do nothing); peak RSS may rise by the largest freed blocks.
// Elsewhere than glibc it does nothing. Training, the benchmark and the recommender call it.
void retain_freed_memory();

// Asks the kernel to back the whole 2 MiB pages inside [data, data + bytes) with transparent
// huge pages (madvise MADV_HUGEPAGE): a buffer of hundreds of MB is then faulted in 2 MiB
// at a time instead of 4 KiB. Call it before the buffer is first written. Does nothing for
// small buffers, where the system has no transparent huge pages, and off Linux.
void advise_huge_pages(void* data, std::size_t bytes);

// An allocator whose value-less construct() default-initialises: resize() of a vector of
// numbers leaves the new elements unset instead of writing zeros, for buffers that are about to
// be overwritten (a table's columns: a zero-fill would be a second, serial pass over them).
template <class T, class Base = std::allocator<T>>
class DefaultInitAllocator : public Base {
 public:
  template <class U>
  struct rebind {
    using other =
        DefaultInitAllocator<U, typename std::allocator_traits<Base>::template rebind_alloc<U>>;
  };
  using Base::Base;
  DefaultInitAllocator() = default;
  template <class U, class B>
  DefaultInitAllocator(const DefaultInitAllocator<U, B>& other) : Base(other) {}
  template <class U>
  void construct(U* p) noexcept(std::is_nothrow_default_constructible<U>::value) {
    ::new (static_cast<void*>(p)) U;
  }
  template <class U, class... Args>
  void construct(U* p, Args&&... args) {
    std::allocator_traits<Base>::construct(static_cast<Base&>(*this), p,
                                           std::forward<Args>(args)...);
  }
};

// A vector whose resize() does not zero the new elements.
template <class T>
using UninitVector = std::vector<T, DefaultInitAllocator<T>>;

}  // namespace autoint::util
