// Grid expansion, skipping finished runs, and the results tables (CSV, Markdown, JSON).
#include "autoint/experiment/grid.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <unordered_map>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "autoint/error.h"
#include "autoint/experiment/experiment.h"
#include "autoint/experiment/run_dir.h"
#include "autoint/train/checkpoint.h"

namespace autoint::train {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

// A value as a directory-name fragment: "[64, 32]" -> "64-32", "0.2" stays.
std::string name_fragment(const std::string& value) {
  std::string out;
  for (char ch : value) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || ch == '.' || ch == '-' || ch == '_') {
      out += ch;
    } else if ((ch == ',' || ch == ' ') && !out.empty() && out.back() != '-') {
      out += '-';
    } else if (ch != '[' && ch != ']' && ch != ' ' && ch != ',') {
      out += '_';
    }
  }
  return out.empty() ? "_" : out;
}

// Column names for the axes: the key's last part unless two axes share it.
std::vector<std::string> short_names(const std::vector<config::GridAxis>& axes) {
  std::vector<std::string> out;
  for (const auto& axis : axes)
    out.push_back(axis.key.substr(axis.key.rfind('.') + 1));
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (std::count(out.begin(), out.end(), out[i]) > 1) {
      const std::string shared = out[i];
      for (std::size_t j = 0; j < out.size(); ++j) {
        if (out[j] == shared)
          out[j] = axes[j].key;
      }
    }
  }
  return out;
}

Json read_json_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw RunError(fmt::format("{}: cannot open", path.string()));
  try {
    return Json::parse(in);
  } catch (const Json::exception& e) {
    throw RunError(fmt::format("{}: not valid JSON: {}", path.string(), e.what()));
  }
}

// The config as YAML without output.dir, so that a grid directory that was moved (or a
// run copied in from elsewhere) still matches.
std::string config_identity(config::Config config) {
  config.output.dir.clear();
  return config::to_yaml(config);
}

// The run directory was started with this point's config and has a checkpoint: an
// interrupted run that can continue where it stopped rather than start again.
bool resumable(const GridPoint& point) {
  const fs::path dir = point.config.output.dir;
  const fs::path saved = dir / run_files::kConfig;
  return fs::exists(saved) && !latest_checkpoint(dir.string()).empty() &&
         config_identity(config::load_config(saved.string())) == config_identity(point.config);
}

// A run directory holds a finished run when its metrics.json (written last, atomically)
// parses; returns it then. Its config must be the point's: a changed grid must not reuse
// old results.
std::optional<Json> finished_metrics(const GridPoint& point) {
  const fs::path dir = point.config.output.dir;
  const fs::path metrics_path = dir / run_files::kMetrics;
  if (!fs::exists(metrics_path))
    return std::nullopt;
  Json metrics;
  try {
    metrics = read_json_file(metrics_path);
  } catch (const RunError&) {
    return std::nullopt;
  }
  const fs::path saved = dir / run_files::kConfig;
  if (!fs::exists(saved) ||
      config_identity(config::load_config(saved.string())) != config_identity(point.config)) {
    throw RunError(fmt::format(
        "{}: holds a finished run whose config differs from this grid's {} (the grid or its "
        "base config changed); remove the directory or choose another output.dir",
        dir.string(), point.name));
  }
  return metrics;
}

// One finished run's figures, from its metrics.json.
struct RunRow {
  bool done = false;
  std::vector<std::pair<std::string, double>> metrics;  // in file order
  double epochs_run = 0;
  double best_epoch = 0;
  double train_seconds = 0;
  double total_seconds = 0;
  Json baselines;
};

RunRow read_row(const Json& m) {
  RunRow row;
  row.done = true;
  for (const auto& [key, value] : m.items()) {
    if (value.is_number() && key != "users" && key != "test_rows")
      row.metrics.emplace_back(key, value.get<double>());
  }
  if (m.contains("full_ranking")) {
    for (const auto& [key, value] : m["full_ranking"]["model"].items())
      row.metrics.emplace_back("full_" + key, value.get<double>());
  }
  const Json& run = m.at("run");
  row.epochs_run = run.value("epochs_run", 0.0);
  row.best_epoch = run.value("best_epoch", 0.0);
  row.train_seconds = run.value("train_seconds", 0.0);
  row.total_seconds = run.value("total_seconds", 0.0);
  row.baselines = m.value("baselines", Json::object());
  return row;
}

