// The embedding, interacting layer and AutoInt/AutoInt+ modules.
#include "autoint_catch.h"

#include <cmath>

#include "autoint/nn/autoint.h"

using namespace autoint::nn;

namespace {

const std::vector<int64_t> kCards{6041, 3, 8, 22, 3440, 3707, 19, 20, 20, 82, 10, 5, 13};

torch::Tensor random_ids(const std::vector<int64_t>& cards, int64_t batch) {
  std::vector<torch::Tensor> cols;
  for (int64_t c : cards)
    cols.push_back(torch::randint(0, c, {batch, 1}, torch::kInt64));
  return torch::cat(cols, 1);
}

int64_t count(torch::nn::Module& m) {
  int64_t n = 0;
  for (const auto& p : m.parameters())
    n += p.numel();
  return n;
}

}  // namespace

TEST_CASE("field embedding adds offsets into one table", "[nn]") {
  torch::manual_seed(0);
  FieldEmbedding emb(FieldEmbeddingOptions({3, 2}, 4));
  CHECK(emb->weight.sizes() == torch::IntArrayRef({5, 4}));
  auto ids = torch::tensor({0, 1, 2, 0}, torch::kInt64).view({2, 2});
  auto out = emb->forward(ids);
  CHECK(out.sizes() == torch::IntArrayRef({2, 2, 4}));
  CHECK(torch::equal(out[0][0], emb->weight[0]));
  CHECK(torch::equal(out[0][1], emb->weight[4]));  // field 1, id 1 -> row 3 + 1
  CHECK(torch::equal(out[1][0], emb->weight[2]));
  CHECK(torch::equal(out[1][1], emb->weight[3]));
  // Glorot uniform bound sqrt(6 / (fan_in + fan_out)) = sqrt(6 / 9)
  CHECK(emb->weight.abs().max().item<float>() <= std::sqrt(6.0f / 9.0f));
}

TEST_CASE("multi-valued fields mean-pool their non-padding ids", "[nn]") {
  torch::manual_seed(0);
  // Field 0 categorical (3 ids), field 1 multi-valued (5 ids, width 3), field 2 categorical.
  const std::vector<autoint::FieldKind> kinds{autoint::FieldKind::categorical,
                                              autoint::FieldKind::multi_categorical,
                                              autoint::FieldKind::categorical};
  FieldEmbedding emb(FieldEmbeddingOptions({3, 5, 2}, 4).kinds(kinds).widths({1, 3, 1}));
  CHECK(emb->id_columns() == 5);
  // Rows: genres {1, 4}, {2}, {} (all padding), {1, 2, 3}.
  auto ids = torch::tensor({2, 1, 4, 0, 1,  //
                            0, 2, 0, 0, 0,  //
                            1, 0, 0, 0, 1,  //
                            2, 1, 2, 3, 0},
                           torch::kInt64)
                 .view({4, 5});
  auto out = emb->forward(ids);
  REQUIRE(out.sizes() == torch::IntArrayRef({4, 3, 4}));
  const auto w = emb->weight.detach();
  CHECK(torch::allclose(out[0][0], w[2]));
  CHECK(torch::allclose(out[0][1], (w[3 + 1] + w[3 + 4]) / 2));
  CHECK(torch::allclose(out[0][2], w[8 + 1]));
  CHECK(torch::allclose(out[1][1], w[3 + 2]));
  CHECK(torch::equal(out[2][1], torch::zeros({4})));  // no values: zeros, not the padding row
  CHECK(torch::allclose(out[3][1], (w[3 + 1] + w[3 + 2] + w[3 + 3]) / 3));

  // Padding never receives gradient; each used row gets its share 1 / count.
  out.select(1, 1).sum().backward();
  const auto g = emb->weight.grad();
  CHECK(torch::equal(g[3], torch::zeros({4})));  // the padding id of field 1
  CHECK(torch::allclose(g[3 + 1], torch::full({4}, 0.5f + 1.0f / 3)));
  CHECK(torch::allclose(g[3 + 2], torch::full({4}, 1.0f + 1.0f / 3)));
  CHECK(torch::allclose(g[3 + 4], torch::full({4}, 0.5f)));
  CHECK(torch::equal(g.narrow(0, 0, 3), torch::zeros({3, 4})));  // other fields untouched

  REQUIRE_THROWS(emb->forward(ids.narrow(1, 0, 4)));  // too few id columns
}

