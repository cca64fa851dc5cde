// History inputs of AutoInt: each pooling against a hand-written reference, shared histories
// (one per group of rows) equal to repeated ones, parameter counts, padding, the fused kernel
// on field counts other than the seed's 13, and bad shapes.
#include "autoint_catch.h"

#include <torch/torch.h>

#include "autoint/nn/autoint.h"
#include "autoint/nn/history.h"

using namespace autoint;

namespace {

nn::AutoIntOptions history_options(nn::HistoryPooling pooling, int64_t max_len) {
  return nn::AutoIntOptions({7, 11, 5})
      .embed_dim(8)
      .num_layers(2)
      .num_heads(2)
      .dnn_hidden_units({16})
      .dnn_dropout(0.0)
      .history(nn::HistoryOptions().item_field(1).max_len(max_len).pooling(pooling));
}

// ids [rows, 3] in range and histories [rows, 4] of item-field ids with padding.
std::pair<torch::Tensor, torch::Tensor> rows(int64_t n) {
  torch::manual_seed(3);
  const torch::Tensor ids =
      torch::stack({torch::randint(7, {n}, torch::kInt64), torch::randint(11, {n}, torch::kInt64),
                    torch::randint(5, {n}, torch::kInt64)},
                   1);
  torch::Tensor history = torch::randint(1, 11, {n, 4}, torch::kInt64);
  history.narrow(1, 3, 1).zero_();  // every row padded at its end
  history[0].zero_();               // and one row without any history
  return {ids, history};
}

}  // namespace

TEST_CASE("history pooling: parameter counts and field counts", "[nn][history]") {
  for (auto pooling :
       {nn::HistoryPooling::mean, nn::HistoryPooling::attention, nn::HistoryPooling::tokens}) {
    torch::manual_seed(1);
    const auto options = history_options(pooling, 4);
    nn::AutoInt model(options);
    int64_t count = 0;
    for (const auto& p : model->parameters())
      count += p.numel();
    CHECK(count == nn::expected_parameter_count(options));
    CHECK(model->interacting_fields() == (pooling == nn::HistoryPooling::tokens ? 3 + 4 : 3 + 1));
  }
}

TEST_CASE("history pooling: mean and attention against hand-written references", "[nn][history]") {
  const auto [ids, history] = rows(6);
  for (auto pooling : {nn::HistoryPooling::mean, nn::HistoryPooling::attention}) {
    torch::manual_seed(2);
    nn::AutoInt model(history_options(pooling, 4));
    model->eval();
    torch::NoGradGuard no_grad;
    const torch::Tensor table = model->embedding->weight;
    const torch::Tensor items = torch::embedding(table, history + model->embedding->start(1));
    const torch::Tensor mask = history.gt(0).to(torch::kFloat32);
    const torch::Tensor target =
        torch::embedding(table, ids.select(1, 1) + model->embedding->start(1));
    torch::Tensor expected;
    if (pooling == nn::HistoryPooling::mean) {
      expected = (items * mask.unsqueeze(2)).sum(1) / mask.sum(1, true).clamp_min(1.0);
    } else {
      // The MLP on cat(item, target, item * target), softmax over the non-padding items.
      const torch::Tensor t = target.unsqueeze(1).expand_as(items);
      torch::Tensor scores =
          model->history_pooling->attention->forward(torch::cat({items, t, items * t}, 2))
              .squeeze(2);
      scores = scores.masked_fill(mask.eq(0), -1e9);
      const torch::Tensor w = torch::softmax(scores, 1) * mask;
      expected = (w.unsqueeze(2) * items).sum(1);
      CHECK(torch::allclose(model->history_weights(ids, {}, history), w, 1e-5, 1e-6));
    }
    const torch::Tensor pooled = model->history_pooling->forward(items, mask, target).squeeze(1);
    CHECK(torch::allclose(pooled, expected, 1e-5, 1e-6));
    CHECK(pooled[0].abs().max().item<float>() == 0.0F);  // no history: zeros
  }
}

