// encode_table: a table's columns encoded in place equal Vocabulary::fit + encode on the same
// rows, for random, ordered and given-vocabulary encodings, with and without multi-valued fields;
// encoded_row_order says where the rows went.
#include "autoint_catch.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "autoint/data/dataset.h"
#include "autoint/data/table/encoding.h"
#include "autoint/data/table/reader.h"
#include "autoint/data/vocabulary.h"

using namespace autoint;
using namespace autoint::data;

namespace {

TableField encoding_field(const std::string& name, FieldKind kind = FieldKind::categorical,
                          int64_t min_count = 1) {
  TableField f;
  f.name = name;
  f.kind = kind;
  f.min_count = min_count;
  return f;
}

// A table of `rows` rows: user, item, a categorical city (rare values), a numeric age (some
// missing), a multi-valued tags column (when `multi`) and a bucketized score.
std::string encoding_table(int rows, bool multi) {
  std::string text = multi ? "click,u,i,city,age,tags,score\n" : "click,u,i,city,age,score\n";
  for (int r = 0; r < rows; ++r) {
    text += std::to_string((r * 7) % 3 == 0) + ",u" + std::to_string(r % 17) + ",i" +
            std::to_string((r * 13) % 29) + ",c" + std::to_string((r * r) % 41) + "," +
            (r % 11 == 0 ? "" : std::to_string(r % 60) + ".25");
    if (multi)
      text += ",\"" + std::string(r % 5 == 0 ? "" : "x") + (r % 3 == 0 ? "|y|z" : "") + "\"";
    text += "," + std::to_string((r * 31) % 97) + "\n";
  }
  return text;
}

TableSchema encoding_schema(bool multi) {
  TableSchema s;
  s.label = "click";
  s.user = "u";
  s.item = "i";
  TableField score = encoding_field("score", FieldKind::numeric);
  score.transform = "bucketize";
  score.boundaries = {10, 50};
  s.fields = {encoding_field("city", FieldKind::categorical, 3),
              encoding_field("age", FieldKind::numeric), encoding_field("i")};
  if (multi) {
    TableField tags = encoding_field("tags", FieldKind::multi_categorical);
    s.fields.push_back(tags);
  }
  s.fields.push_back(score);
  return s;
}

TableColumns columns_of(const std::string& text, const TableSchema& schema) {
  std::istringstream in(text);
  return read_table_columns(in, "t.csv", schema);
}

// What the raw-features path makes of the same rows.
TensorDataset reference(const RawFeatures& raw, const Vocabulary& vocab,
                        const std::vector<int64_t>& rows) {
  const auto encoded = vocab.encode(raw, rows);
  TensorDataset d;
  d.features = encoded.ids;
  d.numeric = encoded.numeric;
  std::vector<float> labels;
  std::vector<int64_t> users, items;
  for (int64_t r : rows) {
    labels.push_back(raw.labels[static_cast<std::size_t>(r)]);
    users.push_back(raw.user_ids[static_cast<std::size_t>(r)]);
    items.push_back(raw.movie_ids[static_cast<std::size_t>(r)]);
  }
  d.labels = torch::tensor(labels);
  d.user_ids = torch::tensor(users, torch::kInt64);
  d.item_ids = torch::tensor(items, torch::kInt64);
  return d;
}

// The training and validation rows in table order (what encode_table fits on).
std::vector<int64_t> fitting_rows(const Split& split) {
  std::vector<int64_t> rows = split.train;
  rows.insert(rows.end(), split.validation.begin(), split.validation.end());
  std::sort(rows.begin(), rows.end());
  return rows;
}

// The rows encode_table leaves in each split, in order: train, validation, test.
Split encoded_split(const Split& split) {
  const std::vector<int64_t> order = encoded_row_order(split);
  const auto train = static_cast<std::ptrdiff_t>(split.train.size());
  const auto fit = train + static_cast<std::ptrdiff_t>(split.validation.size());
  return {{order.begin(), order.begin() + train},
          {order.begin() + train, order.begin() + fit},
          {order.begin() + fit, order.end()}};
}

void check_same(const TensorDataset& got, const TensorDataset& want) {
  REQUIRE(got.rows() == want.rows());
  CHECK(got.features.scalar_type() == torch::kInt32);
  CHECK(torch::equal(got.features.to(torch::kInt64), want.features));
  CHECK(torch::equal(got.numeric, want.numeric));
  CHECK(torch::equal(got.labels, want.labels));
  CHECK(got.ratings.is_same(got.labels));
  CHECK(torch::equal(got.user_ids, want.user_ids));
  CHECK(torch::equal(got.item_ids, want.item_ids));
}

}  // namespace

