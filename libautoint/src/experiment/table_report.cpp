// Reading and encoding a table, measured.
#include "autoint/experiment/table_report.h"

#include <chrono>

#include <fmt/format.h>

#include "autoint/error.h"
#include "autoint/experiment/pipeline.h"
#include "autoint/util/clock.h"
#include "autoint/util/parallel.h"

namespace autoint::train {

TableReport measure_table(const config::DataConfig& config) {
  if (config.source != "table") {
    throw ConfigError(
        fmt::format("data.source is {}; only data.source table is read as a table", config.source));
  }
  TableReport report;
  const auto start = util::Clock::now();
  data::TableInfo info;
  data::TableColumns columns = load_table(config, info);
  report.read_seconds = util::seconds_since(start);
  report.rows = columns.rows();
  report.fields = static_cast<int64_t>(columns.fields.size());
  report.threads = static_cast<int>(util::thread_count(0));  // the reader's default
  report.raw_bytes = static_cast<double>(
      columns.codes.size() * sizeof(int32_t) + columns.numeric.size() * sizeof(float) +
      columns.labels.size() * sizeof(float) +
      (columns.user_ids.size() + columns.item_ids.size()) * sizeof(int64_t));
  const data::PreparedData prepared = prepare_table(std::move(columns), info, config);
  report.encode_seconds = prepared.featurize_seconds;
  report.train_rows = prepared.train.rows();
  report.validation_rows = prepared.validation.rows();
  report.test_rows = prepared.test.rows();
  report.cardinalities = prepared.vocabulary.cardinalities();
  for (const auto* d : {&prepared.train, &prepared.validation, &prepared.test}) {
    // A table's ratings are its labels (one tensor): counted once.
    const torch::Tensor ratings = d->ratings.is_same(d->labels) ? torch::Tensor() : d->ratings;
    for (const auto& t : {d->features, d->labels, d->user_ids, d->item_ids, ratings, d->numeric}) {
      if (t.defined())
        report.encoded_bytes += static_cast<double>(t.numel() * t.element_size());
    }
  }
  report.notes = prepared.notes;
  return report;
}

}  // namespace autoint::train
