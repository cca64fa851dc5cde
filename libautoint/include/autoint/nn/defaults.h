// The one declared default of each model hyper-parameter (the seed's AutoInt+): both
// nn::AutoIntOptions and the config's model section (config::ModelConfig) take theirs from
// here. Torch-free, so the config layer can include it.
#pragma once

#include <array>
#include <cstdint>

namespace autoint::nn::defaults {

constexpr int64_t kEmbedDim = 16;
constexpr int64_t kNumLayers = 3;
constexpr int64_t kNumHeads = 2;
constexpr int64_t kAttentionDim = 0;  // per head; 0 means the embedding width
constexpr bool kUseResidual = true;
constexpr bool kScaleAttention = false;
constexpr bool kLayerNorm = false;
constexpr double kAttentionDropout = 0.0;
constexpr std::array<int64_t, 2> kDnnHiddenUnits{32, 32};
constexpr double kDnnDropout = 0.4;

}  // namespace autoint::nn::defaults
