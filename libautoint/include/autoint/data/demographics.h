// Display names of the MovieLens-1M user codes (gender, age group, occupation) as the
// ML-1M README defines them; shared by the data report and the recommender.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace autoint::data {

// The age codes of ML-1M in ascending order: 1, 18, 25, 35, 45, 50, 56.
const std::vector<int64_t>& age_group_codes();

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