TEST_CASE("int32 ids (a table's) embed as their int64 values do; other types are refused", "[nn]") {
  torch::manual_seed(0);
  const std::vector<autoint::FieldKind> kinds{autoint::FieldKind::categorical,
                                              autoint::FieldKind::multi_categorical,
                                              autoint::FieldKind::numeric};
  FieldEmbedding mixed(FieldEmbeddingOptions({3, 5, 1}, 4).kinds(kinds).widths({1, 2, 0}));
  FieldEmbedding plain(FieldEmbeddingOptions({3, 2}, 4));
  const auto ids = torch::tensor({2, 1, 4, 0, 3, 0}, torch::kInt64).view({2, 3});
  const auto numeric = torch::tensor({0.5f, -1.0f}).view({2, 1});
  CHECK(torch::equal(mixed->forward(ids.to(torch::kInt32), numeric), mixed->forward(ids, numeric)));
  const auto two = torch::tensor({2, 1, 0, 1}, torch::kInt64).view({2, 2});
  CHECK(torch::equal(plain->forward(two.to(torch::kInt32)), plain->forward(two)));
  CHECK_THROWS_WITH(plain->forward(two.to(torch::kFloat32)),
                    Catch::Contains("expects int64 or int32 ids"));
}

TEST_CASE("numeric fields embed as value times a learned vector", "[nn]") {
  torch::manual_seed(0);
  const std::vector<autoint::FieldKind> kinds{
      autoint::FieldKind::numeric, autoint::FieldKind::categorical, autoint::FieldKind::numeric};
  FieldEmbedding emb(FieldEmbeddingOptions({1, 3, 1}, 2).kinds(kinds));
  CHECK(emb->id_columns() == 1);
  CHECK(emb->numeric_columns() == 2);
  auto ids = torch::tensor({2, 0}, torch::kInt64).view({2, 1});
  auto numeric = torch::tensor({0.5f, -1.0f, 2.0f, 3.0f}).view({2, 2});
  auto out = emb->forward(ids, numeric);
  REQUIRE(out.sizes() == torch::IntArrayRef({2, 3, 2}));
  const auto w = emb->weight.detach();
  CHECK(torch::allclose(out[0][0], 0.5f * w[0]));
  CHECK(torch::allclose(out[0][1], w[1 + 2]));
  CHECK(torch::allclose(out[0][2], -1.0f * w[4]));
  CHECK(torch::allclose(out[1][0], 2.0f * w[0]));
  CHECK(torch::allclose(out[1][2], 3.0f * w[4]));
  // d out / d vector = the sum of the values.
  out.select(1, 0).sum().backward();
  CHECK(torch::allclose(emb->weight.grad()[0], torch::full({2}, 2.5f)));
  CHECK(torch::equal(emb->weight.grad()[4], torch::zeros({2})));

  REQUIRE_THROWS(emb->forward(ids));                           // numeric values missing
  REQUIRE_THROWS(emb->forward(ids, numeric.narrow(1, 0, 1)));  // one column short
  REQUIRE_THROWS(
      FieldEmbedding(FieldEmbeddingOptions({2}, 2).kinds({autoint::FieldKind::numeric})));
}

TEST_CASE("AutoInt+ trains on mixed field kinds", "[nn]") {
  torch::manual_seed(3);
  const std::vector<autoint::FieldKind> kinds{autoint::FieldKind::categorical,
                                              autoint::FieldKind::multi_categorical,
                                              autoint::FieldKind::numeric};
  auto options = AutoIntOptions({4, 6, 1}).field_kinds(kinds).field_widths({1, 2, 0}).embed_dim(4);
  AutoInt model(options);
  CHECK(expected_parameter_count(options) == count(*model));
  auto ids = torch::tensor({1, 1, 2, 3, 0, 0, 2, 5, 4}, torch::kInt64).view({3, 3});
  auto numeric = torch::tensor({0.1f, -0.3f, 1.2f}).view({3, 1});
  auto [logits, embeddings] = model->forward_with_embeddings(ids, numeric);
  CHECK(logits.sizes() == torch::IntArrayRef({3}));
  CHECK(embeddings.sizes() == torch::IntArrayRef({3, 3, 4}));
  logits.sum().backward();
  for (const auto& p : model->parameters())
    CHECK(p.grad().defined());
  CHECK(model->embedding->weight.grad().abs().sum().item<float>() > 0);
}

TEST_CASE("truncated normal stays within two standard deviations", "[nn]") {
  torch::manual_seed(1);
  auto t = torch::empty({10000});
  truncated_normal_(t, 0.05);
  CHECK(t.abs().max().item<float>() <= 0.1f + 1e-7f);
  CHECK(t.std().item<float>() == Approx(0.05 * 0.88).epsilon(0.05));  // truncation shrinks std
}

