// Tests of the attention core: a hand-computed case, and the fused CPU kernel (forward and
// backward) against the plain LibTorch path.
#include "autoint_catch.h"

#include <ATen/Parallel.h>

#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "autoint/nn/attention.h"
#include "nn/attention_detail.h"

namespace {

using autoint::nn::attention_core;
using autoint::nn::attention_core_plain;
using autoint::nn::AttentionKernel;
using autoint::nn::detail::AttentionIsa;

struct Shape {
  int64_t batch;
  int64_t fields;
  int64_t heads;
  int64_t head_dim;
  double scale;
};

// D = 8, 16, 32 take the specialised loops, 12 and 5 the generic one; F = 1, 7, 13, 16, 40
// cover a single field, padding to the lane width and no padding.
const std::vector<Shape> kShapes = {
    {64, 13, 2, 16, 1.0}, {32, 7, 1, 8, 1.0}, {16, 1, 3, 16, 0.25}, {8, 40, 2, 32, 0.1767767},
    {9, 13, 3, 12, 1.0},  {5, 16, 2, 5, 0.5}, {33, 13, 2, 8, 2.0},
};

// Moderate scale: scores of a few units, so softmax is neither flat nor one-hot.
torch::Tensor random_projected(const Shape& s, uint64_t seed) {
  torch::manual_seed(seed);
  return torch::randn({s.batch, s.fields, 4 * s.heads * s.head_dim}) * 0.5;
}

float max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).abs().max().item<float>();
}

torch::Tensor grad_of(const torch::Tensor& projected, const torch::Tensor& upstream, const Shape& s,
                      AttentionKernel kernel) {
  torch::Tensor input = projected.detach().clone().requires_grad_(true);
  torch::Tensor out = attention_core(input, s.heads, s.head_dim, s.scale, kernel);
  out.backward(upstream);
  return input.grad();
}

// F = 2 fields, H = 1 head, D = 1; each row of projected is (q, k, v, res):
//   row 0: q = 1, k = 0,     v = 4, res = -10
//   row 1: q = 0, k = ln(3), v = 8, res = 1
// Scores q_i * k_j: row 0 (0, ln 3) -> softmax (1/4, 3/4); row 1 (0, 0) -> (1/2, 1/2).
// Mixed values: row 0: 4/4 + 8*3/4 = 7, row 1: (4 + 8)/2 = 6.
// Output: relu(7 - 10) = 0, relu(6 + 1) = 7.
// Gradient of sum(out): row 0 is clipped, so only row 1 sends gradient back:
//   dRes_1 = 1; dV_j = A_1j = 1/2; dA_1j = v_j = (4, 8);
//   dS_1j = A_1j (dA_1j - sum_j A_1j dA_1j) = 1/2 * (4 - 6, 8 - 6) = (-1, 1);
//   dQ_1 = sum_j dS_1j k_j = ln 3; dK_j = dS_1j q_1 = 0; dQ_0 = 0.
TEST_CASE("attention core matches a hand-computed two-field case", "[nn][attention]") {
  const float ln3 = std::log(3.0f);
  const torch::Tensor projected =
      torch::tensor({1.0f, 0.0f, 4.0f, -10.0f, 0.0f, ln3, 8.0f, 1.0f}).reshape({1, 2, 4});
  const torch::Tensor expected_out = torch::tensor({0.0f, 7.0f}).reshape({1, 2, 1});
  const torch::Tensor expected_grad =
      torch::tensor({0.0f, 0.0f, 0.5f, 0.0f, ln3, 0.0f, 0.5f, 1.0f}).reshape({1, 2, 4});

  for (AttentionKernel kernel : {AttentionKernel::plain, AttentionKernel::fused}) {
    CAPTURE(static_cast<int>(kernel));
    torch::Tensor input = projected.clone().requires_grad_(true);
    torch::Tensor out = attention_core(input, 1, 1, 1.0, kernel);
    CHECK(max_abs_diff(out, expected_out) < 1e-6f);
    out.sum().backward();
    CHECK(max_abs_diff(input.grad(), expected_grad) < 1e-6f);
  }
}

