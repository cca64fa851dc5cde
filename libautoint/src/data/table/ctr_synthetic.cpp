// Seeded generator of Criteo- and Avazu-format CTR files with planted pairwise interactions
// (for tests and benchmarks of models that learn feature interactions).
#include "autoint/data/table/ctr_synthetic.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <ostream>
#include <random>
#include <stdexcept>
#include <string>
#include <system_error>
#include <unordered_map>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "autoint/error.h"

namespace autoint::data {
namespace {

// Names here carry a ctr_/Ctr prefix: the library is compiled in unity batches, so they must
// not collide with other sources' anonymous-namespace names.

// Logits are integers in units of 1/16, clamped to [-16, 16]: the label draw compares raw
// random bits with a table, so no libm function decides a label.
constexpr int kCtrLogitUnit = 16;
constexpr int kCtrLogitLimit = 16 * kCtrLogitUnit;
constexpr size_t kCtrBufferSize = size_t{1} << 20;
constexpr size_t kCtrMaxRowBytes = 1024;
constexpr int kCtrAppRowPercent = 35;  // avazu: the share of app rows (the others: site rows)

// The low bias 32-bit integer hash: a bijection, so distinct inputs give distinct tokens.
uint32_t ctr_mix32(uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352dU;
  x ^= x >> 15;
  x *= 0x846ca68bU;
  x ^= x >> 16;
  return x;
}

// splitmix64's finalizer: a bijection of 64-bit integers.
uint64_t ctr_mix64(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

// floor(r * n / 2^64) for n <= 2^32: an integer in [0, n) from the high bits of r.
uint64_t ctr_scale(uint64_t r, uint64_t n) {
  return ((r >> 32) * n + (((r & 0xffffffffULL) * n) >> 32)) >> 32;
}

// The standard distributions are implementation-defined; only the engine's raw bits are
// portable, so every draw is made from them with integer arithmetic.
class CtrRandom {
 public:
  explicit CtrRandom(uint64_t seed) : engine_(seed) {}
  uint64_t next() { return engine_(); }
  uint32_t below(uint32_t n) { return static_cast<uint32_t>(ctr_scale(engine_(), n)); }
  int sign() { return (engine_() >> 63) != 0 ? 1 : -1; }

 private:
  std::mt19937_64 engine_;
};

// Walker's alias method in integer arithmetic: O(1) draws of an index with probability
// proportional to its weight, from one 64-bit random number (high bits pick the slot, the low
// 32 bits decide between the slot and its alias).
class CtrAlias {
 public:
  CtrAlias() = default;
  // weights: each >= 1, each * size and the sum below 2^53.
  explicit CtrAlias(const std::vector<uint64_t>& weights)
      : size_(static_cast<uint32_t>(weights.size())), slots_(weights.size()) {
    uint64_t total = 0;
    for (const uint64_t w : weights)
      total += w;
    std::vector<uint64_t> scaled(weights.size());
    std::vector<uint32_t> small;
    std::vector<uint32_t> large;
    for (uint32_t i = 0; i < size_; ++i) {
      scaled[i] = weights[i] * size_;
      slots_[i] = {0, i};  // a full slot: its alias is itself
      (scaled[i] < total ? small : large).push_back(i);
    }
    // The scaled weights sum to size * total exactly, so the integer version ends with every
    // slot filled and nothing left over.
    while (!small.empty() && !large.empty()) {
      const uint32_t s = small.back();
      small.pop_back();
      const uint32_t l = large.back();
      // Both below 2^53: the division is exact-rounded IEEE arithmetic, the same everywhere,
      // and the ratio below 1.
      slots_[s].threshold = static_cast<uint32_t>(static_cast<double>(scaled[s]) /
                                                  static_cast<double>(total) * 4294967296.0);
      slots_[s].alias = l;
      scaled[l] -= total - scaled[s];
      if (scaled[l] < total) {
        large.pop_back();
        small.push_back(l);
      }
    }
  }

  uint32_t sample(uint64_t r) const {
    const auto slot = static_cast<uint32_t>(ctr_scale(r, size_));
    const Slot& s = slots_[slot];
    return (r & 0xffffffffULL) < s.threshold ? slot : s.alias;
  }

 private:
  uint32_t size_ = 0;
  // One cache line access per draw: the threshold and the alias side by side.
  struct Slot {
    uint32_t threshold;  // in units of 2^-32
    uint32_t alias;
  };
  std::vector<Slot> slots_;
};

// Signs for values with the given frequencies, random from `random` but balanced: the
// frequency-weighted sum is (near) zero, so a product with these signs has no marginal effect.
// Up to 16 values: the best balance by exhaustive search, then a random global flip. More:
// from the most frequent down, a random sign while the running sum is small against the
// value's weight, otherwise the sign that pulls the sum back to zero.
std::vector<int8_t> ctr_balanced_signs(const std::vector<uint64_t>& weights, CtrRandom& random) {
  const size_t n = weights.size();
  std::vector<int8_t> signs(n, 1);
  if (n <= 16) {
    uint64_t best_mask = 0;
    int64_t best = -1;
    for (uint64_t mask = 0; mask < (uint64_t{1} << (n - 1)); ++mask) {
      int64_t sum = static_cast<int64_t>(weights[0]);
      for (size_t i = 1; i < n; ++i) {
        const auto w = static_cast<int64_t>(weights[i]);
        sum += ((mask >> (i - 1)) & 1) != 0 ? -w : w;
      }
      if (best < 0 || std::abs(sum) < best) {
        best = std::abs(sum);
        best_mask = mask;
      }
    }
    const int flip = random.sign();
    for (size_t i = 0; i < n; ++i) {
      const int s = i > 0 && ((best_mask >> (i - 1)) & 1) != 0 ? -1 : 1;
      signs[i] = static_cast<int8_t>(s * flip);
    }
    return signs;
  }
  std::vector<size_t> order(n);
  for (size_t i = 0; i < n; ++i)
    order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return weights[a] > weights[b]; });
  int64_t sum = 0;
  for (const size_t i : order) {
    const auto w = static_cast<int64_t>(weights[i]);
    const int s = 2 * std::abs(sum) <= w ? random.sign() : (sum > 0 ? -1 : 1);
    signs[i] = static_cast<int8_t>(s);
    sum += s * w;
  }
  return signs;
}

enum class CtrGroup { kNone, kSite, kApp };  // avazu: default value in app / site rows

// One feature column with everything a row draw needs.
struct CtrColumn {
  std::string name;
  bool is_count = false;
  uint32_t missing16 = 0;  // missing when the top 16 bits of a draw are below this
  CtrGroup group = CtrGroup::kNone;
  std::vector<uint64_t> weights;  // per value (categorical) or per octave (count)
  CtrAlias sampler;
  std::vector<char> tokens;  // categorical: 8 bytes per value, the default (if any) last
  std::vector<uint8_t> token_size;
  std::vector<int16_t> effect;  // first-order, in 1/16 logits, per key; empty: none
  std::vector<int8_t> sign;     // planted sign per key; empty: in no pair
};

struct CtrPair {
  size_t first;
  size_t second;
  int weight;  // in 1/16 logits
};

struct CtrModel {
  bool avazu = false;
  std::vector<CtrColumn> columns;
  std::vector<CtrPair> pairs;
  int bias = 0;                    // in 1/16 logits
  uint64_t app_row_threshold = 0;  // avazu: app row when a draw >> 11 is below this
  uint64_t id_key = 0;             // avazu: ids are ctr_mix64(row + id_key)
  std::array<uint64_t, 2 * kCtrLogitLimit + 1> click_threshold{};  // 2^53 * sigmoid
};

// A column spec: the tables are filled from the seed by ctr_build.
struct CtrSpec {
  const char* name;
  bool is_count;
  int missing_permille;
  // categorical: values, Zipf power (1 or 2) and offset q: P(rank k) ~ 1/(k + q)^power
  uint32_t cardinality;
  int power;
  uint32_t offset;
  int effect_range;  // first-order effects uniform in [-range, range] / 16
  // count: octave g has weight ratio_num/ratio_den times that of g - 1, up to max_octave
  int ratio_num;
  int ratio_den;
  int max_octave;
  int slope;  // first-order effect slope * octave / 16
};

CtrSpec ctr_category(const char* name, uint32_t cardinality, int power, uint32_t offset,
                     int missing_permille = 0, int effect_range = 0) {
  return {name, false, missing_permille, cardinality, power, offset, effect_range, 0, 0, 0, 0};
}

CtrSpec ctr_count(const char* name, int missing_permille, int ratio_num, int ratio_den,
                  int max_octave, int slope = 0) {
  return {name, true, missing_permille, 0, 0, 0, 0, ratio_num, ratio_den, max_octave, slope};
}

struct CtrPairSpec {
  const char* first;
  const char* second;
  int weight;  // in 1/16 logits
};

constexpr int kCtrEffect = 12;

std::vector<CtrSpec> ctr_criteo_specs() {
  std::vector<CtrSpec> specs = {
      ctr_count("I1", 400, 5, 8, 12, 1),  ctr_count("I2", 100, 3, 4, 15),
      ctr_count("I3", 200, 3, 4, 16),     ctr_count("I4", 200, 5, 8, 10),
      ctr_count("I5", 100, 7, 8, 24, -1), ctr_count("I6", 220, 3, 4, 16),
      ctr_count("I7", 120, 3, 4, 16),     ctr_count("I8", 100, 5, 8, 10),
      ctr_count("I9", 120, 7, 8, 16, 2),  ctr_count("I10", 400, 1, 2, 4),
      ctr_count("I11", 120, 5, 8, 8),     ctr_count("I12", 350, 1, 2, 6),
      ctr_count("I13", 220, 3, 4, 12),
  };
  const std::vector<CtrSpec> categories = {
      ctr_category("C1", 1000, 1, 1),
      ctr_category("C2", 500, 1, 1),
      ctr_category("C3", 20000, 1, 1, 30, kCtrEffect),
      ctr_category("C4", 15000, 1, 1, 30),
      ctr_category("C5", 200, 1, 2),
      ctr_category("C6", 18, 1, 4, 120),
      ctr_category("C7", 8000, 1, 1, 0, kCtrEffect),
      ctr_category("C8", 400, 1, 2),
      ctr_category("C9", 3, 2, 1, 0, kCtrEffect),
      ctr_category("C10", 10000, 1, 1, 0, kCtrEffect),
      ctr_category("C11", 4000, 1, 1, 0, kCtrEffect),
      ctr_category("C12", 20000, 1, 1, 30),
      ctr_category("C13", 3000, 1, 1),
      ctr_category("C14", 27, 1, 4),
      ctr_category("C15", 8000, 1, 1, 0, kCtrEffect),
      ctr_category("C16", 20000, 1, 1, 30),
      ctr_category("C17", 10, 1, 10),
      ctr_category("C18", 4000, 1, 1),
      ctr_category("C19", 1500, 1, 1, 440),
      ctr_category("C20", 4, 2, 1, 440, kCtrEffect),
      ctr_category("C21", 20000, 1, 1, 30),
      ctr_category("C22", 15, 1, 2, 760),
      ctr_category("C23", 20, 1, 5),
      ctr_category("C24", 12000, 1, 1, 30),
      ctr_category("C25", 80, 1, 1, 440, kCtrEffect),
      ctr_category("C26", 9000, 1, 1, 440),
  };
  specs.insert(specs.end(), categories.begin(), categories.end());
  return specs;
}

const std::vector<CtrPairSpec>& ctr_criteo_pairs() {
  static const std::vector<CtrPairSpec> pairs = {
      {"I2", "C1", 24}, {"C2", "C13", 24}, {"C5", "C8", 32}, {"C6", "C14", 32}, {"C17", "C23", 28},
  };
  return pairs;
}

std::vector<CtrSpec> ctr_avazu_specs() {
  return {
      ctr_category("C1", 7, 2, 1, 0, kCtrEffect),
      ctr_category("banner_pos", 7, 1, 3),
      ctr_category("site_id", 4000, 1, 1, 0, kCtrEffect),
      ctr_category("site_domain", 5000, 1, 1),
      ctr_category("site_category", 26, 1, 2, 0, kCtrEffect),
      ctr_category("app_id", 8000, 1, 1, 0, kCtrEffect),
      ctr_category("app_domain", 500, 1, 1),
      ctr_category("app_category", 36, 1, 2, 0, kCtrEffect),
      ctr_category("device_id", 20000, 2, 1),
      ctr_category("device_ip", 20000, 1, 1),
      ctr_category("device_model", 5000, 1, 1),
      ctr_category("device_type", 5, 2, 1, 0, kCtrEffect),
      ctr_category("device_conn_type", 4, 1, 4),
      ctr_category("C14", 2600, 1, 1),
      ctr_category("C15", 8, 2, 1, 0, kCtrEffect),
      ctr_category("C16", 8, 1, 4),
      ctr_category("C17", 435, 1, 2),
      ctr_category("C18", 4, 1, 4),
      ctr_category("C19", 68, 1, 2),
      ctr_category("C20", 170, 1, 1),
      ctr_category("C21", 60, 1, 2),
  };
}

const std::vector<CtrPairSpec>& ctr_avazu_pairs() {
  static const std::vector<CtrPairSpec> pairs = {
      {"C18", "C21", 32},          {"banner_pos", "C19", 32}, {"device_conn_type", "C14", 28},
      {"C17", "device_model", 24}, {"C16", "C20", 24},
  };
  return pairs;
}

constexpr const char* kCtrAvazuHeader =
    "id,click,hour,C1,banner_pos,site_id,site_domain,site_category,app_id,app_domain,"
    "app_category,device_id,device_ip,device_model,device_type,device_conn_type,C14,C15,C16,"
    "C17,C18,C19,C20,C21\n";

// Token lists for avazu's integer-coded columns, most frequent first; an empty entry: the
// column's values are generated.
struct CtrAvazuTokens {
  const char* column;
  std::vector<std::string> fixed;
  int64_t lo;  // generated: distinct integers in [lo, hi], in shuffled order
  int64_t hi;
  const char* first;     // generated: this token first (C20's -1), or nullptr
  const char* fallback;  // site/app default value, or nullptr
  CtrGroup group;
};

const std::vector<CtrAvazuTokens>& ctr_avazu_tokens() {
  static const std::vector<CtrAvazuTokens> tokens = {
      {"C1",
       {"1005", "1002", "1010", "1012", "1007", "1001", "1008"},
       0,
       0,
       nullptr,
       nullptr,
       CtrGroup::kNone},
      {"banner_pos", {"0", "1", "7", "2", "4", "5", "3"}, 0, 0, nullptr, nullptr, CtrGroup::kNone},
      {"site_id", {}, 0, 0, nullptr, "85f751fd", CtrGroup::kSite},
      {"site_domain", {}, 0, 0, nullptr, "c4e18dd6", CtrGroup::kSite},
      {"site_category", {}, 0, 0, nullptr, "50e219e0", CtrGroup::kSite},
      {"app_id", {}, 0, 0, nullptr, "ecad2386", CtrGroup::kApp},
      {"app_domain", {}, 0, 0, nullptr, "7801e8d9", CtrGroup::kApp},
      {"app_category", {}, 0, 0, nullptr, "07d7df22", CtrGroup::kApp},
      {"device_type", {"1", "0", "4", "5", "2"}, 0, 0, nullptr, nullptr, CtrGroup::kNone},
      {"device_conn_type", {"0", "2", "3", "5"}, 0, 0, nullptr, nullptr, CtrGroup::kNone},
      {"C14", {}, 375, 24052, nullptr, nullptr, CtrGroup::kNone},
      {"C15",
       {"320", "300", "216", "728", "120", "1024", "480", "768"},
       0,
       0,
       nullptr,
       nullptr,
       CtrGroup::kNone},
      {"C16",
       {"50", "250", "36", "480", "90", "20", "768", "1024"},
       0,
       0,
       nullptr,
       nullptr,
       CtrGroup::kNone},
      {"C17", {}, 112, 2758, nullptr, nullptr, CtrGroup::kNone},
      {"C18", {"0", "3", "2", "1"}, 0, 0, nullptr, nullptr, CtrGroup::kNone},
      {"C19", {}, 33, 1959, nullptr, nullptr, CtrGroup::kNone},
      {"C20", {}, 100000, 100248, "-1", nullptr, CtrGroup::kNone},
      {"C21", {}, 1, 255, nullptr, nullptr, CtrGroup::kNone},
  };
  return tokens;
}

void ctr_add_token(CtrColumn& column, const std::string& token) {
  char bytes[8] = {};
  std::memcpy(bytes, token.data(), std::min<size_t>(token.size(), 8));
  column.tokens.insert(column.tokens.end(), bytes, bytes + 8);
  column.token_size.push_back(static_cast<uint8_t>(token.size()));
}

std::string ctr_hex(uint32_t value) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out(8, '0');
  for (int i = 7; i >= 0; --i, value >>= 4)
    out[static_cast<size_t>(i)] = kDigits[value & 0xf];
  return out;
}