TEST_CASE("interacting layer matches a hand computation", "[nn]") {
  // in_dim 1, one head, D = 1, two fields x = [1, 2]. Weight columns Q|K|V|Res = 1, 1, 1, 0.5:
  // scores s_ij = x_i x_j; row 1: [1, 2], softmax -> [1/(1+e), e/(1+e)];
  // out_1 = relu(1*a + 2*b + 0.5) with a = 1/(1+e), b = e/(1+e).
  // row 2: scores [2, 4] -> [1/(1+e^2), e^2/(1+e^2)], out_2 = relu(... + 1).
  InteractingLayer layer(InteractingLayerOptions(1, 1, 1));
  {
    torch::NoGradGuard g;
    layer->weight.copy_(torch::tensor({1.0f, 1.0f, 1.0f, 0.5f}).view({1, 4}));
  }
  auto x = torch::tensor({1.0f, 2.0f}).view({1, 2, 1});
  const double e = std::exp(1.0), e2 = std::exp(2.0);
  const double out1 = 1.0 / (1 + e) + 2 * e / (1 + e) + 0.5;
  const double out2 = 1.0 / (1 + e2) + 2 * e2 / (1 + e2) + 1.0;
  for (auto kernel : {AttentionKernel::plain, AttentionKernel::fused}) {
    layer->options.kernel(kernel);
    auto y = layer->forward(x);
    REQUIRE(y.sizes() == torch::IntArrayRef({1, 2, 1}));
    CHECK(y[0][0][0].item<double>() == Approx(out1).epsilon(1e-6));
    CHECK(y[0][1][0].item<double>() == Approx(out2).epsilon(1e-6));
  }
  // Scaling divides the scores by sqrt(D) = 1 here: unchanged; with a negative residual
  // large enough the ReLU clips to 0.
  {
    torch::NoGradGuard g;
    layer->weight.copy_(torch::tensor({1.0f, 1.0f, 1.0f, -5.0f}).view({1, 4}));
  }
  CHECK(layer->forward(x).max().item<float>() == 0.0f);
}

TEST_CASE("AutoInt+ shapes and parameter count against the formula", "[nn]") {
  torch::manual_seed(0);
  AutoInt model{AutoIntOptions(kCards)};
  auto ids = random_ids(kCards, 7);
  auto out = model->forward(ids);
  CHECK(out.sizes() == torch::IntArrayRef({7}));
  const int64_t embed = 16 * 13390;  // sum of kCards = 13390
  const int64_t attention = 4 * 16 * 32 + 2 * 4 * 32 * 32;
  const int64_t heads = 13 * 32 + (13 * 16 * 32 + 32) + (32 * 32 + 32) + (32 + 1);
  CHECK(attention == 10240);
  CHECK(count(*model) == embed + attention + heads);
  CHECK(count(*model) == expected_parameter_count(model->options));

  for (auto options : {AutoIntOptions(kCards).use_dnn(false),
                       AutoIntOptions(kCards).embed_dim(8).num_heads(3).num_layers(2),
                       AutoIntOptions(kCards).attention_dim(4).layer_norm(true),
                       AutoIntOptions(kCards).use_residual(false).dnn_hidden_units({64}),
                       AutoIntOptions(kCards).num_layers(0)}) {
    AutoInt m(options);
    CHECK(count(*m) == expected_parameter_count(options));
    CHECK(m->forward(ids).sizes() == torch::IntArrayRef({7}));
  }
  CHECK_THROWS_WITH(AutoInt(AutoIntOptions(kCards).use_dnn(false).num_layers(0)),
                    Catch::Contains("num_layers >= 1"));
}

TEST_CASE("dot_fields adds the two fields' embedding dot product to the logit", "[nn]") {
  torch::manual_seed(5);
  AutoInt model{AutoIntOptions(kCards).dot_fields({0, 4})};
  model->eval();
  CHECK(count(*model) == expected_parameter_count(model->options));
  const auto ids = random_ids(kCards, 9);
  const auto [with_dot, e] = model->forward_with_embeddings(ids);
  model->options.dot_fields({});
  const auto without = model->forward(ids);
  const auto expected = without + (e.select(1, 0) * e.select(1, 4)).sum(1);
  CHECK(torch::allclose(with_dot, expected, 1e-5, 1e-6));
  CHECK_FALSE(torch::allclose(with_dot, without, 1e-5, 1e-6));
  for (const auto& bad : {std::vector<int64_t>{1}, std::vector<int64_t>{2, 2},
                          std::vector<int64_t>{0, 13}, std::vector<int64_t>{-1, 3}}) {
    CHECK_THROWS_WITH(AutoInt(AutoIntOptions(kCards).dot_fields(bad)),
                      Catch::Contains("dot_fields must be empty or two different field indices"));
  }
}