TEST_CASE("fused forward matches the plain path", "[nn][attention]") {
  uint64_t seed = 1;
  for (const Shape& s : kShapes) {
    CAPTURE(s.batch, s.fields, s.heads, s.head_dim, s.scale);
    const torch::Tensor projected = random_projected(s, seed++);
    const torch::Tensor plain =
        attention_core(projected, s.heads, s.head_dim, s.scale, AttentionKernel::plain);
    const torch::Tensor fused =
        attention_core(projected, s.heads, s.head_dim, s.scale, AttentionKernel::fused);
    REQUIRE(fused.sizes() == plain.sizes());
    CHECK(fused.is_contiguous());
    CHECK(max_abs_diff(fused, plain) < 1e-5f);
  }
}

TEST_CASE("fused gradient matches the plain path", "[nn][attention]") {
  uint64_t seed = 100;
  for (const Shape& s : kShapes) {
    CAPTURE(s.batch, s.fields, s.heads, s.head_dim, s.scale);
    const torch::Tensor projected = random_projected(s, seed++);
    const torch::Tensor upstream = torch::randn({s.batch, s.fields, s.heads * s.head_dim});
    const torch::Tensor plain = grad_of(projected, upstream, s, AttentionKernel::plain);
    const torch::Tensor fused = grad_of(projected, upstream, s, AttentionKernel::fused);
    REQUIRE(fused.sizes() == plain.sizes());
    CHECK(max_abs_diff(fused, plain) <= 1e-4f * plain.abs().max().item<float>());
  }
}

TEST_CASE("fused kernel matches plain when softmax is nearly one-hot", "[nn][attention]") {
  // Scores spread over hundreds: many exponents fall below the kernel's underflow clamp.
  const Shape s{16, 13, 2, 16, 1.0};
  torch::manual_seed(51);
  const torch::Tensor projected = torch::randn({s.batch, s.fields, 4 * s.heads * s.head_dim}) * 4;
  const torch::Tensor upstream = torch::randn({s.batch, s.fields, s.heads * s.head_dim});
  const torch::Tensor plain =
      attention_core(projected, s.heads, s.head_dim, s.scale, AttentionKernel::plain);
  const torch::Tensor fused =
      attention_core(projected, s.heads, s.head_dim, s.scale, AttentionKernel::fused);
  // Scores of a few hundred carry rounding of ~1e-5 in either kernel, hence the looser bound.
  CHECK(max_abs_diff(fused, plain) <= 1e-5f * (1.0f + plain.abs().max().item<float>()));
  const torch::Tensor grad_plain = grad_of(projected, upstream, s, AttentionKernel::plain);
  const torch::Tensor grad_fused = grad_of(projected, upstream, s, AttentionKernel::fused);
  CHECK(max_abs_diff(grad_fused, grad_plain) <= 1e-4f * grad_plain.abs().max().item<float>());
}

TEST_CASE("fused kernel propagates NaN like the plain path", "[nn][attention]") {
  const Shape s{4, 7, 2, 8, 1.0};
  torch::Tensor projected = random_projected(s, 61);
  projected.index_put_({1, 2, 0}, std::nanf(""));   // a query of head 0: one output row
  projected.index_put_({2, 5, 16}, std::nanf(""));  // a key of head 0: every row of that head
  const torch::Tensor plain =
      attention_core(projected, s.heads, s.head_dim, s.scale, AttentionKernel::plain);
  const torch::Tensor fused =
      attention_core(projected, s.heads, s.head_dim, s.scale, AttentionKernel::fused);
  CHECK(plain.isnan().sum().item<int64_t>() == 8 + 7 * 8);
  CHECK(torch::equal(fused.isnan(), plain.isnan()));
}

TEST_CASE("fused kernel accepts non-contiguous input", "[nn][attention]") {
  const Shape s{12, 13, 2, 16, 1.0};
  torch::manual_seed(7);
  // A transposed view: the field stride is 1, the feature stride is F.
  const torch::Tensor base = torch::randn({s.batch, 4 * s.heads * s.head_dim, s.fields}) * 0.5;
  const torch::Tensor projected = base.transpose(1, 2);
  REQUIRE_FALSE(projected.is_contiguous());
  const torch::Tensor upstream = torch::randn({s.batch, s.fields, s.heads * s.head_dim});

  const torch::Tensor contiguous = projected.contiguous();
  const torch::Tensor plain =
      attention_core(contiguous, s.heads, s.head_dim, s.scale, AttentionKernel::plain);
  const torch::Tensor fused =
      attention_core(projected, s.heads, s.head_dim, s.scale, AttentionKernel::fused);
  CHECK(max_abs_diff(fused, plain) < 1e-5f);

  const torch::Tensor grad_plain = grad_of(contiguous, upstream, s, AttentionKernel::plain);
  const torch::Tensor grad_fused = grad_of(projected, upstream, s, AttentionKernel::fused);
  CHECK(max_abs_diff(grad_fused, grad_plain) <= 1e-4f * grad_plain.abs().max().item<float>());
}