// Fills the column's tokens: `cardinality` distinct values, then its default (if any).
void ctr_make_tokens(CtrColumn& column, uint32_t cardinality, const CtrAvazuTokens* avazu,
                     CtrRandom& random) {
  if (avazu != nullptr && !avazu->fixed.empty()) {
    for (const auto& token : avazu->fixed)
      ctr_add_token(column, token);
    return;
  }
  if (avazu != nullptr && avazu->hi > avazu->lo) {
    // Distinct integers: one from each of `count` equal strides of [lo, hi], shuffled.
    const uint32_t count = cardinality - (avazu->first != nullptr ? 1 : 0);
    const auto stride = static_cast<uint32_t>((avazu->hi - avazu->lo + 1) / count);
    std::vector<int64_t> values(count);
    for (uint32_t k = 0; k < count; ++k)
      values[k] = avazu->lo + int64_t{k} * stride + random.below(stride);
    for (uint32_t k = count; k > 1; --k)
      std::swap(values[k - 1], values[random.below(k)]);
    if (avazu->first != nullptr)
      ctr_add_token(column, avazu->first);
    for (const int64_t v : values)
      ctr_add_token(column, std::to_string(v));
    return;
  }
  // Hash-looking tokens: a bijection of a counter, skipping the default value.
  const auto key = static_cast<uint32_t>(random.next());
  const std::string fallback =
      avazu != nullptr && avazu->fallback != nullptr ? avazu->fallback : "";
  for (uint32_t j = 0; column.token_size.size() < cardinality; ++j) {
    const std::string token = ctr_hex(ctr_mix32(j + key));
    if (token != fallback)
      ctr_add_token(column, token);
  }
  if (!fallback.empty())
    ctr_add_token(column, fallback);
}

