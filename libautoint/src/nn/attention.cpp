// Attention core of an interacting layer: the LibTorch reference path, and a fused CPU kernel
// whose hand-written backward replaces the many tiny batched matmuls of the plain graph.
#include "autoint/nn/attention.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace autoint::nn {
namespace {

std::string shape_string(const torch::Tensor& t) {
  std::ostringstream os;
  os << t.sizes();
  return os.str();
}

void check_arguments(const char* caller, const torch::Tensor& projected, int64_t num_heads,
                     int64_t head_dim) {
  std::ostringstream os;
  if (!projected.defined()) {
    os << caller << ": projected is an undefined tensor";
    throw std::invalid_argument(os.str());
  }
  if (num_heads < 1 || head_dim < 1) {
    os << caller << ": num_heads and head_dim must be >= 1, got num_heads = " << num_heads
       << ", head_dim = " << head_dim;
    throw std::invalid_argument(os.str());
  }
  if (projected.dim() != 3) {
    os << caller << ": projected must be 3-D [B, F, 4*H*D], got shape " << shape_string(projected);
    throw std::invalid_argument(os.str());
  }
  if (projected.size(2) != 4 * num_heads * head_dim) {
    os << caller << ": projected has last dimension " << projected.size(2)
       << ", expected 4 * num_heads * head_dim = 4 * " << num_heads << " * " << head_dim << " = "
       << 4 * num_heads * head_dim << " (shape " << shape_string(projected) << ")";
    throw std::invalid_argument(os.str());
  }
}

bool fused_supported(const torch::Tensor& projected) {
  return projected.device().is_cpu() && projected.scalar_type() == torch::kFloat &&
         projected.layout() == torch::kStrided;
}

void check_fused(const torch::Tensor& projected) {
  if (!fused_supported(projected)) {
    std::ostringstream os;
    os << "attention_core: the fused kernel needs a strided CPU float32 tensor, got device "
       << projected.device() << ", dtype " << projected.scalar_type() << ", layout "
       << projected.layout();
    throw std::invalid_argument(os.str());
  }
}

// ---------------------------------------------------------------------------------------------
// Plain path.

torch::Tensor plain_impl(const torch::Tensor& projected, int64_t num_heads, int64_t head_dim,
                         double scale, double attention_dropout, bool training) {
  const int64_t batch = projected.size(0);
  const int64_t fields = projected.size(1);
  const int64_t width = num_heads * head_dim;
  auto blocks = projected.split(width, /*dim=*/-1);
  auto heads = [&](const torch::Tensor& block) {
    return block.reshape({batch, fields, num_heads, head_dim}).transpose(1, 2);
  };
  torch::Tensor q = heads(blocks[0]);
  torch::Tensor k = heads(blocks[1]);
  torch::Tensor v = heads(blocks[2]);
  torch::Tensor scores = q.matmul(k.transpose(-2, -1));
  if (scale != 1.0) {
    scores = scores * scale;
  }
  torch::Tensor weights = torch::softmax(scores, /*dim=*/-1);
  if (attention_dropout > 0.0) {
    weights = torch::dropout(weights, attention_dropout, training);
  }
  torch::Tensor mixed = weights.matmul(v).transpose(1, 2).reshape({batch, fields, width});
  return torch::relu(mixed + blocks[3]);
}

// ---------------------------------------------------------------------------------------------
// Fused kernel. The inner loops use GCC/Clang vector extensions (SSE on x86-64, NEON on ARM)
// rather than relying on auto-vectorisation: with the default -ftrapping-math GCC will not
// vectorise the compares of the clamp and the relu, and at -O3 it fully unrolls the fixed-D
// loops into scalar code before its vectoriser runs.

#if !defined(__GNUC__)
#error "the fused attention kernel needs the GCC/Clang vector extensions"
#endif

typedef float Vec __attribute__((vector_size(16)));
typedef int32_t Mask __attribute__((vector_size(16)));  // the type of a Vec comparison
typedef uint32_t Bits __attribute__((vector_size(16)));
constexpr int64_t kWidth = 4;  // floats per Vec

// Field-indexed rows are padded to a multiple of this so the score kernels work in whole Vecs.
constexpr int64_t kLanes = 2 * kWidth;

int64_t pad_to_lanes(int64_t n) {
  return (n + kLanes - 1) / kLanes * kLanes;
}

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
  return Vec{x, x, x, x};
}
inline Vec select(Mask mask, Vec if_set, Vec otherwise) {
  const Mask a = bit_cast<Mask>(if_set);
  const Mask b = bit_cast<Mask>(otherwise);
  return bit_cast<Vec>((a & mask) | (b & ~mask));
}
inline float horizontal_sum(Vec v) {
  return (v[0] + v[1]) + (v[2] + v[3]);
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

struct Dims {
  int64_t batch;
  int64_t fields;
  int64_t heads;
  int64_t head_dim;
  int64_t padded;  // fields rounded up to kLanes
  float scale;
};

// out[i][j] = sum_d lhs[i][d] * rhs_t[d][j] for i < n_rows, j < padded (a multiple of kLanes).
// Four rows by eight columns at a time: eight independent accumulators hide the add latency.
template <int64_t kD>
void rows_times_transposed(const float* lhs, int64_t lhs_stride, int64_t n_rows, const float* rhs_t,
                           int64_t padded, float* out, int64_t out_stride, int64_t head_dim) {
  constexpr int64_t kRows = 4;
  const int64_t D = kD > 0 ? kD : head_dim;
  for (int64_t i0 = 0; i0 < n_rows; i0 += kRows) {
    // Rows past the end repeat the last row; their results are not stored.
    const float* row[kRows];
    for (int64_t r = 0; r < kRows; ++r) {
      row[r] = lhs + std::min(i0 + r, n_rows - 1) * lhs_stride;
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
        w_r[r] = w + std::min(i0 + r, n_out - 1) * w_row;
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
  for (int64_t i = 0; i < fields; ++i) {
    float* s = scores + i * padded;
    float row_max = s[0];
    for (int64_t j = 1; j < fields; ++j) {
      row_max = s[j] > row_max ? s[j] : row_max;
    }
    for (int64_t j = 0; j < padded; j += kWidth) {
      store(s + j, exp_nonpositive(load(s + j) - splat(row_max)));
    }
    for (int64_t j = fields; j < padded; ++j) {
      s[j] = 0.0f;
    }
    Vec total = splat(0.0f);
    for (int64_t j = 0; j < padded; j += kWidth) {
      total += load(s + j);
    }
    const Vec inv_total = splat(1.0f / horizontal_sum(total));
    for (int64_t j = 0; j < padded; j += kWidth) {
      store(s + j, load(s + j) * inv_total);
    }
  }
}

// Forward for batch rows [begin, end). `attn` ([B, H, F, padded]) receives the attention
// probabilities, padding zeroed, when backward will need them; otherwise it is null.
template <int64_t kD>
void forward_rows(const float* proj, float* out, float* attn, const Dims& dims, int64_t begin,
                  int64_t end) {
  const int64_t D = kD > 0 ? kD : dims.head_dim;
  const int64_t F = dims.fields;
  const int64_t H = dims.heads;
  const int64_t P = dims.padded;
  const int64_t HD = H * D;
  const int64_t R = 4 * HD;  // row stride of projected

  std::vector<float> scratch(static_cast<size_t>(D * P + (attn != nullptr ? 0 : F * P)), 0.0f);
  float* keys_t = scratch.data();  // scale * K^T, [D][P]
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

// Backward for batch rows [begin, end); writes every element of those rows of `grad_proj`.
template <int64_t kD>
void backward_rows(const float* proj, const float* out, const float* attn, const float* grad_out,
                   float* grad_proj, const Dims& dims, int64_t begin, int64_t end) {
  const int64_t D = kD > 0 ? kD : dims.head_dim;
  const int64_t F = dims.fields;
  const int64_t H = dims.heads;
  const int64_t P = dims.padded;
  const int64_t HD = H * D;
  const int64_t R = 4 * HD;
  const Vec scale = splat(dims.scale);

  std::vector<float> scratch(static_cast<size_t>(D * P + F * D + F * P), 0.0f);
  float* values_t = scratch.data();       // V^T, [D][P]
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

// Batch rows per task: enough work per task to amortise the scheduling, while a typical
// batch (thousands of rows) still splits evenly across all threads.
int64_t grain_rows(const Dims& dims) {
  const int64_t work_per_row =
      std::max<int64_t>(1, dims.heads * dims.fields * dims.padded * dims.head_dim);
  return std::max<int64_t>(1, (int64_t{1} << 15) / work_per_row);
}

Dims make_dims(const torch::Tensor& projected, int64_t num_heads, int64_t head_dim, double scale) {
  return Dims{projected.size(0),
              projected.size(1),
              num_heads,
              head_dim,
              pad_to_lanes(projected.size(1)),
              static_cast<float>(scale)};
}

// `projected` is contiguous; `attn` is null or a [B, H, F, padded] float tensor.
torch::Tensor fused_forward(const torch::Tensor& projected, const Dims& dims, torch::Tensor* attn) {
  torch::Tensor out =
      torch::empty({dims.batch, dims.fields, dims.heads * dims.head_dim}, projected.options());
  const float* proj_ptr = projected.data_ptr<float>();
  float* out_ptr = out.data_ptr<float>();
  float* attn_ptr = attn != nullptr ? attn->data_ptr<float>() : nullptr;
  at::parallel_for(0, dims.batch, grain_rows(dims), [&](int64_t begin, int64_t end) {
    switch (dims.head_dim) {
      case 8:
        forward_rows<8>(proj_ptr, out_ptr, attn_ptr, dims, begin, end);
        break;
      case 16:
        forward_rows<16>(proj_ptr, out_ptr, attn_ptr, dims, begin, end);
        break;
      case 32:
        forward_rows<32>(proj_ptr, out_ptr, attn_ptr, dims, begin, end);
        break;
      default:
        forward_rows<0>(proj_ptr, out_ptr, attn_ptr, dims, begin, end);
    }
  });
  return out;
}

torch::Tensor fused_backward(const torch::Tensor& projected, const torch::Tensor& out,
                             const torch::Tensor& attn, const torch::Tensor& grad_out,
                             const Dims& dims) {
  torch::Tensor grad_proj = torch::empty(projected.sizes(), projected.options());
  const float* proj_ptr = projected.data_ptr<float>();
  const float* out_ptr = out.data_ptr<float>();
  const float* attn_ptr = attn.data_ptr<float>();
  const float* grad_out_ptr = grad_out.data_ptr<float>();
  float* grad_ptr = grad_proj.data_ptr<float>();
  at::parallel_for(0, dims.batch, grain_rows(dims), [&](int64_t begin, int64_t end) {
    switch (dims.head_dim) {
      case 8:
        backward_rows<8>(proj_ptr, out_ptr, attn_ptr, grad_out_ptr, grad_ptr, dims, begin, end);
        break;
      case 16:
        backward_rows<16>(proj_ptr, out_ptr, attn_ptr, grad_out_ptr, grad_ptr, dims, begin, end);
        break;
      case 32:
        backward_rows<32>(proj_ptr, out_ptr, attn_ptr, grad_out_ptr, grad_ptr, dims, begin, end);
        break;
      default:
        backward_rows<0>(proj_ptr, out_ptr, attn_ptr, grad_out_ptr, grad_ptr, dims, begin, end);
    }
  });
  return grad_proj;
}

// Saves projected, the output (its sign is the relu mask) and the attention probabilities:
// A, [B, H, F, padded], is padded / (4 D) the size of projected (a quarter for F = 13,
// D = 16), and reading it back is cheaper than recomputing Q K^T and the exponentials.
// The backward is not itself differentiable.
class AttentionFunction : public torch::autograd::Function<AttentionFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx,
                               const torch::Tensor& projected, int64_t num_heads, int64_t head_dim,
                               double scale) {
    const torch::Tensor input = projected.contiguous();
    const Dims dims = make_dims(input, num_heads, head_dim, scale);
    // Every element, the zero padding included, is written by the forward.
    torch::Tensor attn =
        torch::empty({dims.batch, dims.heads, dims.fields, dims.padded}, input.options());
    torch::Tensor out = fused_forward(input, dims, &attn);
    ctx->save_for_backward({input, out, attn});
    ctx->saved_data["num_heads"] = num_heads;
    ctx->saved_data["head_dim"] = head_dim;
    ctx->saved_data["scale"] = scale;
    return out;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_outputs) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor& input = saved[0];
    const Dims dims =
        make_dims(input, ctx->saved_data["num_heads"].toInt(), ctx->saved_data["head_dim"].toInt(),
                  ctx->saved_data["scale"].toDouble());
    const torch::Tensor grad_out = grad_outputs[0].contiguous();
    torch::Tensor grad_proj = fused_backward(input, saved[1], saved[2], grad_out, dims);
    return {grad_proj, torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

torch::Tensor fused_impl(const torch::Tensor& projected, int64_t num_heads, int64_t head_dim,
                         double scale) {
  check_fused(projected);
  if (torch::GradMode::is_enabled() && projected.requires_grad()) {
    return AttentionFunction::apply(projected, num_heads, head_dim, scale);
  }
  // Nothing will call backward: skip the autograd node and the [B, H, F, F] probabilities.
  const torch::Tensor input = projected.contiguous();
  return fused_forward(input, make_dims(input, num_heads, head_dim, scale), nullptr);
}

}  // namespace

torch::Tensor attention_core(const torch::Tensor& projected, int64_t num_heads, int64_t head_dim,
                             double scale, AttentionKernel kernel) {
  check_arguments("attention_core", projected, num_heads, head_dim);
  switch (kernel) {
    case AttentionKernel::plain:
      return plain_impl(projected, num_heads, head_dim, scale, 0.0, false);
    case AttentionKernel::fused:
      return fused_impl(projected, num_heads, head_dim, scale);
    case AttentionKernel::automatic:
      break;
  }
  if (fused_supported(projected)) {
    return fused_impl(projected, num_heads, head_dim, scale);
  }
  return plain_impl(projected, num_heads, head_dim, scale, 0.0, false);
}

torch::Tensor attention_core_plain(const torch::Tensor& projected, int64_t num_heads,
                                   int64_t head_dim, double scale, double attention_dropout,
                                   bool training) {
  check_arguments("attention_core_plain", projected, num_heads, head_dim);
  if (!(attention_dropout >= 0.0 && attention_dropout <= 1.0)) {
    std::ostringstream os;
    os << "attention_core_plain: attention_dropout must be in [0, 1], got " << attention_dropout;
    throw std::invalid_argument(os.str());
  }
  return plain_impl(projected, num_heads, head_dim, scale, attention_dropout, training);
}

}  // namespace autoint::nn