TEST_CASE("inference output equals the grad-enabled output", "[nn][attention]") {
  const Shape s{40, 13, 2, 16, 1.0};
  const torch::Tensor projected = random_projected(s, 11).requires_grad_(true);
  for (AttentionKernel kernel :
       {AttentionKernel::fused, AttentionKernel::automatic, AttentionKernel::plain}) {
    CAPTURE(static_cast<int>(kernel));
    const torch::Tensor with_grad = attention_core(projected, s.heads, s.head_dim, s.scale, kernel);
    CHECK(with_grad.requires_grad());
    torch::Tensor without_grad;
    {
      torch::NoGradGuard no_grad;
      without_grad = attention_core(projected, s.heads, s.head_dim, s.scale, kernel);
    }
    CHECK_FALSE(without_grad.requires_grad());
    CHECK(torch::equal(with_grad.detach(), without_grad));
  }
  // Automatic picks the fused kernel for CPU float32: bit-identical results.
  const torch::Tensor fused =
      attention_core(projected, s.heads, s.head_dim, s.scale, AttentionKernel::fused);
  const torch::Tensor automatic =
      attention_core(projected, s.heads, s.head_dim, s.scale, AttentionKernel::automatic);
  CHECK(torch::equal(fused, automatic));
}

TEST_CASE("fused results do not depend on the thread count", "[nn][attention]") {
  const Shape s{256, 13, 2, 16, 1.0};
  const torch::Tensor projected = random_projected(s, 21);
  const torch::Tensor upstream = torch::randn({s.batch, s.fields, s.heads * s.head_dim});
  const int threads = at::get_num_threads();
  at::set_num_threads(1);
  const torch::Tensor out_one =
      attention_core(projected, s.heads, s.head_dim, s.scale, AttentionKernel::fused);
  const torch::Tensor grad_one = grad_of(projected, upstream, s, AttentionKernel::fused);
  at::set_num_threads(2);
  const torch::Tensor out_two =
      attention_core(projected, s.heads, s.head_dim, s.scale, AttentionKernel::fused);
  const torch::Tensor grad_two = grad_of(projected, upstream, s, AttentionKernel::fused);
  at::set_num_threads(threads);
  CHECK(torch::equal(out_one, out_two));
  CHECK(torch::equal(grad_one, grad_two));
}

// Selects a build of the fused kernel for one scope.
class IsaGuard {
 public:
  explicit IsaGuard(AttentionIsa isa) : saved_(autoint::nn::detail::attention_isa()) {
    autoint::nn::detail::set_attention_isa(isa);
  }
  ~IsaGuard() { autoint::nn::detail::set_attention_isa(saved_); }
  IsaGuard(const IsaGuard&) = delete;
  IsaGuard& operator=(const IsaGuard&) = delete;

 private:
  AttentionIsa saved_;
};

std::vector<AttentionIsa> supported_isas() {
  std::vector<AttentionIsa> isas;
  for (AttentionIsa isa : {AttentionIsa::baseline, AttentionIsa::avx2}) {
    if (autoint::nn::detail::attention_isa_supported(isa)) {
      isas.push_back(isa);
    }
  }
  return isas;
}

