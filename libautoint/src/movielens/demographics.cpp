// Names of the ML-1M user codes, verbatim from the ML-1M README.
#include "autoint/movielens/demographics.h"

#include <algorithm>
#include <array>

namespace autoint::data {
namespace {

std::string unknown(const std::string& code) {
  return "unknown (" + code + ")";
}

}  // namespace

const std::vector<int64_t>& age_group_codes() {
  static const std::vector<int64_t> codes(kAgeCodes.begin(), kAgeCodes.end());
  return codes;
}

bool is_age_code(int64_t code) {
  return std::find(kAgeCodes.begin(), kAgeCodes.end(), code) != kAgeCodes.end();
}

std::string age_group_name(int64_t code) {
  switch (code) {
    case 1:
      return "Under 18";
    case 18:
      return "18-24";
    case 25:
      return "25-34";
    case 35:
      return "35-44";
    case 45:
      return "45-49";
    case 50:
      return "50-55";
    case 56:
      return "56+";
    default:
      return unknown(std::to_string(code));
  }
}

std::string occupation_name(int64_t code) {
  static const std::array<const char*, kNumOccupations> names{"other or not specified",
                                                              "academic/educator",
                                                              "artist",
                                                              "clerical/admin",
                                                              "college/grad student",
                                                              "customer service",
                                                              "doctor/health care",
                                                              "executive/managerial",
                                                              "farmer",
                                                              "homemaker",
                                                              "K-12 student",
                                                              "lawyer",
                                                              "programmer",
                                                              "retired",
                                                              "sales/marketing",
                                                              "scientist",
                                                              "self-employed",
                                                              "technician/engineer",
                                                              "tradesman/craftsman",
                                                              "unemployed",
                                                              "writer"};
  if (code < 0 || code >= kNumOccupations)
    return unknown(std::to_string(code));
  return names[static_cast<size_t>(code)];
}

std::string gender_name(char code) {
  if (code == 'F')
    return "female";
  if (code == 'M')
    return "male";
  return unknown(std::string(1, code));
}

}  // namespace autoint::data
