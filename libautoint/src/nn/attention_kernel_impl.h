// The fused CPU attention kernel, written once for a vector width and compiled once per width:
// include it in a .cpp file after defining AUTOINT_ATTENTION_VEC_BYTES (16 or 32), then hand
// kernel_table() to attention.cpp through attention_kernel.h.
//
// The inner loops use GCC/Clang vector extensions (SSE or AVX on x86-64, NEON on ARM) rather
// than relying on auto-vectorisation: with the default -ftrapping-math GCC will not vectorise
// the compares of the clamp and the relu, and at -O3 it fully unrolls the fixed-D loops into
// scalar code before its vectoriser runs.
//
// Everything here has internal linkage (an unnamed namespace) and nothing from the standard
// library's headers is instantiated: a build compiled with -mavx2 must not emit an inline or
// template function that the linker could pick for the baseline build too, where it would
// fault on CPUs without AVX2.
#pragma once

#include <cstdint>
#include <cstring>

#include "attention_kernel.h"

#if !defined(__GNUC__)
#error "the fused attention kernel needs the GCC/Clang vector extensions"
#endif
#if !defined(AUTOINT_ATTENTION_VEC_BYTES)
#error "define AUTOINT_ATTENTION_VEC_BYTES (16 or 32) before including attention_kernel_impl.h"
#endif