TEST_CASE("encode_table equals Vocabulary::fit and encode on the same rows", "[data][table]") {
  for (const bool multi : {false, true}) {
    for (const bool random : {true, false}) {
      CAPTURE(multi, random);
      const TableSchema schema = encoding_schema(multi);
      const std::string text = encoding_table(3000, multi);
      const TableColumns columns = columns_of(text, schema);
      const Split split = random ? split_rows(columns.rows(), 0.2, 0.1, 7)
                                 : Split{{0, 1, 2}, {3}, {}};  // replaced below
      Split used = split;
      if (!random) {  // in file order: nothing moves
        used = {};
        for (int64_t r = 0; r < columns.rows(); ++r)
          (r < 2000 ? used.train : r < 2400 ? used.validation : used.test).push_back(r);
      }
      const RawFeatures raw = to_raw_features(columns);
      std::vector<int64_t> min_counts;
      for (const auto& f : schema.fields)
        min_counts.push_back(f.min_count);
      const Vocabulary vocab = Vocabulary::fit(raw, fitting_rows(used), 2, nullptr, min_counts);
      const Split moved = encoded_split(used);
      if (!random)
        CHECK(moved.train == used.train);  // a split in table order stays in table order

      TableEncodingOptions options;
      options.min_counts = min_counts;
      options.max_width = 2;
      EncodedTable encoded = encode_table(TableColumns(columns), used, options);
      CHECK(encoded.vocabulary == vocab);
      check_same(encoded.train, reference(raw, vocab, moved.train));
      check_same(encoded.validation, reference(raw, vocab, moved.validation));
      check_same(encoded.test, reference(raw, vocab, moved.test));
      if (multi) {
        REQUIRE(encoded.notes.size() == 1);  // tags has 3 values in a row, max_width 2
        CHECK_THAT(encoded.notes[0], Catch::Contains("field tags has 3 values in its widest row "
                                                     "(row "));
      } else {
        CHECK(encoded.notes.empty());
      }
      // The splits are views of one buffer (no copies).
      CHECK(encoded.validation.features.data_ptr<int32_t>() ==
            encoded.train.features.data_ptr<int32_t>() +
                used.train.size() * static_cast<std::size_t>(encoded.train.features.size(1)));

      // A given vocabulary (a saved run's) encodes the same.
      options.vocabulary = &vocab;
      EncodedTable again = encode_table(TableColumns(columns), used, options);
      CHECK(again.vocabulary == vocab);
      CHECK(torch::equal(again.test.features, encoded.test.features));
      CHECK(torch::equal(again.test.numeric, encoded.test.numeric));
    }
  }
}

TEST_CASE("encode_table on a table without numeric fields, users or items", "[data][table]") {
  // The absent columns are empty buffers: nothing to move (a null memcpy before the fix).
  TableSchema schema;
  schema.label = "click";
  schema.fields = {encoding_field("city"), encoding_field("i")};
  const TableColumns columns = columns_of(encoding_table(500, false), schema);
  REQUIRE(columns.numeric.empty());
  REQUIRE(columns.user_ids.empty());
  const Split split = split_rows(columns.rows(), 0.2, 0.1, 3);
  const RawFeatures raw = to_raw_features(columns);
  const Vocabulary vocab = Vocabulary::fit(raw, fitting_rows(split));
  const EncodedTable encoded = encode_table(TableColumns(columns), split);
  CHECK(encoded.vocabulary == vocab);
  CHECK(torch::equal(encoded.test.features.to(torch::kInt64),
                     vocab.encode(raw, encoded_split(split).test).ids));
  CHECK(encoded.test.numeric.size(1) == 0);
  CHECK_FALSE(encoded.test.user_ids.defined());
  CHECK_FALSE(encoded.test.item_ids.defined());
}