std::string cell(const MeanStd& s, int decimals) {
  if (s.n == 0)
    return "pending";
  if (s.n == 1)
    return fmt::format("{:.{}f}", s.mean, decimals);
  return fmt::format("{:.{}f} ± {:.{}f}", s.mean, decimals, s.std, decimals);
}

std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\n") == std::string::npos)
    return text;
  std::string out = "\"";
  for (char c : text)
    out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

void write_results(const config::Config& config, const std::string& origin,
                   const std::vector<GridPoint>& points, const std::vector<RunRow>& rows,
                   GridSummary& summary) {
  const fs::path dir = config.output.dir;
  const auto names = short_names(config.grid);
  std::vector<std::string> metric_keys;
  Json baselines;
  for (const auto& row : rows) {
    if (row.done && metric_keys.empty()) {
      for (const auto& [key, value] : row.metrics)
        metric_keys.push_back(key);
      baselines = row.baselines;
    }
  }
  auto metric = [](const RunRow& row, const std::string& key) {
    for (const auto& [k, v] : row.metrics) {
      if (k == key)
        return v;
    }
    return std::nan("");
  };

  // results.csv: one row per run.
  std::string csv = "run";
  for (const auto& axis : config.grid)
    csv += "," + csv_field(axis.key);
  csv += ",seed,finished";
  for (const auto& key : metric_keys)
    csv += "," + key;
  csv += ",epochs_run,best_epoch,train_seconds,total_seconds\n";
  for (std::size_t i = 0; i < points.size(); ++i) {
    const auto& p = points[i];
    const auto& row = rows[i];
    csv += csv_field(p.name);
    for (const auto& [key, value] : p.settings)
      csv += "," + csv_field(value);
    csv += fmt::format(",{},{}", p.config.train.seed, row.done ? "yes" : "no");
    for (const auto& key : metric_keys)
      csv += row.done ? fmt::format(",{:.6f}", metric(row, key)) : ",";
    csv += row.done ? fmt::format(",{},{},{:.2f},{:.2f}\n", row.epochs_run, row.best_epoch,
                                  row.train_seconds, row.total_seconds)
                    : ",,,,\n";
  }

  // Per combination: mean and standard deviation over its finished repeats.
  std::map<int64_t, std::vector<std::size_t>> by_combination;
  for (std::size_t i = 0; i < points.size(); ++i)
    by_combination[points[i].combination].push_back(i);
  auto stats = [&](const std::vector<std::size_t>& members, auto value) {
    std::vector<double> values;
    for (std::size_t i : members) {
      if (rows[i].done)
        values.push_back(value(rows[i]));
    }
    return mean_std(values);
  };

  std::string table = "|";
  for (const auto& name : names)
    table += " " + name + " |";
  for (const auto& key : metric_keys)
    table += " " + key + " |";
  table += " runs | epochs run | wall s |\n|";
  for (std::size_t c = 0; c < names.size() + metric_keys.size() + 3; ++c)
    table += " --- |";
  table += "\n";
  Json combinations = Json::array();
  for (const auto& [combination, members] : by_combination) {
    const GridPoint& first = points[members.front()];
    Json entry;
    Json settings = Json::object();
    table += "|";
    for (const auto& [key, value] : first.settings) {
      table += " " + value + " |";
      settings[key] = value;
    }
    entry["settings"] = settings;
    Json metrics = Json::object();
    for (const auto& key : metric_keys) {
      const MeanStd s = stats(members, [&](const RunRow& r) { return metric(r, key); });
      table += " " + cell(s, 4) + " |";
      metrics[key] = {{"mean", s.mean}, {"std", s.std}, {"n", s.n}};
    }
    const MeanStd epochs = stats(members, [](const RunRow& r) { return r.epochs_run; });
    const MeanStd wall = stats(members, [](const RunRow& r) { return r.total_seconds; });
    int64_t done = 0;
    for (std::size_t i : members)
      done += rows[i].done ? 1 : 0;
    table +=
        fmt::format(" {}/{} | {} | {} |\n", done, members.size(), cell(epochs, 1), cell(wall, 1));
    entry["runs"] = done;
    entry["metrics"] = metrics;
    entry["epochs_run"] = {{"mean", epochs.mean}, {"std", epochs.std}, {"n", epochs.n}};
    entry["total_seconds"] = {{"mean", wall.mean}, {"std", wall.std}, {"n", wall.n}};
    combinations.push_back(entry);
  }
  summary.table = table;

  std::string md = "# Grid results\n\n";
  md += fmt::format(
      "Config: `{}`; {} combination(s) x {} repeat(s) (seeds train.seed + 0..{}); {} of {} runs "
      "finished. Each cell is the mean ± sample standard deviation over the finished repeats; "
      "metrics on the test split (`seed_*`: the seed's formulas; `full_*`: full ranking); wall "
      "time per run includes loading and evaluation. Per-run figures: `results.csv`.\n\n",
      origin, by_combination.size(), config.repeats, config.repeats - 1,
      summary.trained + summary.skipped, points.size());
  md += table;
  if (baselines.is_object() && !baselines.empty()) {
    md += "\n## Baselines (same split and protocol; from the first finished run)\n\n| baseline |";
    std::vector<std::string> keys;
    for (const auto& [name, values] : baselines.items()) {
      for (const auto& [key, v] : values.items()) {
        if (key != "users" && key != "test_rows" &&
            std::find(keys.begin(), keys.end(), key) == keys.end())
          keys.push_back(key);
      }
    }
    for (const auto& key : keys)
      md += " " + key + " |";
    md += "\n| --- |";
    for (std::size_t i = 0; i < keys.size(); ++i)
      md += " --- |";
    md += "\n";
    for (const auto& [name, values] : baselines.items()) {
      md += "| " + name + " |";
      for (const auto& key : keys)
        md += values.contains(key) ? fmt::format(" {:.4f} |", values[key].get<double>()) : " |";
      md += "\n";
    }
  }

  Json out;
  out["config"] = origin;
  Json grid = Json::object();
  for (const auto& axis : config.grid)
    grid[axis.key] = axis.values;
  out["grid"] = grid;
  out["repeats"] = config.repeats;
  Json runs = Json::array();
  for (std::size_t i = 0; i < points.size(); ++i) {
    Json r;
    r["name"] = points[i].name;
    Json settings = Json::object();
    for (const auto& [key, value] : points[i].settings)
      settings[key] = value;
    r["settings"] = settings;
    r["seed"] = points[i].config.train.seed;
    r["finished"] = rows[i].done;
    if (rows[i].done) {
      Json metrics = Json::object();
      for (const auto& [key, value] : rows[i].metrics)
        metrics[key] = value;
      r["metrics"] = metrics;
      r["epochs_run"] = rows[i].epochs_run;
      r["best_epoch"] = rows[i].best_epoch;
      r["train_seconds"] = rows[i].train_seconds;
      r["total_seconds"] = rows[i].total_seconds;
    }
    runs.push_back(r);
  }
  out["runs"] = runs;
  out["combinations"] = combinations;
  out["baselines"] = baselines.is_null() ? Json::object() : baselines;

  util::write_file_atomically((dir / "results.csv").string(), csv);
  util::write_file_atomically((dir / "results.md").string(), md);
  util::write_file_atomically((dir / "results.json").string(), out.dump(2) + "\n");
}

}  // namespace