std::vector<uint64_t> ctr_weights(const CtrSpec& spec) {
  std::vector<uint64_t> weights;
  if (spec.is_count) {
    uint64_t w = uint64_t{1} << 24;
    for (int g = 0; g <= spec.max_octave; ++g) {
      weights.push_back(std::max<uint64_t>(w, 1));
      w = w * static_cast<uint64_t>(spec.ratio_num) / static_cast<uint64_t>(spec.ratio_den);
    }
    return weights;
  }
  for (uint64_t k = 0; k < spec.cardinality; ++k) {
    const uint64_t base = k + spec.offset;
    const uint64_t w =
        spec.power == 2 ? (uint64_t{1} << 30) / (base * base) : (uint64_t{1} << 24) / base;
    weights.push_back(std::max<uint64_t>(w, 1));
  }
  return weights;
}

bool ctr_is_known_format(const std::string& format) {
  return format == "criteo" || format == "avazu";
}

void ctr_check_format(const std::string& format) {
  if (!ctr_is_known_format(format)) {
    throw std::invalid_argument(
        fmt::format("format must be criteo or avazu (got \"{}\")", quoted_value(format)));
  }
}

void ctr_check_options(const CtrSyntheticOptions& options) {
  ctr_check_format(options.format);
  if (options.rows < 1)
    throw std::invalid_argument(fmt::format("rows must be >= 1 (got {})", options.rows));
}

