// Builds an AutoInt+ model through the installed package and scores one batch.
#include <autoint/autoint.h>

#include <iostream>

int main() {
  torch::manual_seed(0);
  autoint::nn::AutoInt model(autoint::nn::AutoIntOptions({10, 3, 7}).embed_dim(8));
  model->eval();
  const auto ids = torch::tensor({1, 2, 3, 4, 0, 6}, torch::kInt64).view({2, 3});
  const auto scores = torch::sigmoid(model->forward(ids));
  if (scores.sizes() != torch::IntArrayRef({2}))
    return 1;
  std::cout << "autoint " << AUTOINT_VERSION_STRING << " consumer ok: " << scores << '\n';
  return 0;
}