TEST_CASE("every build of the fused kernel matches the plain path and the others",
          "[nn][attention]") {
  if (!autoint::nn::detail::attention_isa_supported(AttentionIsa::avx2)) {
    WARN("this CPU or build has no AVX2+FMA kernel: only the baseline build is tested");
  }
  CHECK(autoint::nn::detail::attention_isa_supported(AttentionIsa::baseline));
  // Field counts around the lane widths (8 for 128-bit vectors, 16 for 256-bit ones) and
  // head dims that are not multiples of either vector width.
  std::vector<Shape> shapes = kShapes;
  shapes.insert(shapes.end(), {{7, 9, 2, 16, 1.0},
                               {6, 15, 1, 8, 0.5},
                               {5, 17, 2, 32, 0.2},
                               {4, 13, 2, 20, 1.0},
                               {3, 25, 3, 4, 1.0},
                               {5, 3, 2, 24, 0.7}});
  uint64_t seed = 300;
  for (const Shape& s : shapes) {
    CAPTURE(s.batch, s.fields, s.heads, s.head_dim, s.scale);
    const torch::Tensor projected = random_projected(s, seed++);
    const torch::Tensor upstream = torch::randn({s.batch, s.fields, s.heads * s.head_dim});
    const torch::Tensor plain_out =
        attention_core(projected, s.heads, s.head_dim, s.scale, AttentionKernel::plain);
    const torch::Tensor plain_grad = grad_of(projected, upstream, s, AttentionKernel::plain);
    const float grad_tolerance = 1e-4f * plain_grad.abs().max().item<float>();
    std::vector<torch::Tensor> outs;
    std::vector<torch::Tensor> grads;
    for (AttentionIsa isa : supported_isas()) {
      CAPTURE(autoint::nn::detail::attention_isa_name(isa));
      const IsaGuard guard(isa);
      CHECK(autoint::nn::detail::attention_isa() == isa);
      outs.push_back(
          attention_core(projected, s.heads, s.head_dim, s.scale, AttentionKernel::fused));
      grads.push_back(grad_of(projected, upstream, s, AttentionKernel::fused));
      CHECK(max_abs_diff(outs.back(), plain_out) < 1e-5f);
      CHECK(max_abs_diff(grads.back(), plain_grad) <= grad_tolerance);
      // Same build, same input: bit-identical, with or without autograd.
      torch::NoGradGuard no_grad;
      CHECK(torch::equal(
          attention_core(projected, s.heads, s.head_dim, s.scale, AttentionKernel::fused),
          outs.back()));
    }
    for (size_t i = 1; i < outs.size(); ++i) {
      CHECK(max_abs_diff(outs[i], outs[0]) < 1e-5f);
      CHECK(max_abs_diff(grads[i], grads[0]) <= grad_tolerance);
    }
  }
}

TEST_CASE("the backward pass runs the build of its forward pass", "[nn][attention]") {
  // F = 7 pads to 8 lanes in the baseline build and to 16 in the AVX2 build: a backward on
  // the other build would misread the saved attention probabilities.
  const Shape s{6, 7, 2, 16, 1.0};
  const torch::Tensor projected = random_projected(s, 71);
  const torch::Tensor upstream = torch::randn({s.batch, s.fields, s.heads * s.head_dim});
  const torch::Tensor plain = grad_of(projected, upstream, s, AttentionKernel::plain);
  for (AttentionIsa forward_isa : supported_isas()) {
    for (AttentionIsa backward_isa : supported_isas()) {
      CAPTURE(autoint::nn::detail::attention_isa_name(forward_isa),
              autoint::nn::detail::attention_isa_name(backward_isa));
      torch::Tensor input = projected.clone().requires_grad_(true);
      torch::Tensor out;
      {
        const IsaGuard guard(forward_isa);
        out = attention_core(input, s.heads, s.head_dim, s.scale, AttentionKernel::fused);
      }
      const IsaGuard guard(backward_isa);
      out.backward(upstream);
      CHECK(max_abs_diff(input.grad(), plain) <= 1e-4f * plain.abs().max().item<float>());
    }
  }
}

TEST_CASE("selecting an unsupported build of the fused kernel throws", "[nn][attention]") {
  const AttentionIsa before = autoint::nn::detail::attention_isa();
  CHECK(autoint::nn::detail::attention_isa_supported(before));
  if (!autoint::nn::detail::attention_isa_supported(AttentionIsa::avx2)) {
    CHECK_THROWS_AS(autoint::nn::detail::set_attention_isa(AttentionIsa::avx2),
                    std::invalid_argument);
    CHECK(autoint::nn::detail::attention_isa() == before);
  }
  CHECK(std::string(autoint::nn::detail::attention_isa_name(AttentionIsa::avx2)) == "avx2");
  CHECK(std::string(autoint::nn::detail::attention_isa_name(AttentionIsa::baseline)) == "baseline");
}