TEST_CASE("dot_dim gives the dot product embeddings of its own", "[nn]") {
  // The same seed with and without dot_dim: every other parameter starts the same (the dot
  // product's own embeddings are registered last), so the logits differ by their dot product.
  torch::manual_seed(6);
  AutoInt plain{AutoIntOptions(kCards)};
  torch::manual_seed(6);
  AutoInt model{AutoIntOptions(kCards).dot_fields({4, 1}).dot_dim(24)};
  plain->eval();
  model->eval();
  CHECK(count(*model) == expected_parameter_count(model->options));
  CHECK(count(*model) == count(*plain) + (kCards[4] + kCards[1]) * 24);
  const auto ids = random_ids(kCards, 9);
  const auto [logits, penalised] = model->forward_with_embeddings(ids);
  const torch::Tensor w = model->dot_embedding->weight;  // field 4's rows, then field 1's
  const torch::Tensor a = w.index_select(0, ids.select(1, 4));
  const torch::Tensor b = w.index_select(0, ids.select(1, 1) + kCards[4]);
  CHECK(torch::allclose(logits, plain->forward(ids) + (a * b).sum(1), 1e-5, 1e-6));
  // The L2 penalty's embeddings: the shared ones, then the dot product's own.
  const torch::Tensor shared = plain->forward_with_embeddings(ids).second.flatten(1);
  CHECK(torch::equal(penalised, torch::cat({shared, a, b}, 1)));
  CHECK_THROWS_WITH(AutoInt(AutoIntOptions(kCards).dot_dim(8)),
                    Catch::Contains("dot_dim 8 needs dot_fields"));
  CHECK_THROWS_WITH(AutoInt(AutoIntOptions(kCards).dot_fields({0, 1}).dot_dim(-1)),
                    Catch::Contains("dot_dim must be >= 0"));
}

TEST_CASE("gradients reach every parameter", "[nn]") {
  torch::manual_seed(3);
  for (auto options : {AutoIntOptions(kCards), AutoIntOptions(kCards).use_dnn(false),
                       AutoIntOptions(kCards).layer_norm(true).attention_dropout(0.1),
                       AutoIntOptions(kCards).dot_fields({0, 2}).dot_dim(8)}) {
    AutoInt model(options);
    model->train();
    auto ids = random_ids(kCards, 64);
    auto labels = torch::randint(0, 2, {64}).to(torch::kFloat32);
    torch::binary_cross_entropy_with_logits(model->forward(ids), labels).backward();
    for (const auto& p : model->named_parameters()) {
      INFO(p.key());
      REQUIRE(p.value().grad().defined());
      CHECK(p.value().grad().abs().sum().item<double>() > 0);
    }
  }
}

TEST_CASE("same seed, same outputs; clone() is deep; to(device) keeps values", "[nn]") {
  auto ids = random_ids(kCards, 16);
  torch::manual_seed(42);
  AutoInt a{AutoIntOptions(kCards)};
  torch::manual_seed(42);
  AutoInt b{AutoIntOptions(kCards)};
  a->eval();
  b->eval();
  CHECK(torch::equal(a->forward(ids), b->forward(ids)));

  auto c = std::dynamic_pointer_cast<AutoIntImpl>(a->clone());
  REQUIRE(c);
  c->eval();
  CHECK(torch::equal(c->forward(ids), a->forward(ids)));
  {
    torch::NoGradGuard g;
    c->embedding->weight.add_(1.0);
  }
  CHECK_FALSE(torch::equal(c->forward(ids), a->forward(ids)));  // a is untouched

  a->to(torch::kCPU);
  CHECK(torch::equal(a->forward(ids), b->forward(ids)));
  CHECK(a->parameters().size() == b->parameters().size());
}

TEST_CASE("plain and fused kernels give the same model outputs", "[nn]") {
  torch::manual_seed(5);
  AutoInt model{AutoIntOptions(kCards)};
  model->eval();
  auto ids = random_ids(kCards, 32);
  model->set_kernel(AttentionKernel::plain);
  auto plain = model->forward(ids);
  model->set_kernel(AttentionKernel::fused);
  auto fused = model->forward(ids);
  CHECK(torch::allclose(plain, fused, 1e-4, 1e-5));
}

TEST_CASE("AutoInt+ runs on CUDA and agrees with the CPU", "[.][nn][cuda]") {
  // ctest runs the [cuda] tests (unit.cuda) only where CUDA is, else reports a skip.
  REQUIRE(torch::cuda::is_available());
  torch::manual_seed(7);
  AutoInt model{AutoIntOptions(kCards)};
  model->eval();
  auto ids = random_ids(kCards, 64);
  auto cpu = model->forward(ids);
  model->to(torch::kCUDA);
  auto gpu = model->forward(ids.to(torch::kCUDA)).to(torch::kCPU);
  CHECK(torch::allclose(cpu, gpu, 1e-3, 1e-4));
}
