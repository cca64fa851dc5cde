// Attention core of an interacting layer: the LibTorch reference path, and a fused CPU kernel
// whose hand-written backward replaces the many tiny batched matmuls of the plain graph.
#include "autoint/nn/attention.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <ATen/Parallel.h>

#include "attention_kernel.h"
#include "nn/attention_detail.h"

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
// Fused kernel: the loops are in attention_kernel_impl.h, built once per instruction set;
// this part picks a build, splits the batch across threads and hooks into autograd.

using detail::AttentionIsa;
using kernel::Dims;
using kernel::KernelTable;

#if defined(__x86_64__)
bool cpu_has_avx2_fma() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
#endif

bool avx2_supported() {
#if defined(__x86_64__)
  static const bool supported = cpu_has_avx2_fma();
  return supported;
#else
  return false;
#endif
}

void require_supported(AttentionIsa isa) {
  if (!detail::attention_isa_supported(isa)) {
    std::ostringstream os;
    os << "the fused attention kernel's " << detail::attention_isa_name(isa)
       << " build cannot run here (needs x86-64 with AVX2 and FMA)";
    throw std::invalid_argument(os.str());
  }
}

// The build named by AUTOINT_ATTENTION_ISA, else the widest one this CPU runs.
AttentionIsa initial_isa() {
  const char* env = std::getenv("AUTOINT_ATTENTION_ISA");
  const std::string choice = env != nullptr ? env : "";
  if (choice.empty() || choice == "auto") {
    return avx2_supported() ? AttentionIsa::avx2 : AttentionIsa::baseline;
  }
  for (AttentionIsa isa : {AttentionIsa::baseline, AttentionIsa::avx2}) {
    if (choice == detail::attention_isa_name(isa)) {
      require_supported(isa);
      return isa;
    }
  }
  throw std::invalid_argument("AUTOINT_ATTENTION_ISA must be auto, baseline or avx2, got '" +
                              choice + "'");
}

std::atomic<AttentionIsa>& isa_state() {
  static std::atomic<AttentionIsa> state{initial_isa()};
  return state;
}

const KernelTable& kernel_for(AttentionIsa isa) {
#if defined(__x86_64__)
  if (isa == AttentionIsa::avx2) {
    return kernel::kAvx2Kernel;
  }
#else
  static_cast<void>(isa);  // the baseline build is the only one
#endif
  return kernel::kBaselineKernel;
}

// Batch rows per task: enough work per task to amortise the scheduling, while a typical
// batch (thousands of rows) still splits evenly across all threads.
int64_t grain_rows(const Dims& dims) {
  const int64_t work_per_row =
      std::max<int64_t>(1, dims.heads * dims.fields * dims.padded * dims.head_dim);
  return std::max<int64_t>(1, (int64_t{1} << 15) / work_per_row);
}

Dims make_dims(const torch::Tensor& projected, int64_t num_heads, int64_t head_dim, double scale,
               const KernelTable& kernel) {
  const int64_t fields = projected.size(1);
  return Dims{projected.size(0),
              fields,
              num_heads,
              head_dim,
              (fields + kernel.lanes - 1) / kernel.lanes * kernel.lanes,
              static_cast<float>(scale)};
}

// `projected` is contiguous; `attn` is null or a [B, H, F, padded] float tensor.
torch::Tensor fused_forward(const torch::Tensor& projected, const Dims& dims,
                            const KernelTable& kernel, torch::Tensor* attn) {
  torch::Tensor out =
      torch::empty({dims.batch, dims.fields, dims.heads * dims.head_dim}, projected.options());
  const float* proj_ptr = projected.data_ptr<float>();
  float* out_ptr = out.data_ptr<float>();
  float* attn_ptr = attn != nullptr ? attn->data_ptr<float>() : nullptr;
  const auto scratch_size = static_cast<size_t>(
      dims.head_dim * dims.padded + (attn_ptr != nullptr ? 0 : dims.fields * dims.padded));
  at::parallel_for(0, dims.batch, grain_rows(dims), [&](int64_t begin, int64_t end) {
    std::vector<float> scratch(scratch_size, 0.0f);
    kernel.forward_rows(proj_ptr, out_ptr, attn_ptr, dims, begin, end, scratch.data());
  });
  return out;
}