// 2^53 * sigmoid(k / 16) for k in [-256, 256], from e^(1/16) by repeated multiplication:
// basic IEEE operations only, so the table is the same on every platform.
std::array<uint64_t, 2 * kCtrLogitLimit + 1> ctr_click_thresholds() {
  constexpr double kExpStep = 1.0644944589178594;  // e^(1/16)
  constexpr double kScale = 9007199254740992.0;    // 2^53
  std::array<uint64_t, 2 * kCtrLogitLimit + 1> table{};
  double e = 1.0;
  for (int k = 0; k <= kCtrLogitLimit; ++k) {
    table[static_cast<size_t>(kCtrLogitLimit + k)] = static_cast<uint64_t>(e / (1.0 + e) * kScale);
    table[static_cast<size_t>(kCtrLogitLimit - k)] =
        static_cast<uint64_t>(1.0 / (1.0 + e) * kScale);
    e *= kExpStep;
  }
  return table;
}

// The frequency of each key (value or octave) up to a common factor, an avazu default included.
std::vector<uint64_t> ctr_key_weights(const CtrColumn& column) {
  if (column.group == CtrGroup::kNone)
    return column.weights;
  // The default is the value of the site columns in app rows and of the app columns in site rows.
  const uint64_t default_percent =
      column.group == CtrGroup::kSite ? kCtrAppRowPercent : 100 - kCtrAppRowPercent;
  uint64_t total = 0;
  std::vector<uint64_t> weights;
  for (const uint64_t w : column.weights) {
    weights.push_back(w * (100 - default_percent));
    total += w;
  }
  weights.push_back(total * default_percent);
  return weights;
}