TEST_CASE("automatic kernel falls back to plain for double", "[nn][attention]") {
  const Shape s{6, 7, 2, 8, 0.5};
  const torch::Tensor projected = random_projected(s, 31).to(torch::kDouble);
  const torch::Tensor automatic =
      attention_core(projected, s.heads, s.head_dim, s.scale, AttentionKernel::automatic);
  const torch::Tensor plain =
      attention_core(projected, s.heads, s.head_dim, s.scale, AttentionKernel::plain);
  CHECK(automatic.scalar_type() == torch::kDouble);
  CHECK(torch::equal(automatic, plain));
}

TEST_CASE("empty batches pass through both kernels", "[nn][attention]") {
  for (AttentionKernel kernel : {AttentionKernel::plain, AttentionKernel::fused}) {
    const torch::Tensor projected = torch::zeros({0, 13, 128}).requires_grad_(true);
    const torch::Tensor out = attention_core(projected, 2, 16, 1.0, kernel);
    CHECK(out.sizes() == torch::IntArrayRef({0, 13, 32}));
    out.sum().backward();
    CHECK(projected.grad().sizes() == projected.sizes());
  }
}

TEST_CASE("attention dropout acts only in training", "[nn][attention]") {
  const Shape s{16, 13, 2, 16, 1.0};
  const torch::Tensor projected = random_projected(s, 41);
  const torch::Tensor reference =
      attention_core(projected, s.heads, s.head_dim, s.scale, AttentionKernel::plain);
  CHECK(torch::equal(attention_core_plain(projected, s.heads, s.head_dim, s.scale, 0.5, false),
                     reference));
  CHECK(torch::equal(attention_core_plain(projected, s.heads, s.head_dim, s.scale, 0.0, true),
                     reference));
  torch::manual_seed(3);
  const torch::Tensor dropped =
      attention_core_plain(projected, s.heads, s.head_dim, s.scale, 0.5, true);
  CHECK(max_abs_diff(dropped, reference) > 1e-3f);

  torch::Tensor input = projected.clone().requires_grad_(true);
  attention_core_plain(input, s.heads, s.head_dim, s.scale, 0.5, true).sum().backward();
  CHECK(input.grad().defined());
}

// The message of the std::invalid_argument that `call` throws; empty if it throws nothing
// (other exception types propagate and fail the test).
template <typename Call>
std::string invalid_argument_message(Call call) {
  try {
    call();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

TEST_CASE("attention core rejects invalid arguments", "[nn][attention]") {
  using Catch::Matchers::Contains;
  const torch::Tensor good = torch::zeros({2, 3, 4 * 2 * 8});
  for (AttentionKernel kernel :
       {AttentionKernel::plain, AttentionKernel::fused, AttentionKernel::automatic}) {
    CAPTURE(static_cast<int>(kernel));
    CHECK_THAT(invalid_argument_message([&] {
                 attention_core(torch::zeros({3, 64}), 2, 8, 1.0, kernel);
               }),
               Contains("[3, 64]"));
    CHECK_THAT(invalid_argument_message([&] { attention_core(good, 2, 4, 1.0, kernel); }),
               Contains("64") && Contains("32"));
    CHECK_THAT(invalid_argument_message([&] { attention_core(good, 0, 8, 1.0, kernel); }),
               Contains("num_heads = 0"));
    CHECK_THAT(invalid_argument_message([&] { attention_core(good, 2, 0, 1.0, kernel); }),
               Contains("head_dim = 0"));
  }
  CHECK_THAT(invalid_argument_message([&] {
               attention_core(good.to(torch::kDouble), 2, 8, 1.0, AttentionKernel::fused);
             }),
             Contains("Double"));
  // A meta tensor stands in for CUDA: any non-CPU device must be refused by the fused kernel.
  CHECK_THAT(invalid_argument_message([&] {
               attention_core(torch::empty({2, 3, 64}, torch::Device(torch::kMeta)), 2, 8, 1.0,
                              AttentionKernel::fused);
             }),
             Contains("meta"));
  CHECK_THROWS_AS(attention_core_plain(good, 3, 8, 1.0, 0.0, false), std::invalid_argument);
  CHECK_THAT(invalid_argument_message([&] { attention_core_plain(good, 2, 8, 1.0, 1.5, true); }),
             Contains("1.5"));
}

}  // namespace