namespace autoint::nn::kernel {
namespace {

typedef float Vec __attribute__((vector_size(AUTOINT_ATTENTION_VEC_BYTES)));
typedef int32_t Mask __attribute__((vector_size(AUTOINT_ATTENTION_VEC_BYTES)));  // a Vec compare
typedef uint32_t Bits __attribute__((vector_size(AUTOINT_ATTENTION_VEC_BYTES)));
constexpr int64_t kWidth = AUTOINT_ATTENTION_VEC_BYTES / 4;  // floats per Vec
static_assert(kWidth == 4 || kWidth == 8, "the kernel is written for 128- and 256-bit vectors");

// Field-indexed rows are padded to a multiple of this so the score kernels work in whole Vecs.
constexpr int64_t kLanes = 2 * kWidth;

template <typename To, typename From>
inline To bit_cast(const From& from) {
  static_assert(sizeof(To) == sizeof(From), "bit_cast between different sizes");
  To to;
  std::memcpy(&to, &from, sizeof to);
  return to;
}

inline Vec load(const float* p) {
  Vec v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void store(float* p, Vec v) {
  std::memcpy(p, &v, sizeof v);
}
inline Vec splat(float x) {
#if AUTOINT_ATTENTION_VEC_BYTES == 16
  return Vec{x, x, x, x};
#else
  return Vec{x, x, x, x, x, x, x, x};
#endif
}
inline Vec select(Mask mask, Vec if_set, Vec otherwise) {
  const Mask a = bit_cast<Mask>(if_set);
  const Mask b = bit_cast<Mask>(otherwise);
  return bit_cast<Vec>((a & mask) | (b & ~mask));
}
// Adjacent pairs first: (v0 op v1) op (v2 op v3) for four lanes, whatever the width.
template <typename Op>
inline float horizontal_reduce(Vec v, Op op) {
  float s[kWidth];
  std::memcpy(s, &v, sizeof v);
#pragma GCC unroll 4
  for (int64_t n = kWidth; n > 1; n /= 2) {
#pragma GCC unroll 4
    for (int64_t i = 0; i < n / 2; ++i) {
      s[i] = op(s[2 * i], s[2 * i + 1]);
    }
  }
  return s[0];
}
inline float horizontal_sum(Vec v) {
  return horizontal_reduce(v, [](float a, float b) { return a + b; });
}
inline float horizontal_max(Vec v) {
  return horizontal_reduce(v, [](float a, float b) { return a > b ? a : b; });
}

// std::min would be an inline function shared with the other builds: see the file comment.
inline int64_t min_index(int64_t a, int64_t b) {
  return a < b ? a : b;
}

// relu that lets NaN through, as torch::relu does.
inline Vec relu(Vec v) {
  return select(v < splat(0.0f), splat(0.0f), v);
}

// exp(x) for x <= 0 (scores minus their row max): Cephes' expf polynomial, relative error
// below 1e-7 like std::exp in float, without a libm call per entry. NaN propagates.
inline Vec exp_nonpositive(Vec x) {
  const Vec lowest = splat(-87.0f);  // below it exp underflows; keeps 2^n a normal number
  const Vec v = select(x < lowest, lowest, x);
  const Vec round = splat(12582912.0f);  // 1.5 * 2^23: adding it rounds to an integer
  const Vec shifted = v * splat(1.44269504088896341f) + round;
  const Vec n = shifted - round;
  // n sits in the low mantissa bits of `shifted`; 0x4b400000 is the bit pattern of `round`.
  const Bits pow2_bits = (bit_cast<Bits>(shifted) - 0x4b400000u + 127u) << 23;
  const Vec r = v - n * splat(0.693359375f) + n * splat(2.12194440e-4f);
  Vec p = splat(1.9875691500e-4f);
  p = p * r + splat(1.3981999507e-3f);
  p = p * r + splat(8.3334519073e-3f);
  p = p * r + splat(4.1665795894e-2f);
  p = p * r + splat(1.6666665459e-1f);
  p = p * r + splat(5.0000001201e-1f);
  return (p * (r * r) + r + splat(1.0f)) * bit_cast<Vec>(pow2_bits);
}

// Requests the cache lines of [p, p + count floats) ahead of use. A batch row's few KiB are
// read in a strided order (per head: K, then Q, V, Res rows) that the hardware prefetchers
// pick up late; fetching the next row while computing on this one hides most of that.
inline void prefetch(const float* p, int64_t count) {
  constexpr int64_t kLineFloats = 16;
  for (int64_t i = 0; i < count; i += kLineFloats) {
    __builtin_prefetch(p + i, /*rw=*/0);
  }
}
inline void prefetch_for_write(float* p, int64_t count) {
  constexpr int64_t kLineFloats = 16;
  for (int64_t i = 0; i < count; i += kLineFloats) {
    __builtin_prefetch(p + i, /*rw=*/1);
  }
}

// out[i][j] = sum_d lhs[i][d] * rhs_t[d][j] for i < n_rows, j < padded (a multiple of kLanes).
// Four rows by kLanes columns at a time: eight independent accumulators hide the add latency.
template <int64_t kD>
void rows_times_transposed(const float* lhs, int64_t lhs_stride, int64_t n_rows, const float* rhs_t,
                           int64_t padded, float* out, int64_t out_stride, int64_t head_dim) {
  constexpr int64_t kRows = 4;
  const int64_t D = kD > 0 ? kD : head_dim;
  for (int64_t i0 = 0; i0 < n_rows; i0 += kRows) {
    // Rows past the end repeat the last row; their results are not stored.
    const float* row[kRows];
    for (int64_t r = 0; r < kRows; ++r) {
      row[r] = lhs + min_index(i0 + r, n_rows - 1) * lhs_stride;
    }
    for (int64_t jb = 0; jb < padded; jb += kLanes) {
      // Zeroed element by element: `= {}` makes GCC -O2 emit a rep stos before the registers.
      Vec acc[kRows][2];
#pragma GCC unroll 8
      for (int64_t r = 0; r < kRows; ++r) {
        acc[r][0] = splat(0.0f);
        acc[r][1] = splat(0.0f);
      }
      for (int64_t d = 0; d < D; ++d) {
        const Vec c0 = load(rhs_t + d * padded + jb);
        const Vec c1 = load(rhs_t + d * padded + jb + kWidth);
#pragma GCC unroll 8
        for (int64_t r = 0; r < kRows; ++r) {
          const Vec a = splat(row[r][d]);
          acc[r][0] += a * c0;
          acc[r][1] += a * c1;
        }
      }
      for (int64_t r = 0; r < kRows && i0 + r < n_rows; ++r) {
        store(out + (i0 + r) * out_stride + jb, acc[r][0]);
        store(out + (i0 + r) * out_stride + jb + kWidth, acc[r][1]);
      }
    }
  }
}

// out[i][:] = sum_{j < n_in} w[i * w_row + j * w_col] * rows[j][:] for i < n_out, over
// head_dim columns; with `res` set, out[i][:] = relu(that + res[i][:]) instead.
template <int64_t kD>
void weighted_rows(const float* w, int64_t w_row, int64_t w_col, int64_t n_out, int64_t n_in,
                   const float* rows, int64_t row_stride, float* out, int64_t out_stride,
                   const float* res, int64_t res_stride, int64_t head_dim) {
  if constexpr (kD > 0 && kD % kWidth == 0) {
    constexpr int64_t kVecs = kD / kWidth;
    // About eight accumulators: several output rows share each loaded input row.
    constexpr int64_t kRows = kVecs >= 8 ? 1 : 8 / kVecs;
    for (int64_t i0 = 0; i0 < n_out; i0 += kRows) {
      const float* w_r[kRows];
      for (int64_t r = 0; r < kRows; ++r) {
        w_r[r] = w + min_index(i0 + r, n_out - 1) * w_row;
      }
      Vec acc[kRows][kVecs];
#pragma GCC unroll 8
      for (int64_t r = 0; r < kRows; ++r) {
#pragma GCC unroll 8
        for (int64_t v = 0; v < kVecs; ++v) {
          acc[r][v] = splat(0.0f);
        }
      }
      for (int64_t j = 0; j < n_in; ++j) {
        const float* src = rows + j * row_stride;
        Vec x[kVecs];
#pragma GCC unroll 8
        for (int64_t v = 0; v < kVecs; ++v) {
          x[v] = load(src + v * kWidth);
        }
#pragma GCC unroll 8
        for (int64_t r = 0; r < kRows; ++r) {
          const Vec a = splat(w_r[r][j * w_col]);
#pragma GCC unroll 8
          for (int64_t v = 0; v < kVecs; ++v) {
            acc[r][v] += a * x[v];
          }
        }
      }
      for (int64_t r = 0; r < kRows && i0 + r < n_out; ++r) {
        float* dst = out + (i0 + r) * out_stride;
        for (int64_t v = 0; v < kVecs; ++v) {
          Vec y = acc[r][v];
          if (res != nullptr) {
            y = relu(y + load(res + (i0 + r) * res_stride + v * kWidth));
          }
          store(dst + v * kWidth, y);
        }
      }
    }
  } else {
    for (int64_t i = 0; i < n_out; ++i) {
      float* dst = out + i * out_stride;
      for (int64_t d = 0; d < head_dim; ++d) {
        dst[d] = 0.0f;
      }
      for (int64_t j = 0; j < n_in; ++j) {
        const float a = w[i * w_row + j * w_col];
        const float* src = rows + j * row_stride;
        for (int64_t d = 0; d < head_dim; ++d) {
          dst[d] += a * src[d];
        }
      }
      if (res != nullptr) {
        for (int64_t d = 0; d < head_dim; ++d) {
          const float y = dst[d] + res[i * res_stride + d];
          dst[d] = y < 0.0f ? 0.0f : y;
        }
      }
    }
  }
}

// Copies the F x D tile at `src` (row stride `stride`) transposed and scaled into
// dst[D][padded]; the padding columns stay as they are (zero from the allocation).
void transpose_tile(const float* src, int64_t stride, float* dst, int64_t fields, int64_t head_dim,
                    int64_t padded, float factor) {
  for (int64_t j = 0; j < fields; ++j) {
    for (int64_t d = 0; d < head_dim; ++d) {
      dst[d * padded + j] = src[j * stride + d] * factor;
    }
  }
}

// Turns each of the F rows of scores (row stride padded) into softmax probabilities in place,
// leaving zeros in the padding columns.
void softmax_rows(float* scores, int64_t fields, int64_t padded) {
  // Everything stays in whole Vecs: the padding lanes (index >= fields) are masked out of the
  // max and written as 0 by select, never by scalar stores that a vector load would then
  // have to wait for. The lane indices come from a table (no standard-library helpers here).
  int32_t index[kWidth];
  for (int64_t l = 0; l < kWidth; ++l)
    index[l] = static_cast<int32_t>(l);
  Mask lane;
  std::memcpy(&lane, index, sizeof lane);
  const Mask field_count = lane * 0 + static_cast<int32_t>(fields);
  const Vec minus_infinity = splat(-__builtin_inff());
  for (int64_t i = 0; i < fields; ++i) {
    float* s = scores + i * padded;
    Vec row_max_lanes = minus_infinity;
    for (int64_t j = 0; j < padded; j += kWidth) {
      const Mask valid = (lane + static_cast<int32_t>(j)) < field_count;
      const Vec v = load(s + j);
      // NaN scores are skipped here (a comparison with NaN is false) and propagate below.
      row_max_lanes = select(valid & (v > row_max_lanes), v, row_max_lanes);
    }
    const Vec row_max = splat(horizontal_max(row_max_lanes));
    Vec total = splat(0.0f);
    for (int64_t j = 0; j < padded; j += kWidth) {
      const Mask valid = (lane + static_cast<int32_t>(j)) < field_count;
      const Vec e = select(valid, exp_nonpositive(load(s + j) - row_max), splat(0.0f));
      store(s + j, e);
      total += e;
    }
    const Vec inv_total = splat(1.0f / horizontal_sum(total));
    for (int64_t j = 0; j < padded; j += kWidth) {
      store(s + j, load(s + j) * inv_total);
    }
  }
}

// KernelTable::forward_rows for head_dim kD (0: any).
template <int64_t kD>
void forward_rows(const float* proj, float* out, float* attn, const Dims& dims, int64_t begin,
                  int64_t end, float* scratch) {
  const int64_t D = kD > 0 ? kD : dims.head_dim;
  const int64_t F = dims.fields;
  const int64_t H = dims.heads;
  const int64_t P = dims.padded;
  const int64_t HD = H * D;
  const int64_t R = 4 * HD;  // row stride of projected

  float* keys_t = scratch;  // scale * K^T, [D][P]
  float* probs_buf = keys_t + D * P;

  for (int64_t b = begin; b < end; ++b) {
    const float* pb = proj + b * F * R;
    if (b + 1 < end) {
      prefetch(pb + F * R, F * R);
      prefetch_for_write(out + (b + 1) * F * HD, F * HD);
    }
    for (int64_t h = 0; h < H; ++h) {
      const float* q = pb + h * D;
      const float* k = pb + HD + h * D;
      const float* v = pb + 2 * HD + h * D;
      const float* res = pb + 3 * HD + h * D;
      float* probs = attn != nullptr ? attn + (b * H + h) * F * P : probs_buf;
      transpose_tile(k, R, keys_t, F, D, P, dims.scale);
      rows_times_transposed<kD>(q, R, F, keys_t, P, probs, P, D);
      softmax_rows(probs, F, P);
      weighted_rows<kD>(probs, P, 1, F, F, v, R, out + b * F * HD + h * D, HD, res, R, D);
    }
  }
}

// KernelTable::backward_rows for head_dim kD (0: any).
template <int64_t kD>
void backward_rows(const float* proj, const float* out, const float* attn, const float* grad_out,
                   float* grad_proj, const Dims& dims, int64_t begin, int64_t end, float* scratch) {
  const int64_t D = kD > 0 ? kD : dims.head_dim;
  const int64_t F = dims.fields;
  const int64_t H = dims.heads;
  const int64_t P = dims.padded;
  const int64_t HD = H * D;
  const int64_t R = 4 * HD;
  const Vec scale = splat(dims.scale);

  float* values_t = scratch;              // V^T, [D][P]
  float* grad_pre = values_t + D * P;     // dOut masked by the relu, [F][D]
  float* grad_scores = grad_pre + F * D;  // dA, then scale * dS in place, [F][P]

  for (int64_t b = begin; b < end; ++b) {
    const float* pb = proj + b * F * R;
    float* db = grad_proj + b * F * R;
    if (b + 1 < end) {
      prefetch(pb + F * R, F * R);
      prefetch(attn + (b + 1) * H * F * P, H * F * P);
      prefetch(out + (b + 1) * F * HD, F * HD);
      prefetch(grad_out + (b + 1) * F * HD, F * HD);
      prefetch_for_write(db + F * R, F * R);
    }
    for (int64_t h = 0; h < H; ++h) {
      const float* q = pb + h * D;
      const float* k = pb + HD + h * D;
      const float* v = pb + 2 * HD + h * D;
      const float* probs = attn + (b * H + h) * F * P;
      const float* o = out + b * F * HD + h * D;
      const float* g = grad_out + b * F * HD + h * D;
      float* dres = db + 3 * HD + h * D;

      for (int64_t i = 0; i < F; ++i) {
        float* gp_i = grad_pre + i * D;
        if constexpr (kD > 0 && kD % kWidth == 0) {
          for (int64_t d = 0; d < kD; d += kWidth) {
            const Vec masked =
                select(load(o + i * HD + d) > splat(0.0f), load(g + i * HD + d), splat(0.0f));
            store(gp_i + d, masked);
            store(dres + i * R + d, masked);
          }
        } else {
          for (int64_t d = 0; d < D; ++d) {
            gp_i[d] = o[i * HD + d] > 0.0f ? g[i * HD + d] : 0.0f;
            dres[i * R + d] = gp_i[d];
          }
        }
      }

      transpose_tile(v, R, values_t, F, D, P, 1.0f);
      rows_times_transposed<kD>(grad_pre, D, F, values_t, P, grad_scores, P, D);
      for (int64_t i = 0; i < F; ++i) {
        const float* a_i = probs + i * P;
        float* ds_i = grad_scores + i * P;
        // The padding columns of A are zero, so they drop out of the row dot product.
        Vec dot = splat(0.0f);
        for (int64_t j = 0; j < P; j += kWidth) {
          dot += load(ds_i + j) * load(a_i + j);
        }
        const Vec row_dot = splat(horizontal_sum(dot));
        for (int64_t j = 0; j < P; j += kWidth) {
          store(ds_i + j, scale * load(a_i + j) * (load(ds_i + j) - row_dot));
        }
      }

      // dQ = dS K, dK = dS^T Q, dV = A^T dPre.
      weighted_rows<kD>(grad_scores, P, 1, F, F, k, R, db + h * D, R, nullptr, 0, D);
      weighted_rows<kD>(grad_scores, 1, P, F, F, q, R, db + HD + h * D, R, nullptr, 0, D);
      weighted_rows<kD>(probs, 1, P, F, F, grad_pre, D, db + 2 * HD + h * D, R, nullptr, 0, D);
    }
  }
}

void forward_any(const float* proj, float* out, float* attn, const Dims& dims, int64_t begin,
                 int64_t end, float* scratch) {
  switch (dims.head_dim) {
    case 8:
      forward_rows<8>(proj, out, attn, dims, begin, end, scratch);
      break;
    case 16:
      forward_rows<16>(proj, out, attn, dims, begin, end, scratch);
      break;
    case 32:
      forward_rows<32>(proj, out, attn, dims, begin, end, scratch);
      break;
    default:
      forward_rows<0>(proj, out, attn, dims, begin, end, scratch);
  }
}

void backward_any(const float* proj, const float* out, const float* attn, const float* grad_out,
                  float* grad_proj, const Dims& dims, int64_t begin, int64_t end, float* scratch) {
  switch (dims.head_dim) {
    case 8:
      backward_rows<8>(proj, out, attn, grad_out, grad_proj, dims, begin, end, scratch);
      break;
    case 16:
      backward_rows<16>(proj, out, attn, grad_out, grad_proj, dims, begin, end, scratch);
      break;
    case 32:
      backward_rows<32>(proj, out, attn, grad_out, grad_proj, dims, begin, end, scratch);
      break;
    default:
      backward_rows<0>(proj, out, attn, grad_out, grad_proj, dims, begin, end, scratch);
  }
}

constexpr KernelTable kernel_table() {
  return KernelTable{kLanes, &forward_any, &backward_any};
}

}  // namespace
}  // namespace autoint::nn::kernel