// Shifts the effects so that their mean over the key frequencies is (near) zero: the
// positive rate then depends on the bias, hardly on the seed.
void ctr_center(std::vector<int16_t>& effect, const std::vector<uint64_t>& weights) {
  int64_t sum = 0;
  int64_t total = 0;
  for (size_t k = 0; k < weights.size(); ++k) {
    sum += effect[k] * static_cast<int64_t>(weights[k]);
    total += static_cast<int64_t>(weights[k]);
  }
  // Rounded to the nearest integer, halves away from zero.
  const int64_t mean = (2 * sum + (sum >= 0 ? total : -total)) / (2 * total);
  for (auto& e : effect)
    e = static_cast<int16_t>(e - mean);
}

size_t ctr_column_index(const CtrModel& model, const std::string& name) {
  for (size_t i = 0; i < model.columns.size(); ++i) {
    if (model.columns[i].name == name)
      return i;
  }
  throw std::invalid_argument(fmt::format("unknown column \"{}\"", quoted_value(name)));
}

// The generator's tables for a format and seed (the rows are drawn from another stream).
CtrModel ctr_build(const std::string& format, uint64_t seed) {
  ctr_check_format(format);
  CtrModel model;
  model.avazu = format == "avazu";
  CtrRandom random(ctr_mix64(seed ^ 0x6374722d6d6f646cULL));
  const auto specs = model.avazu ? ctr_avazu_specs() : ctr_criteo_specs();
  const auto& pair_specs = model.avazu ? ctr_avazu_pairs() : ctr_criteo_pairs();
  for (const CtrSpec& spec : specs) {
    CtrColumn column;
    column.name = spec.name;
    column.is_count = spec.is_count;
    column.missing16 = static_cast<uint32_t>(spec.missing_permille * 65536 / 1000);
    column.weights = ctr_weights(spec);
    column.sampler = CtrAlias(column.weights);
    const CtrAvazuTokens* avazu = nullptr;
    if (model.avazu) {
      for (const auto& t : ctr_avazu_tokens()) {
        if (column.name == t.column)
          avazu = &t;
      }
      if (avazu != nullptr)
        column.group = avazu->group;
    }
    size_t keys = column.weights.size();
    if (!spec.is_count) {
      ctr_make_tokens(column, spec.cardinality, avazu, random);
      keys = column.token_size.size();
      if (keys != column.weights.size() + (column.group != CtrGroup::kNone ? 1 : 0))
        throw std::logic_error("ctr_synthetic: " + column.name + " has tokens for other values");
    }
    if (spec.effect_range > 0) {
      for (size_t k = 0; k < keys; ++k) {
        const int e = static_cast<int>(random.below(2 * spec.effect_range + 1)) - spec.effect_range;
        column.effect.push_back(static_cast<int16_t>(e));
      }
      ctr_center(column.effect, ctr_key_weights(column));
    } else if (spec.slope != 0) {
      for (size_t g = 0; g < keys; ++g)
        column.effect.push_back(static_cast<int16_t>(spec.slope * static_cast<int>(g)));
    }
    model.columns.push_back(std::move(column));
  }
  for (const CtrPairSpec& p : pair_specs) {
    const CtrPair pair{ctr_column_index(model, p.first), ctr_column_index(model, p.second),
                       p.weight};
    for (const size_t c : {pair.first, pair.second}) {
      auto& column = model.columns[c];
      // One sign per drawn key: a column with a site/app default value cannot be in a pair.
      if (column.group != CtrGroup::kNone)
        throw std::logic_error("ctr_synthetic: " + column.name + " cannot be in a planted pair");
      column.sign = ctr_balanced_signs(column.weights, random);
    }
    model.pairs.push_back(pair);
  }
  model.bias = model.avazu ? -48 : -52;
  model.app_row_threshold = (uint64_t{1} << 53) / 100 * kCtrAppRowPercent;
  model.id_key = random.next();
  model.click_threshold = ctr_click_thresholds();
  return model;
}