TEST_CASE("encode_table refuses a split that is not a partition and another vocabulary",
          "[data][table]") {
  const TableSchema schema = encoding_schema(false);
  const TableColumns columns = columns_of(encoding_table(10, false), schema);
  CHECK_THROWS_WITH(encode_table(TableColumns(columns), Split{{0, 1, 2}, {}, {3}}),
                    Catch::Contains("the split lists 4 rows for a table of 10 rows"));
  CHECK_THROWS_WITH(
      encode_table(TableColumns(columns), Split{{0, 1, 2, 3, 4, 5, 6, 7, 8}, {}, {8}}),
      Catch::Contains("row 8 is out of range or listed twice"));
  CHECK_THROWS_WITH(
      encode_table(TableColumns(columns), Split{{0, 1, 2, 3, 4, 5, 6, 7, 8}, {}, {10}}),
      Catch::Contains("row 10 is out of range or listed twice"));
  TableColumns short_codes = columns;
  short_codes.codes.pop_back();
  CHECK_THROWS_WITH(encode_table(std::move(short_codes), split_rows(10, 0.2, 0.0, 1)),
                    Catch::Contains("the table's codes has"));
  TableColumns bad_code = columns;
  bad_code.codes[7] = 1000;  // row 3's second id field (3 per row)
  CHECK_THROWS_WITH(encode_table(TableColumns(bad_code), Split{{2, 0, 1, 3, 4, 5, 6, 7}, {8}, {9}}),
                    Catch::Contains("code 1000 of field i in row 3 is not in its dictionary"));
  TableEncodingOptions given;
  const Vocabulary fitted =
      encode_table(TableColumns(columns), split_rows(10, 0.2, 0.0, 1)).vocabulary;
  given.vocabulary = &fitted;
  CHECK_THROWS_WITH(encode_table(std::move(bad_code), split_rows(10, 0.2, 0.0, 1), given),
                    Catch::Contains("codes are not all in their fields' dictionaries"));
  TableSchema other = schema;
  other.fields.pop_back();
  const TableColumns fewer = columns_of(encoding_table(10, false), other);
  const Vocabulary vocab = Vocabulary::fit(to_raw_features(fewer), {0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
  TableEncodingOptions options;
  options.vocabulary = &vocab;
  CHECK_THROWS_WITH(encode_table(TableColumns(columns), split_rows(10, 0.2, 0.0, 1), options),
                    Catch::Contains("other fields than the vocabulary was fitted on"));
}

TEST_CASE("encode_table gives the same datasets on any number of threads", "[data][table]") {
  // The rows are moved with each thread swapping a share of every row's bytes, the fields are
  // counted and summed one thread per field group, and the codes are mapped per row range: the
  // result is that of one thread, bit for bit.
  for (const bool multi : {false, true}) {
    const TableSchema schema = encoding_schema(multi);
    const TableColumns columns = columns_of(encoding_table(2000, multi), schema);
    const Split split = split_rows(columns.rows(), 0.2, 0.1, 5);
    TableEncodingOptions options;
    options.max_width = 3;
    options.threads = 1;
    const EncodedTable one = encode_table(TableColumns(columns), split, options);
    for (const int threads : {2, 3, 7, 64}) {
      CAPTURE(multi, threads);
      options.threads = threads;
      const EncodedTable many = encode_table(TableColumns(columns), split, options);
      CHECK(many.vocabulary == one.vocabulary);
      CHECK(many.notes == one.notes);
      for (const auto& [a, b] :
           {std::pair{&many.train, &one.train}, std::pair{&many.validation, &one.validation},
            std::pair{&many.test, &one.test}}) {
        CHECK(torch::equal(a->features, b->features));
        CHECK(torch::equal(a->numeric, b->numeric));
        CHECK(torch::equal(a->labels, b->labels));
        CHECK(torch::equal(a->user_ids, b->user_ids));
        CHECK(torch::equal(a->item_ids, b->item_ids));
      }
    }
  }
}

TEST_CASE("encode_table on threads reports the first bad code in row order", "[data][table]") {
  // Fields i (id column 1) and score (id column 2) are counted on different threads; the bad
  // code of the earlier row is the one reported, whichever thread finds its own first.
  const TableSchema schema = encoding_schema(false);
  TableColumns columns = columns_of(encoding_table(10, false), schema);
  REQUIRE(columns.id_fields() == 3);
  columns.codes[2 * 3 + 1] = 1000;  // row 3, field i
  columns.codes[1 * 3 + 2] = 999;   // row 2, field score
  for (const int threads : {1, 3}) {
    CAPTURE(threads);
    TableEncodingOptions options;
    options.threads = threads;
    CHECK_THROWS_WITH(
        encode_table(TableColumns(columns), Split{{0, 1, 2, 3, 4, 5, 6, 7}, {8}, {9}}, options),
        Catch::Contains("code 999 of field score in row 2 is not in its dictionary"));
  }
}

TEST_CASE("encoded_row_order moves only the rows outside their split's region", "[data][table]") {
  const Split split = split_rows(1000, 0.2, 0.1, 9);
  const std::vector<int64_t> order = encoded_row_order(split);
  const Split moved = encoded_split(split);
  // Each region holds its split's rows.
  for (const auto& [got, want] :
       {std::pair{moved.train, split.train}, std::pair{moved.validation, split.validation},
        std::pair{moved.test, split.test}}) {
    std::vector<int64_t> a = got, b = want;
    std::sort(a.begin(), a.end());
    std::sort(b.begin(), b.end());
    CHECK(a == b);
  }
  // A row whose place is in its split's region is not moved; the others are.
  const std::size_t train_end = split.train.size();
  const std::size_t fit_end = train_end + split.validation.size();
  std::vector<int> part_of(1000);
  for (int64_t r : split.validation)
    part_of[static_cast<std::size_t>(r)] = 1;
  for (int64_t r : split.test)
    part_of[static_cast<std::size_t>(r)] = 2;
  std::size_t stayed = 0;
  for (std::size_t p = 0; p < order.size(); ++p) {
    const int region = p < train_end ? 0 : p < fit_end ? 1 : 2;
    if (part_of[p] == region) {
      CHECK(order[p] == static_cast<int64_t>(p));
      ++stayed;
    }
  }
  CHECK(stayed > 500);  // most of the training rows
  // Only which rows a list holds matters, not its order.
  Split shuffled = split;
  std::mt19937_64 rng(3);
  for (auto* list : {&shuffled.train, &shuffled.validation, &shuffled.test})
    std::shuffle(list->begin(), list->end(), rng);
  CHECK(encoded_row_order(shuffled) == order);
  CHECK_THROWS_WITH(encoded_row_order(Split{{0, 1}, {1}, {2}}),
                    Catch::Contains("row 1 is out of range or listed twice"));
}