TEST_CASE("history pooling: a history shared by g rows equals it repeated", "[nn][history]") {
  const auto [ids, history] = rows(12);
  const torch::Tensor shared = history.narrow(0, 0, 4);  // 4 histories, 3 rows each
  for (auto pooling :
       {nn::HistoryPooling::mean, nn::HistoryPooling::attention, nn::HistoryPooling::tokens}) {
    torch::manual_seed(4);
    auto options = history_options(pooling, 4);
    if (pooling != nn::HistoryPooling::tokens)
      options.dot_fields({3, 1}).dot_dim(6);  // the history's own dot embeddings too
    nn::AutoInt model(options);
    model->eval();
    torch::NoGradGuard no_grad;
    const torch::Tensor a = model->forward(ids, {}, shared);
    const torch::Tensor b = model->forward(ids, {}, shared.repeat_interleave(3, 0));
    CHECK(torch::allclose(a, b, 1e-5, 1e-6));
  }
}

TEST_CASE("history: padding ids and the order of a bag do not change mean pooling",
          "[nn][history]") {
  torch::manual_seed(5);
  nn::AutoInt model(history_options(nn::HistoryPooling::mean, 5));
  model->eval();
  torch::NoGradGuard no_grad;
  const torch::Tensor ids = torch::tensor({{1, 2, 3}}, torch::kInt64);
  const torch::Tensor a = model->forward(ids, {}, torch::tensor({{4, 7, 9, 0, 0}}, torch::kInt64));
  const torch::Tensor b = model->forward(ids, {}, torch::tensor({{9, 0, 4, 7, 0}}, torch::kInt64));
  const torch::Tensor c = model->forward(ids, {}, torch::tensor({{4, 7, 10, 0, 0}}, torch::kInt64));
  CHECK(torch::allclose(a, b, 1e-6, 1e-7));
  CHECK_FALSE(torch::allclose(a, c, 1e-6, 1e-7));  // and the items do
}

TEST_CASE("history tokens: the fused kernel equals the plain one with 3 + L fields",
          "[nn][history][attention]") {
  const auto [ids, history] = rows(9);
  torch::manual_seed(6);
  nn::AutoInt model(history_options(nn::HistoryPooling::tokens, 4));
  model->eval();
  torch::NoGradGuard no_grad;
  model->set_kernel(nn::AttentionKernel::plain);
  const torch::Tensor plain = model->forward(ids, {}, history);
  model->set_kernel(nn::AttentionKernel::fused);
  const torch::Tensor fused = model->forward(ids, {}, history);
  CHECK(torch::allclose(plain, fused, 1e-5, 1e-6));
}

TEST_CASE("history: gradients reach the item rows through every pooling", "[nn][history]") {
  const auto [ids, history] = rows(6);
  for (auto pooling :
       {nn::HistoryPooling::mean, nn::HistoryPooling::attention, nn::HistoryPooling::tokens}) {
    torch::manual_seed(7);
    nn::AutoInt model(history_options(pooling, 4));
    model->forward(ids, {}, history).sum().backward();
    const torch::Tensor g = model->embedding->weight.grad();
    // A movie that is only ever in histories (not a target) still gets a gradient.
    const int64_t start = model->embedding->start(1);
    const int64_t item = history[1][0].item<int64_t>();
    CHECK(g[start + item].abs().sum().item<float>() > 0);
  }
}

TEST_CASE("history: bad inputs", "[nn][history]") {
  torch::manual_seed(8);
  nn::AutoInt with(history_options(nn::HistoryPooling::mean, 4));
  const torch::Tensor ids = torch::tensor({{1, 2, 3}, {0, 1, 2}}, torch::kInt64);
  CHECK_THROWS_WITH(with->forward(ids), Catch::Contains("takes a history [2, 4]"));
  CHECK_THROWS_WITH(with->forward(ids, {}, torch::zeros({2, 3}, torch::kInt64)),
                    Catch::Contains("takes a history"));
  CHECK_THROWS_WITH(with->forward(ids, {}, torch::zeros({2, 4}, torch::kFloat32)),
                    Catch::Contains("int64 or int32"));
  nn::AutoInt without(nn::AutoIntOptions({7, 11, 5}).embed_dim(8));
  CHECK_THROWS_WITH(without->forward(ids, {}, torch::zeros({2, 4}, torch::kInt64)),
                    Catch::Contains("has no history input"));
  CHECK_THROWS_WITH(nn::AutoInt(history_options(nn::HistoryPooling::mean, 4)
                                    .history(nn::HistoryOptions().item_field(3).max_len(4))),
                    Catch::Contains("history item_field must be in [0, 3)"));
  CHECK_THROWS_WITH(nn::AutoInt(history_options(nn::HistoryPooling::tokens, 4).dot_fields({3, 1})),
                    Catch::Contains("dot_fields must be empty or two different field indices in "
                                    "[0, 3)"));
}