char* ctr_put_uint(char* p, uint64_t v) {
  char digits[20];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  while (n > 0)
    *p++ = digits[--n];
  return p;
}

char* ctr_put_two(char* p, uint32_t v) {
  *p++ = static_cast<char>('0' + v / 10);
  *p++ = static_cast<char>('0' + v % 10);
  return p;
}

// Where the bytes go: an ostream or a FILE.
class CtrSink {
 public:
  virtual ~CtrSink() = default;
  virtual void write(const char* data, size_t size) = 0;
};

CtrSyntheticSummary ctr_generate(const CtrSyntheticOptions& options, CtrSink& sink) {
  const CtrModel model = ctr_build(options.format, options.seed);
  CtrRandom random(ctr_mix64(options.seed ^ 0x6374722d726f7773ULL));
  CtrSyntheticSummary summary;
  std::vector<char> buffer(kCtrBufferSize);
  char* const begin = buffer.data();
  char* p = begin;
  const auto flush = [&] {
    sink.write(begin, static_cast<size_t>(p - begin));
    summary.bytes += p - begin;
    p = begin;
  };
  const char separator = model.avazu ? ',' : '\t';
  if (model.avazu) {
    const size_t size = std::strlen(kCtrAvazuHeader);
    std::memcpy(p, kCtrAvazuHeader, size);
    p += size;
  }
  const size_t n_columns = model.columns.size();
  std::vector<int64_t> value(n_columns);  // count, or value index; -1: missing
  std::vector<int32_t> key(n_columns);    // octave, or value index; -1: missing
  for (int64_t row = 0; row < options.rows; ++row) {
    int logit = model.bias;
    bool app_row = false;
    if (model.avazu)
      app_row = (random.next() >> 11) < model.app_row_threshold;
    for (size_t c = 0; c < n_columns; ++c) {
      const CtrColumn& column = model.columns[c];
      if (column.missing16 != 0 && (random.next() >> 48) < column.missing16) {
        value[c] = -1;
        key[c] = -1;
        continue;
      }
      uint32_t k;
      if ((column.group == CtrGroup::kSite && app_row) ||
          (column.group == CtrGroup::kApp && !app_row)) {
        k = static_cast<uint32_t>(column.token_size.size() - 1);
      } else {
        k = column.sampler.sample(random.next());
      }
      key[c] = static_cast<int32_t>(k);
      if (column.is_count) {
        const uint64_t low = k == 0 ? 0 : random.next() >> (64 - k);
        value[c] = static_cast<int64_t>((uint64_t{1} << k) - 1 + low);
      } else {
        value[c] = k;
      }
      if (!column.effect.empty())
        logit += column.effect[k];
    }
    for (const CtrPair& pair : model.pairs) {
      const int32_t a = key[pair.first];
      const int32_t b = key[pair.second];
      if (a >= 0 && b >= 0) {
        logit += pair.weight * model.columns[pair.first].sign[static_cast<size_t>(a)] *
                 model.columns[pair.second].sign[static_cast<size_t>(b)];
      }
    }
    logit = std::clamp(logit, -kCtrLogitLimit, kCtrLogitLimit);
    const bool click =
        (random.next() >> 11) < model.click_threshold[static_cast<size_t>(logit + kCtrLogitLimit)];
    summary.positives += click ? 1 : 0;

    if (model.avazu) {
      p = ctr_put_uint(p, ctr_mix64(static_cast<uint64_t>(row) + model.id_key));
      *p++ = ',';
      *p++ = click ? '1' : '0';
      *p++ = ',';
      // 240 hours, 2014-10-21 00h to 2014-10-30 23h, spread evenly over the rows.
      const auto hour = static_cast<uint32_t>(row * 240 / options.rows);
      *p++ = '1';
      *p++ = '4';
      *p++ = '1';
      *p++ = '0';
      p = ctr_put_two(p, 21 + hour / 24);
      p = ctr_put_two(p, hour % 24);
    } else {
      *p++ = click ? '1' : '0';
    }
    for (size_t c = 0; c < n_columns; ++c) {
      *p++ = separator;
      if (value[c] < 0)
        continue;
      const CtrColumn& column = model.columns[c];
      if (column.is_count) {
        p = ctr_put_uint(p, static_cast<uint64_t>(value[c]));
      } else {
        const auto k = static_cast<size_t>(value[c]);
        std::memcpy(p, column.tokens.data() + 8 * k, 8);
        p += column.token_size[k];
      }
    }
    *p++ = '\n';
    if (static_cast<size_t>(p - begin) > kCtrBufferSize - kCtrMaxRowBytes)
      flush();
  }
  flush();
  summary.rows = options.rows;
  return summary;
}

