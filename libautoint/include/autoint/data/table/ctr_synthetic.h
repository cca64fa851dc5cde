// A seeded generator of CTR data files in the public Criteo and Avazu formats, with planted
// pairwise feature interactions that a first-order model (logistic regression) cannot use.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <unordered_map>
#include <vector>

namespace autoint::data {

struct CtrSyntheticOptions {
  std::string format = "criteo";  // "criteo" or "avazu"
  int64_t rows = 100000;
  uint64_t seed = 7;
};

// What a call wrote.
struct CtrSyntheticSummary {
  int64_t rows = 0;
  int64_t positives = 0;  // rows with label (click) 1
  int64_t bytes = 0;
};

// Writes `options.rows` rows to `out`.
//
// criteo: the Criteo Display Advertising Challenge train.txt layout: no header; a line per
//   row, 40 TAB-separated columns: label (0/1), I1..I13 (non-negative integer counts, empty
//   = missing), C1..C26 (8 lowercase hex digits, empty = missing).
//   Counts: count = 2^g - 1 + U[0, 2^g), the octave g = floor(log2(count + 1)) drawn from a
//   truncated geometric law per column (ratio 1/2 to 7/8, at most 2^25 - 1), so counts are
//   heavy-tailed and a log transform suits them. Missing: I1 40%, I2 10%, I3 20%, I4 20%,
//   I5 10%, I6 22%, I7 12%, I8 10%, I9 12%, I10 40%, I11 12%, I12 35%, I13 22%.
//   Categories: Zipf-like, P(rank k) ~ 1/(k + q), q from 1 to 10 (1/(k + 1)^2: C9, C20), with
//   cardinalities C1 1000, C2 500, C3 20000, C4 15000, C5 200, C6 18, C7 8000, C8 400, C9 3,
//   C10 10000, C11 4000, C12 20000, C13 3000, C14 27, C15 8000, C16 20000, C17 10, C18 4000,
//   C19 1500, C20 4, C21 20000, C22 15, C23 20, C24 12000, C25 80, C26 9000; the large ones
//   have many values seen fewer than 10 times in 100k rows. Missing: C3, C4, C12, C16, C21,
//   C24 3%; C6 12%; C19, C20, C25, C26 44%; C22 76%; the others never.
// avazu: the Avazu CTR train.csv layout: a header line
//   id,click,hour,C1,banner_pos,site_id,site_domain,site_category,app_id,app_domain,
//   app_category,device_id,device_ip,device_model,device_type,device_conn_type,C14,...,C21
//   then 24 comma-separated columns per row: id (a unique decimal uint64, mostly 19-20
//   digits), click (0/1), hour (YYMMDDHH from 14102100 to 14103023, nondecreasing in row
//   order, the rows spread evenly over the 240 hours), then 21 categorical tokens, none
//   missing: site_*, app_*, device_id, device_ip, device_model 8 hex digits; C1, banner_pos,
//   device_type, device_conn_type, C14..C21 small integers in Avazu's value ranges. 35% of
//   rows are app rows, whose site_id, site_domain, site_category are 85f751fd, c4e18dd6,
//   50e219e0; the others' app_id, app_domain, app_category are ecad2386, 7801e8d9, 07d7df22
//   (as in Avazu). Cardinalities: C1 7, banner_pos 7, site_id 4000, site_domain 5000,
//   site_category 26, app_id 8000, app_domain 500, app_category 36, device_id 20000,
//   device_ip 20000, device_model 5000, device_type 5, device_conn_type 4, C14 2600, C15 8,
//   C16 8, C17 435, C18 4, C19 68, C20 170, C21 60 (plus the defaults); Zipf-like as for
//   criteo (1/(k + 1)^2: C1, device_id, device_type, C15).
//
// Labels: click ~ Bernoulli(sigmoid(bias + first-order terms + pairwise terms)), with the
// logit in steps of 1/16, clamped to [-16, 16].
//   Pairwise (the planted interactions; see ctr_planted_pairs): each value v of a pair's
//   column a gets a sign s_a(v) = +-1, each value w of column b a sign s_b(w) = +-1, chosen
//   at random from the seed under the constraint that the signs of a column balance out
//   over its value frequencies (E[s_a] ~ 0, so the term has no first-order effect), and the
//   logit gets weight * s_a(v) * s_b(w); nothing when either is missing. For a count column
//   the sign is that of its octave floor(log2(count + 1)).
//     criteo: I2 x C1 1.5, C2 x C13 1.5, C5 x C8 2.0, C6 x C14 2.0, C17 x C23 1.75.
//     avazu: C18 x C21 2.0, banner_pos x C19 2.0, device_conn_type x C14 1.75,
//            C17 x device_model 1.5, C16 x C20 1.5.
//   First-order (what logistic regression can learn): each value of some columns gets an
//   effect drawn uniformly from {-12, ..., 12} / 16, then all shifted so that their mean over
//   the value frequencies is 0: criteo C3, C7, C9, C10, C11, C15, C20, C25; avazu C1, site_id,
//   site_category, app_id, app_category, device_type, C15 (the site/app defaults included);
//   criteo counts add slope * octave / 16: I1 +1, I5 -1, I9 +2.
//   Bias: -52/16 (criteo), -48/16 (avazu): the positive rate is 25-26% for any seed.
//   How much is learnable (250k rows, 80/20 split, values seen < 10 times pooled): logistic
//   regression on one-hot values reaches test AUC 0.55-0.57 (criteo), 0.54-0.56 (avazu); the
//   same with the 5 planted pairs' value crosses added 0.84-0.85 (criteo), 0.90 (avazu).
// Deterministic: the same options give the same bytes on every platform (std::mt19937_64's
// raw bits, integer arithmetic and a few basic IEEE operations; no libm, no std::
// distributions). Rows come at well over 300k per second on one core.
// Throws std::invalid_argument naming the option for rows < 1 or an unknown format, and
// autoint::DataError when `out` fails.
CtrSyntheticSummary write_ctr_synthetic(const CtrSyntheticOptions& options, std::ostream& out);

// Same, to the file `path`: written as path + ".tmp", then renamed (anything but a plain file,
// such as /dev/stdout, a FIFO or a symbolic link, is written in place). Throws autoint::DataError
// naming the path when it cannot be written (the .tmp file is removed).
CtrSyntheticSummary write_ctr_synthetic(const CtrSyntheticOptions& options,
                                        const std::string& path);

// One planted interaction: logit += weight * s_first(value) * s_second(value).
struct CtrPlantedPair {
  std::string first;   // column name as in the header (criteo: I1..I13, C1..C26)
  std::string second;  // a categorical column
  double weight = 0;
};

// The planted pairs of a format, in the order listed above. Throws std::invalid_argument
// for an unknown format.
std::vector<CtrPlantedPair> ctr_planted_pairs(const std::string& format);

// The planted signs (+1/-1) of the values of `column` in files written with `options`
// (rows does not matter), keyed by the value as written; for a count column keyed by its
// octave floor(log2(count + 1)) in decimal. Empty for a column in no planted pair. Throws
// std::invalid_argument for an unknown format or column.
std::unordered_map<std::string, int> ctr_planted_signs(const CtrSyntheticOptions& options,
                                                       const std::string& column);

}  // namespace autoint::data
