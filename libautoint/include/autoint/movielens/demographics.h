// Display names of the MovieLens-1M user codes (gender, age group, occupation) as the
// ML-1M README defines them; shared by the data report and the recommender.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace autoint::data {

// The age codes of ML-1M in ascending order (users.dat's Age column): the one list the reader,
// the data report and the synthetic generator use.
constexpr std::array<int64_t, 7> kAgeCodes{1, 18, 25, 35, 45, 50, 56};

// kAgeCodes as a vector.
const std::vector<int64_t>& age_group_codes();
// True for one of kAgeCodes.
bool is_age_code(int64_t code);

// Occupation codes run 0..kNumOccupations-1.
constexpr int64_t kNumOccupations = 21;

// "Under 18", "18-24", ..., "56+"; any other code gives "unknown (<code>)".
std::string age_group_name(int64_t code);

// "other or not specified", "academic/educator", ..., "writer" for 0..20;
// any other code gives "unknown (<code>)".
std::string occupation_name(int64_t code);

// "female" for 'F', "male" for 'M'; any other character gives "unknown (<c>)".
std::string gender_name(char code);

}  // namespace autoint::data
