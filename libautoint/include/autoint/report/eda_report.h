// The exploratory data analysis as a Markdown report with SVG charts (autoint-data stats).
#pragma once

#include <string>

#include "autoint/report/stats.h"

namespace autoint::data {

// Writes `out_dir`/README.md and the SVG charts it shows (relative links, so the folder
// renders as is on a Git host), creating `out_dir` if needed. Only aggregate figures
// are written. `data_label` names the data set in the title; `preamble` is Markdown put
// under the title (provenance notes, the generating command); may be empty.
// Throws DataError naming the path on I/O failure.
void write_eda_report(const DatasetStats& stats, const std::string& out_dir,
                      const std::string& data_label, const std::string& preamble = "");

}  // namespace autoint::data