torch::Tensor fused_backward(const torch::Tensor& projected, const torch::Tensor& out,
                             const torch::Tensor& attn, const torch::Tensor& grad_out,
                             const Dims& dims, const KernelTable& kernel) {
  torch::Tensor grad_proj = torch::empty(projected.sizes(), projected.options());
  const float* proj_ptr = projected.data_ptr<float>();
  const float* out_ptr = out.data_ptr<float>();
  const float* attn_ptr = attn.data_ptr<float>();
  const float* grad_out_ptr = grad_out.data_ptr<float>();
  float* grad_ptr = grad_proj.data_ptr<float>();
  const auto scratch_size = static_cast<size_t>(
      dims.head_dim * dims.padded + dims.fields * dims.head_dim + dims.fields * dims.padded);
  at::parallel_for(0, dims.batch, grain_rows(dims), [&](int64_t begin, int64_t end) {
    std::vector<float> scratch(scratch_size, 0.0f);
    kernel.backward_rows(proj_ptr, out_ptr, attn_ptr, grad_out_ptr, grad_ptr, dims, begin, end,
                         scratch.data());
  });
  return grad_proj;
}

// Saves projected, the output (its sign is the relu mask) and the attention probabilities:
// A, [B, H, F, padded], is padded / (4 D) the size of projected (a quarter for F = 13,
// D = 16), and reading it back is cheaper than recomputing Q K^T and the exponentials.
// The backward runs the build of the forward, whose padding A has. It is not itself
// differentiable.
class AttentionFunction : public torch::autograd::Function<AttentionFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx,
                               const torch::Tensor& projected, int64_t num_heads, int64_t head_dim,
                               double scale) {
    const torch::Tensor input = projected.contiguous();
    const AttentionIsa isa = detail::attention_isa();
    const Dims dims = make_dims(input, num_heads, head_dim, scale, kernel_for(isa));
    // Every element, the zero padding included, is written by the forward.
    torch::Tensor attn =
        torch::empty({dims.batch, dims.heads, dims.fields, dims.padded}, input.options());
    torch::Tensor out = fused_forward(input, dims, kernel_for(isa), &attn);
    ctx->save_for_backward({input, out, attn});
    ctx->saved_data["num_heads"] = num_heads;
    ctx->saved_data["head_dim"] = head_dim;
    ctx->saved_data["scale"] = scale;
    ctx->saved_data["isa"] = static_cast<int64_t>(isa);
    return out;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_outputs) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor& input = saved[0];
    const KernelTable& kernel =
        kernel_for(static_cast<AttentionIsa>(ctx->saved_data["isa"].toInt()));
    const Dims dims =
        make_dims(input, ctx->saved_data["num_heads"].toInt(), ctx->saved_data["head_dim"].toInt(),
                  ctx->saved_data["scale"].toDouble(), kernel);
    const torch::Tensor grad_out = grad_outputs[0].contiguous();
    torch::Tensor grad_proj = fused_backward(input, saved[1], saved[2], grad_out, dims, kernel);
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
  const KernelTable& kernel = kernel_for(detail::attention_isa());
  return fused_forward(input, make_dims(input, num_heads, head_dim, scale, kernel), kernel,
                       nullptr);
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

namespace detail {

const char* attention_isa_name(AttentionIsa isa) {
  return isa == AttentionIsa::avx2 ? "avx2" : "baseline";
}

bool attention_isa_supported(AttentionIsa isa) {
  return isa == AttentionIsa::baseline || avx2_supported();
}

AttentionIsa attention_isa() {
  return isa_state().load();
}

void set_attention_isa(AttentionIsa isa) {
  require_supported(isa);
  isa_state().store(isa);
}

}  // namespace detail

}  // namespace autoint::nn