MeanStd mean_std(const std::vector<double>& values) {
  MeanStd s;
  s.n = static_cast<int64_t>(values.size());
  if (values.empty())
    return s;
  for (double v : values)
    s.mean += v;
  s.mean /= static_cast<double>(values.size());
  if (values.size() > 1) {
    double squares = 0;
    for (double v : values)
      squares += (v - s.mean) * (v - s.mean);
    s.std = std::sqrt(squares / static_cast<double>(values.size() - 1));
  }
  return s;
}

std::vector<GridPoint> expand_grid(const config::Config& config, const std::string& origin) {
  const auto names = short_names(config.grid);
  // The size is checked before anything is expanded (and without overflowing int64).
  int64_t combinations = 1;
  for (const auto& axis : config.grid) {
    if (axis.values.empty())
      throw ConfigError(
          fmt::format("{}: grid.{} must be a non-empty list of values", origin, axis.key));
    const auto size = static_cast<int64_t>(axis.values.size());
    if (combinations > config.max_runs / size / config.repeats) {
      std::vector<std::string> sizes;
      for (const auto& a : config.grid)
        sizes.push_back(std::to_string(a.values.size()));
      throw ConfigError(fmt::format(
          "{}: the grid has {} combinations x {} repeats, more than max_runs {}; shorten its "
          "axes or raise max_runs",
          origin, fmt::join(sizes, " x "), config.repeats, config.max_runs));
    }
    combinations *= size;
  }
  if (config.repeats > config.max_runs) {
    throw ConfigError(fmt::format("{}: repeats {} is more than max_runs {}", origin, config.repeats,
                                  config.max_runs));
  }
  config::Config base = config;
  base.grid.clear();
  base.repeats = 1;
  std::vector<GridPoint> points;
  points.reserve(static_cast<std::size_t>(combinations * config.repeats));
  std::unordered_map<std::string, std::size_t> name_index;  // run directory name -> point
  for (int64_t c = 0; c < combinations; ++c) {
    std::vector<std::pair<std::string, std::string>> settings;
    std::vector<std::string> overrides, parts;
    int64_t rest = c;
    std::vector<std::size_t> index(config.grid.size());
    for (std::size_t a = config.grid.size(); a-- > 0;) {
      const auto size = static_cast<int64_t>(config.grid[a].values.size());
      index[a] = static_cast<std::size_t>(rest % size);
      rest /= size;
    }
    for (std::size_t a = 0; a < config.grid.size(); ++a) {
      const auto& axis = config.grid[a];
      const std::string& value = axis.values[index[a]];
      settings.emplace_back(axis.key, value);
      overrides.push_back(axis.key + "=" + value);
      parts.push_back(names[a] + "=" + name_fragment(value));
    }
    const config::Config combined = config::with_overrides(
        base, overrides,
        fmt::format("{} (grid combination {})", origin, fmt::join(overrides, ", ")));
    for (int64_t r = 0; r < config.repeats; ++r) {
      GridPoint point;
      point.settings = settings;
      point.combination = c;
      point.repeat = r;
      point.config = combined;
      point.config.train.seed = combined.train.seed + r;
      std::vector<std::string> name_parts = parts;
      if (config.repeats > 1)
        name_parts.push_back(fmt::format("seed={}", point.config.train.seed));
      point.name =
          name_parts.empty() ? std::string("run") : fmt::format("{}", fmt::join(name_parts, ","));
      point.config.output.dir = (fs::path(config.output.dir) / point.name).string();
      const auto [it, added] = name_index.emplace(point.name, points.size());
      if (!added) {
        const GridPoint& other = points[it->second];
        throw ConfigError(fmt::format(
            "{}: grid values {} and {} give the same run directory name {}; make them "
            "differ in letters or digits",
            origin, fmt::join(other.settings, " "), fmt::join(point.settings, " "), point.name));
      }
      points.push_back(std::move(point));
    }
  }
  return points;
}