class CtrStreamSink : public CtrSink {
 public:
  explicit CtrStreamSink(std::ostream& out) : out_(out) {}
  void write(const char* data, size_t size) override {
    out_.write(data, static_cast<std::streamsize>(size));
    if (!out_)
      throw DataError("cannot write the synthetic CTR rows: the output stream failed");
  }

 private:
  std::ostream& out_;
};

struct CtrFileCloser {
  void operator()(std::FILE* f) const {
    if (f != nullptr)
      std::fclose(f);
  }
};

class CtrFileSink : public CtrSink {
 public:
  CtrFileSink(std::FILE* file, const std::string& path) : file_(file), path_(path) {}
  void write(const char* data, size_t size) override {
    if (std::fwrite(data, 1, size, file_) != size)
      throw DataError(fmt::format("{}: cannot write: {}", path_, std::strerror(errno)));
  }

 private:
  std::FILE* file_;
  const std::string& path_;
};

}  // namespace

CtrSyntheticSummary write_ctr_synthetic(const CtrSyntheticOptions& options, std::ostream& out) {
  ctr_check_options(options);
  CtrStreamSink sink(out);
  const auto summary = ctr_generate(options, sink);
  out.flush();
  if (!out)
    throw DataError("cannot write the synthetic CTR rows: the output stream failed");
  return summary;
}

