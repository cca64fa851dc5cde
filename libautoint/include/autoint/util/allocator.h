// Process-wide allocator tuning for the CPU training and scoring loops.
#pragma once

namespace autoint::util {

// glibc hands large freed blocks back to the kernel (munmap, heap trimming), so every
// training step page-faults and zeroes its ~10 MB of activations afresh: about 10% of a
// CPU training step here (docs/performance.md). This keeps freed memory in the process
// for reuse by raising glibc's mmap and trim thresholds. It changes process-wide malloc
// settings, once (later calls do nothing); peak RSS may rise by the largest freed blocks.
// Elsewhere than glibc it does nothing. Training, the benchmark and the recommender call it.
void retain_freed_memory();

}  // namespace autoint::util