GridSummary run_grid(const config::Config& config, const std::string& origin,
                     std::ostream& console) {
  const std::vector<GridPoint> points = expand_grid(config, origin);
  GridSummary summary;
  summary.dir = config.output.dir;
  summary.runs = static_cast<int64_t>(points.size());
  check_output_dir(config.output.dir, OutputKind::grid);
  prepare_run_dir(config.output.dir);
  const RunLock lock(config.output.dir);
  util::write_file_atomically((fs::path(config.output.dir) / run_files::kGridConfig).string(),
                              config::to_yaml(config));
  std::vector<RunRow> rows(points.size());
  // First pass: what is finished already (so the tables are complete from the start).
  for (std::size_t i = 0; i < points.size(); ++i) {
    if (const auto metrics = finished_metrics(points[i])) {
      rows[i] = read_row(*metrics);
      ++summary.skipped;
    }
  }
  console << fmt::format("grid {}: {} runs, {} finished before\n", config.output.dir, points.size(),
                         summary.skipped);
  write_results(config, origin, points, rows, summary);
  for (std::size_t i = 0; i < points.size(); ++i) {
    if (rows[i].done)  // finished before this call
      continue;
    const bool resume = resumable(points[i]);
    console << fmt::format("=== grid run {}/{}: {}{} ===\n", i + 1, points.size(), points[i].name,
                           resume ? " (resuming from its last checkpoint)" : "");
    run_experiment(points[i].config, console, RunOptions{resume, {}});
    rows[i] = read_row(read_json_file(fs::path(points[i].config.output.dir) / run_files::kMetrics));
    ++summary.trained;
    write_results(config, origin, points, rows, summary);
  }
  console << "grid results (" << (fs::path(config.output.dir) / "results.md").string() << "):\n"
          << summary.table;
  return summary;
}

}  // namespace autoint::train