CtrSyntheticSummary write_ctr_synthetic(const CtrSyntheticOptions& options,
                                        const std::string& path) {
  ctr_check_options(options);
  // Anything but a plain file (a device, a FIFO, a symbolic link such as /dev/stdout) is
  // written in place: a rename would replace it.
  std::error_code ec;
  if (std::filesystem::is_directory(std::filesystem::status(path, ec)))
    throw DataError(fmt::format("{}: is a directory, expected a file", path));
  const auto status = std::filesystem::symlink_status(path, ec);
  const bool in_place =
      std::filesystem::exists(status) && !std::filesystem::is_regular_file(status);
  const std::string target = in_place ? path : path + ".tmp";
  std::unique_ptr<std::FILE, CtrFileCloser> file(std::fopen(target.c_str(), "wb"));
  if (!file) {
    throw DataError(
        fmt::format("{}: cannot open {} for writing: {}", path, target, std::strerror(errno)));
  }
  CtrSyntheticSummary summary;
  try {
    CtrFileSink sink(file.get(), path);
    summary = ctr_generate(options, sink);
    // fclose flushes; a full disk shows up here, not in fwrite.
    if (std::fclose(file.release()) != 0)
      throw DataError(fmt::format("{}: cannot write: {}", path, std::strerror(errno)));
  } catch (...) {
    file.reset();
    if (!in_place)
      std::remove(target.c_str());
    throw;
  }
  if (!in_place && std::rename(target.c_str(), path.c_str()) != 0) {
    const std::string reason = std::strerror(errno);
    std::remove(target.c_str());
    throw DataError(fmt::format("{}: cannot rename {} to it: {}", path, target, reason));
  }
  return summary;
}

std::vector<CtrPlantedPair> ctr_planted_pairs(const std::string& format) {
  ctr_check_format(format);
  std::vector<CtrPlantedPair> out;
  for (const auto& p : format == "avazu" ? ctr_avazu_pairs() : ctr_criteo_pairs())
    out.push_back({p.first, p.second, static_cast<double>(p.weight) / kCtrLogitUnit});
  return out;
}

std::unordered_map<std::string, int> ctr_planted_signs(const CtrSyntheticOptions& options,
                                                       const std::string& column_name) {
  const CtrModel model = ctr_build(options.format, options.seed);
  const CtrColumn& column = model.columns[ctr_column_index(model, column_name)];
  std::unordered_map<std::string, int> signs;
  for (size_t k = 0; k < column.sign.size(); ++k) {
    const std::string name = column.is_count
                                 ? std::to_string(k)
                                 : std::string(column.tokens.data() + 8 * k, column.token_size[k]);
    signs[name] = column.sign[k];
  }
  return signs;
}

}  // namespace autoint::data
