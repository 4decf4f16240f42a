// `flowscope store`'s computations and reports over the engine (store_admin.h).
#include "store/store_admin.h"

#include <algorithm>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/field_registry.h"

namespace flowscope::store {
namespace {

std::string time_text(std::int64_t ms) { return format_time(time_from_ms(ms)); }

}  // namespace

std::vector<PartitionStats> level_totals(const std::vector<PartitionStats>& parts) {
  std::map<std::pair<int, std::string>, std::pair<PartitionStats, std::uint64_t>> totals;
  for (const auto& p : parts) {
    auto& [t, count] = totals[{static_cast<int>(p.level), p.view}];
    if (count++ == 0) {
      t = p;
    } else {
      t.segments += p.segments;
      t.rows += p.rows;
      t.bytes += p.bytes;
      t.min_time = std::min(t.min_time, p.min_time);
      t.max_time = std::max(t.max_time, p.max_time);
    }
  }
  std::vector<PartitionStats> out;
  out.reserve(totals.size());
  for (auto& [key, total] : totals) {
    out.push_back(std::move(total.first));
    out.back().partition = std::to_string(total.second);
  }
  return out;
}

std::vector<std::string> stats_table_row(const PartitionStats& p, const std::string& partition) {
  return {std::string(level_name(p.level)),
          p.view.empty() ? "-" : p.view,
          partition,
          std::to_string(p.segments),
          std::to_string(p.rows),
          std::to_string(p.bytes),
          p.rows ? fmt::format("{:.1f}", double(p.bytes) / double(p.rows)) : "-",
          time_text(p.min_time),
          time_text(p.max_time)};
}

std::string stats_json(const EmbeddedStore& store) {
  const auto parts = store.partition_stats();
  const auto snap = store.snapshot();
  nlohmann::json j;
  j["partitions"] = nlohmann::json::array();
  for (const auto& p : parts) {
    j["partitions"].push_back({{"level", level_name(p.level)},
                               {"view", p.view},
                               {"partition", p.partition},
                               {"segments", p.segments},
                               {"rows", p.rows},
                               {"bytes", p.bytes},
                               {"first", time_text(p.min_time)},
                               {"last", time_text(p.max_time)}});
  }
  j["wal"] = {{"bytes", store.wal_bytes()}, {"rows", snap->tail_rows}};
  j["damaged"] = nlohmann::json::array();
  for (const auto& bad : snap->bad_segments) j["damaged"].push_back(bad.error.message);
  return j.dump(2);
}

void write_store_config(const StoreConfig& config, std::ostream& out) {
  for (const auto& v : config.rollups) {
    std::string keys;
    for (FieldId id : v.keys) {
      if (!keys.empty()) keys += ',';
      keys += field_info(id).name;
    }
    out << "rollup " << v.name << ": " << keys << '\n';
  }
  for (Level level : kLevels) {
    const std::int64_t ms = config.keep_ms[static_cast<std::size_t>(level)];
    out << "keep " << level_name(level) << ": "
        << (ms > 0 ? format_duration(DurationMs(ms)) : std::string("forever")) << '\n';
  }
}

Result<std::pair<Level, DurationMs>> parse_keep_spec(std::string_view spec) {
  const auto eq = spec.find('=');
  auto level = parse_level(spec.substr(0, eq));
  auto keep = eq == std::string_view::npos ? Result<DurationMs>(Error{ErrorCode::Parse, ""})
                                           : parse_duration(spec.substr(eq + 1));
  if (!level || !keep) {
    return Error{ErrorCode::Parse,
                 fmt::format("\"{}\" is not LEVEL=DURATION; use e.g. raw=7d, 1m=30d", spec)};
  }
  return std::pair{*level, *keep};
}

Result<StoreConfig> read_store_config(const std::filesystem::path& dir) {
  if (!std::filesystem::is_directory(dir)) {
    return Error{ErrorCode::NotFound, "data directory " + dir.string() +
                                          " does not exist; create the store first "
                                          "(flowscope import, or the collector)"};
  }
  auto loaded = load_store_config(dir);
  if (!loaded) return loaded.error();
  return loaded->value_or(StoreConfig{});
}

void apply_config_changes(StoreConfig& config, std::vector<RollupView> rollups,
                          const std::vector<std::pair<Level, DurationMs>>& keeps) {
  for (RollupView& view : rollups) {
    std::erase_if(config.rollups, [&](const auto& v) { return v.name == view.name; });
    config.rollups.push_back(std::move(view));
  }
  for (const auto& [level, keep] : keeps) {
    config.keep_ms[static_cast<std::size_t>(level)] = keep.count();
  }
}

bool has_configured_retention(const EmbeddedStore& store) {
  return std::any_of(store.options().keep_ms.begin(), store.options().keep_ms.end(),
                     [](std::int64_t ms) { return ms > 0; });
}

void write_check_report(const StoreCheckReport& r, std::ostream& out) {
  if (r.checkpoint_present) {
    out << "checkpoint: segments up to WAL " << r.checkpoint.wal_number << ", last sequence "
        << r.checkpoint.last_sequence << '\n';
  } else {
    out << "checkpoint: missing\n";
  }
  out << "referenced: " << r.segments << " segments, " << r.raw_rows << " rows (raw)\n"
      << "wal: " << r.wal_files << " files\n";
  if (r.pending_segments > 0) {
    out << "pending: " << r.pending_segments
        << " segments of a flush cut short (the WAL replays their rows)\n";
  }
  for (const std::string& note : r.notes) out << "note: " << note << '\n';
  for (const std::string& problem : r.problems) out << "problem: " << problem << '\n';
}

void write_repair_report(const RepairReport& report, std::string_view dir, std::ostream& out) {
  for (const std::string& action : report.actions) out << action << '\n';
  out << "restored " << report.restored << " segments, moved " << report.set_aside
      << " stray files to " << dir << "/orphans/; checkpoint: segments up to WAL "
      << report.after.wal_number << '\n';
}

}  // namespace flowscope::store