namespace autoint::train {
namespace {

// The runs behind one row of a results table (a grid's repeats in seed order).
struct TableRow {
  std::string label;
  std::vector<RunRow> runs;
  bool baseline = false;
};

std::vector<TableRow> source_rows(const TableSource& source) {
  const fs::path dir = source.dir;
  if (fs::exists(dir / "results.json")) {
    const Json results = read_json_file(dir / "results.json");
    std::vector<TableRow> rows;
    std::map<std::string, std::size_t> row_of;  // settings text -> row
    for (const auto& run : results.at("runs")) {
      const std::string name = run.at("name").get<std::string>();
      if (!run.at("finished").get<bool>()) {
        throw RunError(fmt::format(
            "{}: run {} is not finished; rerun the grid's config with autoint-train first",
            dir.string(), name));
      }
      std::vector<std::string> parts;
      for (const auto& [key, value] : run.at("settings").items())
        parts.push_back(key.substr(key.rfind('.') + 1) + " " + value.get<std::string>());
      const std::string settings = fmt::format("{}", fmt::join(parts, ", "));
      const auto [it, added] = row_of.emplace(settings, rows.size());
      if (added) {
        TableRow row;
        row.label = parts.empty() ? source.label : source.label + " (" + settings + ")";
        rows.push_back(row);
      }
      rows[it->second].runs.push_back(read_row(read_json_file(dir / name / run_files::kMetrics)));
    }
    if (rows.empty())
      throw RunError(fmt::format("{}: the grid has no runs", dir.string()));
    return rows;
  }
  if (fs::exists(dir / run_files::kMetrics)) {
    TableRow row;
    row.label = source.label;
    row.runs.push_back(read_row(read_json_file(dir / run_files::kMetrics)));
    return {row};
  }
  throw RunError(
      fmt::format("{}: neither a finished run (no {}) nor a grid directory (no results.json)",
                  dir.string(), run_files::kMetrics));
}

// One row per baseline of the first run in `dir` (a run or a grid directory).
std::vector<TableRow> baseline_rows(const std::string& dir) {
  fs::path metrics_path = fs::path(dir) / run_files::kMetrics;
  if (fs::exists(fs::path(dir) / "results.json")) {
    const Json results = read_json_file(fs::path(dir) / "results.json");
    if (!results.contains("runs") || results["runs"].empty())
      throw RunError(fmt::format("{}: the grid has no runs", dir));
    metrics_path = fs::path(dir) / results["runs"][0].value("name", "") / run_files::kMetrics;
  }
  const Json m = read_json_file(metrics_path);
  std::vector<TableRow> rows;
  Json baselines = m.value("baselines", Json::object());
  // Full ranking also has baselines of its own (item_knn, ease): rows with full_* only.
  if (m.contains("full_ranking")) {
    for (const auto& [name, values] : m["full_ranking"]["baselines"].items()) {
      if (!baselines.contains(name))
        baselines[name] = Json::object();
    }
  }
  for (const auto& [name, values] : baselines.items()) {
    TableRow row;
    row.label = name;
    row.baseline = true;
    RunRow run;
    run.done = true;
    for (const auto& [key, value] : values.items()) {
      if (value.is_number() && key != "users" && key != "test_rows")
        run.metrics.emplace_back(key, value.get<double>());
    }
    if (m.contains("full_ranking") && m["full_ranking"]["baselines"].contains(name)) {
      for (const auto& [key, value] : m["full_ranking"]["baselines"][name].items())
        run.metrics.emplace_back("full_" + key, value.get<double>());
    }
    row.runs.push_back(run);
    rows.push_back(row);
  }
  if (rows.empty())
    throw RunError(fmt::format("{}: no baselines in {}", dir, metrics_path.string()));
  return rows;
}

const std::vector<std::string> kEpochColumns = {"epochs_run", "best_epoch", "epochs_by_seed"};

std::string table_cell(const TableRow& row, const std::string& column) {
  if (row.baseline &&
      std::find(kEpochColumns.begin(), kEpochColumns.end(), column) != kEpochColumns.end())
    return "—";
  if (column == "epochs_by_seed") {
    std::vector<std::string> parts;
    for (const auto& run : row.runs)
      parts.push_back(fmt::format("{} of {}", run.best_epoch, run.epochs_run));
    return fmt::format("{}", fmt::join(parts, ", "));
  }
  std::vector<double> values;
  for (const auto& run : row.runs) {
    if (column == "epochs_run" || column == "best_epoch") {
      values.push_back(column == "epochs_run" ? run.epochs_run : run.best_epoch);
      continue;
    }
    for (const auto& [key, value] : run.metrics) {
      if (key == column)
        values.push_back(value);
    }
  }
  if (values.empty())
    return "—";
  const bool epochs = column == "epochs_run" || column == "best_epoch";
  return cell(mean_std(values), epochs ? 1 : 4);
}

std::string escape_cell(const std::string& text) {
  std::string out;
  for (char ch : text)
    out += ch == '|' ? std::string("\\|") : std::string(1, ch);
  return out;
}

}  // namespace

std::string results_table(const std::vector<TableSource>& sources,
                          const std::vector<std::string>& baseline_dirs,
                          const std::vector<std::string>& columns) {
  std::vector<TableRow> rows;
  // A metrics.json or results.json without the fields autoint-train writes.
  const auto malformed = [](const std::string& dir, const Json::exception& e) {
    return RunError(
        fmt::format("{}: not a run or grid written by autoint-train: {}", dir, e.what()));
  };
  for (const auto& source : sources) {
    try {
      for (auto& row : source_rows(source))
        rows.push_back(std::move(row));
    } catch (const Json::exception& e) {
      throw malformed(source.dir, e);
    }
  }
  for (const auto& dir : baseline_dirs) {
    try {
      for (auto& row : baseline_rows(dir))
        rows.push_back(std::move(row));
    } catch (const Json::exception& e) {
      throw malformed(dir, e);
    }
  }
  if (rows.empty())
    throw ConfigError("results table: no runs given (one run or grid directory at least)");
  if (columns.empty())
    throw ConfigError("results table: no columns given (e.g. auc,logloss)");
  std::vector<std::string> known = kEpochColumns;
  for (const auto& row : rows) {
    for (const auto& run : row.runs) {
      for (const auto& [key, value] : run.metrics) {
        if (std::find(known.begin(), known.end(), key) == known.end())
          known.push_back(key);
      }
    }
  }
  for (const auto& column : columns) {
    if (std::find(known.begin(), known.end(), column) == known.end()) {
      throw ConfigError(fmt::format("results table: unknown column {}; these runs have: {}",
                                    quoted_value(column), fmt::join(known, ", ")));
    }
  }
  std::string table = "| run |";
  for (const auto& column : columns)
    table += " " + escape_cell(column) + " |";
  table += "\n| --- |";
  for (std::size_t i = 0; i < columns.size(); ++i)
    table += " --- |";
  table += "\n";
  for (const auto& row : rows) {
    table += "| " + escape_cell(row.label) + " |";
    for (const auto& column : columns)
      table += " " + table_cell(row, column) + " |";
    table += "\n";
  }
  return table;
}

}  // namespace autoint::train
