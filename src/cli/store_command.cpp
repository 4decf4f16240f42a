// `flowscope store stats|retention|config|check|repair -d DATADIR`: what the embedded store
// holds per level and partition, dropping whole partitions older than a cutoff, its settings,
// and checking or rebuilding what its CHECKPOINT references (docs/storage.md).
#include <chrono>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/table_writer.h"
#include "clickhouse/clickhouse_backend.h"
#include "core/time.h"
#include "store/embedded_store.h"
#include "store/store_check.h"
#include "store/store_config.h"

namespace flowscope::cli {
namespace {

struct StatsOptions {
  std::string dir;
  bool json = false;
};

struct ConfigOptions {
  std::string dir;
  std::vector<std::string> rollups;
  std::vector<std::string> keeps;
};

struct DirOptions {
  std::string dir;
};

struct RetentionOptions {
  std::string dir;
  std::string keep;  // empty: the levels' retention from store.json
  std::string level = "raw";
  std::string now;  // for tests and replays; default: the clock
};

struct CopyOptions {
  std::string from;
  std::string to;
};

std::unique_ptr<store::EmbeddedStore> open_store(const std::string& dir, bool read_only) {
  store::StoreOptions opt;
  opt.dir = dir;
  opt.read_only = read_only;
  auto s = store::EmbeddedStore::open(opt);
  if (!s) throw UserError{s.error().message};
  return std::move(*s);
}

std::string time_text(std::int64_t ms) { return format_time(time_from_ms(ms)); }

void run_stats(const StatsOptions& opt) {
  auto s = open_store(opt.dir, /*read_only=*/true);
  const auto parts = s->partition_stats();
  const auto snap = s->snapshot();
  if (opt.json) {
    nlohmann::json j;
    j["partitions"] = nlohmann::json::array();
    for (const auto& p : parts) {
      j["partitions"].push_back({{"level", store::level_name(p.level)},
                                 {"view", p.view},
                                 {"partition", p.partition},
                                 {"segments", p.segments},
                                 {"rows", p.rows},
                                 {"bytes", p.bytes},
                                 {"first", time_text(p.min_time)},
                                 {"last", time_text(p.max_time)}});
    }
    j["wal"] = {{"bytes", s->wal_bytes()}, {"rows", snap->tail_rows}};
    j["damaged"] = nlohmann::json::array();
    for (const auto& bad : snap->bad_segments) j["damaged"].push_back(bad.error.message);
    std::cout << j.dump(2) << '\n';
  } else {
    using Align = TableWriter::Align;
    TableWriter table({{"LEVEL"},
                       {"VIEW"},
                       {"PARTITION"},
                       {"SEGMENTS", Align::Right},
                       {"ROWS", Align::Right},
                       {"BYTES", Align::Right},
                       {"BYTES/ROW", Align::Right},
                       {"FIRST"},
                       {"LAST"}});
    // Totals per level (and view), after the partitions.
    std::map<std::pair<int, std::string>, store::PartitionStats> totals;
    for (const auto& p : parts) {
      table.add_row({std::string(store::level_name(p.level)), p.view.empty() ? "-" : p.view,
                     p.partition, std::to_string(p.segments), std::to_string(p.rows),
                     std::to_string(p.bytes),
                     p.rows ? fmt::format("{:.1f}", double(p.bytes) / double(p.rows)) : "-",
                     time_text(p.min_time), time_text(p.max_time)});
      auto& t = totals[{static_cast<int>(p.level), p.view}];
      if (t.segments == 0) {
        t = p;
        t.partition = "1";
      } else {
        t.partition = std::to_string(std::stoul(t.partition) + 1);
        t.segments += p.segments;
        t.rows += p.rows;
        t.bytes += p.bytes;
        t.min_time = std::min(t.min_time, p.min_time);
        t.max_time = std::max(t.max_time, p.max_time);
      }
    }
    for (const auto& [key, t] : totals) {
      table.add_row({std::string(store::level_name(t.level)), t.view.empty() ? "-" : t.view,
                     "total: " + t.partition, std::to_string(t.segments), std::to_string(t.rows),
                     std::to_string(t.bytes),
                     t.rows ? fmt::format("{:.1f}", double(t.bytes) / double(t.rows)) : "-",
                     time_text(t.min_time), time_text(t.max_time)});
    }
    table.write(std::cout);
    std::cout << "wal: " << s->wal_bytes() << " bytes, " << snap->tail_rows
              << " rows not sealed into segments yet\n";
  }
  for (const auto& note : s->recovery().notes) std::cerr << "flowscope: note: " << note << '\n';
  for (const auto& bad : snap->bad_segments) {
    std::cerr << "flowscope: warning: " << bad.error.message << '\n';
  }
}

void print_config(const store::StoreConfig& c) {
  for (const auto& v : c.rollups) {
    std::string keys;
    for (FieldId id : v.keys) {
      if (!keys.empty()) keys += ',';
      keys += field_info(id).name;
    }
    std::cout << "rollup " << v.name << ": " << keys << '\n';
  }
  for (store::Level level : store::kLevels) {
    const std::int64_t ms = c.keep_ms[static_cast<std::size_t>(level)];
    std::cout << "keep " << store::level_name(level) << ": "
              << (ms > 0 ? format_duration(DurationMs(ms)) : std::string("forever")) << '\n';
  }
}

void run_config(const ConfigOptions& opt) {
  if (!std::filesystem::is_directory(opt.dir)) {
    throw UserError{"data directory " + opt.dir +
                    " does not exist; create the store first "
                    "(flowscope import, or the collector)"};
  }
  auto loaded = store::load_store_config(opt.dir);
  if (!loaded) throw UserError{loaded.error().message};
  store::StoreConfig config = loaded->value_or(store::StoreConfig{});
  for (const std::string& spec : opt.rollups) {
    auto view = store::parse_rollup_spec(spec);
    if (!view) throw UserError{"--rollup: " + view.error().message, kExitUsage};
    std::erase_if(config.rollups, [&](const auto& v) { return v.name == view->name; });
    config.rollups.push_back(std::move(*view));
  }
  for (const std::string& spec : opt.keeps) {
    const auto eq = spec.find('=');
    auto level = store::parse_level(spec.substr(0, eq));
    auto keep = eq == std::string::npos ? Result<DurationMs>(Error{ErrorCode::Parse, ""})
                                        : parse_duration(spec.substr(eq + 1));
    if (!level || !keep) {
      throw UserError{"--keep: \"" + spec + "\" is not LEVEL=DURATION; use e.g. raw=7d, 1m=30d",
                      kExitUsage};
    }
    config.keep_ms[static_cast<std::size_t>(*level)] = keep->count();
  }
  if (!opt.rollups.empty() || !opt.keeps.empty()) {
    if (auto r = store::save_store_config(opt.dir, config); !r) throw UserError{r.error().message};
  }
  print_config(config);
}

void run_retention(const RetentionOptions& opt) {
  if (opt.keep.empty()) {
    TimeContext ctx = TimeContext::system();
    if (!opt.now.empty()) {
      auto now = parse_time(opt.now, ctx);
      if (!now) throw UserError{"--now: " + now.error().message, kExitUsage};
      ctx.now = *now;
    }
    auto s = open_store(opt.dir, /*read_only=*/false);
    bool any = false;
    for (std::int64_t ms : s->options().keep_ms) any = any || ms > 0;
    if (!any) {
      throw UserError{
          "no retention configured; give --keep, or set it with 'flowscope store "
          "config -d DIR --keep raw=7d'",
          kExitUsage};
    }
    auto dropped = s->apply_retention(to_ms(ctx.now));
    if (!dropped) throw UserError{dropped.error().message};
    std::cout << "dropped " << *dropped << " partitions (configured retention)\n";
    if (auto r = s->close(); !r) throw UserError{r.error().message};
    return;
  }
  auto keep = parse_duration(opt.keep);
  if (!keep) {
    throw UserError{"--keep: \"" + opt.keep + "\" is not a duration; use e.g. 7d or 12h",
                    kExitUsage};
  }
  auto level = store::parse_level(opt.level);
  if (!level) {
    throw UserError{"--level: \"" + opt.level + "\" is not a level; use raw, 1m, 1h or 1d",
                    kExitUsage};
  }
  TimeContext ctx = TimeContext::system();
  if (!opt.now.empty()) {
    auto now = parse_time(opt.now, ctx);
    if (!now) throw UserError{"--now: " + now.error().message, kExitUsage};
    ctx.now = *now;
  }
  const std::int64_t cutoff = to_ms(ctx.now) - keep->count();
  auto s = open_store(opt.dir, /*read_only=*/false);
  auto dropped = s->drop_level_before(*level, cutoff);
  if (!dropped) throw UserError{dropped.error().message};
  std::cout << "dropped " << *dropped << " " << opt.level << " partitions ending at or before "
            << time_text(cutoff) << '\n';
  if (auto r = s->close(); !r) throw UserError{r.error().message};
}

void run_check(const DirOptions& opt) {
  auto report = store::check_store(opt.dir);
  if (!report) throw UserError{report.error().message};
  const store::StoreCheckReport& r = *report;
  if (r.checkpoint_present) {
    std::cout << "checkpoint: segments up to WAL " << r.checkpoint.wal_number << ", last sequence "
              << r.checkpoint.last_sequence << '\n';
  } else {
    std::cout << "checkpoint: missing\n";
  }
  std::cout << "referenced: " << r.segments << " segments, " << r.raw_rows << " rows (raw)\n"
            << "wal: " << r.wal_files << " files\n";
  if (r.pending_segments > 0) {
    std::cout << "pending: " << r.pending_segments
              << " segments of a flush cut short (the WAL replays their rows)\n";
  }
  for (const std::string& note : r.notes) std::cout << "note: " << note << '\n';
  for (const std::string& problem : r.problems) std::cout << "problem: " << problem << '\n';
  if (!r.consistent()) {
    throw UserError{
        fmt::format("{}: {} problems (listed above); 'flowscope store repair -d {}' "
                    "fixes those it names",
                    opt.dir, r.problems.size(), opt.dir)};
  }
  std::cout << "consistent\n";
}

void run_repair(const DirOptions& opt) {
  auto report = store::repair_store(opt.dir);
  if (!report) throw UserError{report.error().message};
  for (const std::string& action : report->actions) std::cout << action << '\n';
  std::cout << "restored " << report->restored << " segments, moved " << report->set_aside
            << " stray files to " << opt.dir << "/orphans/; checkpoint: segments up to WAL "
            << report->after.wal_number << '\n';
}

}  // namespace

// Every raw session of an embedded store into an empty ClickHouse cluster, in store order
// (so that `query` lists them in the same order from both).
void run_copy(const CopyOptions& opt) {
  auto src = open_store(opt.from, /*read_only=*/true);
  auto o = clickhouse::parse_clickhouse_url(opt.to);
  if (!o) throw UserError{o.error().message, kExitUsage};
  auto dst = clickhouse::ClickHouseBackend::open(std::move(*o));
  if (!dst) throw UserError{dst.error().message};
  auto existing = (*dst)->count_rows();
  if (!existing) throw UserError{existing.error().message};
  if (*existing > 0) {
    throw UserError{
        fmt::format("{} already holds {} sessions; copy into an empty database "
                    "(another name after the last /)",
                    opt.to, *existing)};
  }
  const auto t0 = std::chrono::steady_clock::now();
  std::uint64_t rows = 0;
  Error failure;
  bool failed = false;
  auto scanned = src->scan({}, [&](const SessionBatch& batch) {
    auto r = (*dst)->append(batch);
    if (!r) {
      failure = r.error();
      failed = true;
      return false;
    }
    rows += batch.size();
    return true;
  });
  if (!scanned) throw UserError{scanned.error().message};
  if (failed) throw UserError{failure.message};
  if (auto f = (*dst)->flush(); !f) throw UserError{f.error().message};
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const auto st = (*dst)->stats();
  std::cerr << fmt::format(
      "copied {} sessions to {} in {:.3f} s ({:.0f} sessions/s){}\n", rows, opt.to, secs,
      secs > 0 ? static_cast<double>(rows) / secs : 0.0,
      st.rows_spilled_now > 0
          ? fmt::format("; {} rows wait in the spill queue", st.rows_spilled_now)
          : std::string());
}

void register_store(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("store", "Inspect and maintain the embedded flow store");
  cmd->require_subcommand(1);
  cmd->footer(
      "Examples:\n"
      "  flowscope store stats -d /var/lib/flowscope       partitions, rows, sizes per level\n"
      "  flowscope store retention -d /var/lib/flowscope --keep 7d\n"
      "  flowscope store check -d /var/lib/flowscope        exit 0 when consistent");

  auto copy = std::make_shared<CopyOptions>();
  CLI::App* cp = cmd->add_subcommand(
      "copy", "Copy an embedded store's raw sessions into a ClickHouse cluster");
  cp->add_option("--from", copy->from, "Data directory of the embedded store")->required();
  cp->add_option("--to", copy->to,
                 "clickhouse://HOST:PORT[,HOST:PORT...][/DB][?cluster=NAME&batch_rows=N&"
                 "spill_dir=DIR]")
      ->required();
  cp->footer(
      "Creates the schema on every shard (MergeTree per shard, Distributed over the cluster\n"
      "named by ?cluster=, default flowscope, in each server's remote_servers), then inserts\n"
      "the sessions in batches, each row on the shard its session key hashes to. The database\n"
      "must be empty. See docs/scale-out.md.\n\n"
      "Examples:\n"
      "  flowscope store copy --from /var/lib/flowscope --to clickhouse://127.0.0.1:8123/flows\n"
      "  flowscope store copy --from data --to "
      "clickhouse://ch1:8123,ch2:8123/flows?cluster=flows2");
  cp->callback([copy] { run_copy(*copy); });

  auto stats = std::make_shared<StatsOptions>();
  CLI::App* st = cmd->add_subcommand(
      "stats", "Sizes, rows and time ranges per level and partition (read-only)");
  st->add_option("-d,--data-dir", stats->dir, "Data directory of the store")->required();
  st->add_flag("--json", stats->json, "JSON instead of a table");
  st->footer(
      "Opens the store read-only, so it runs beside a collector. Damaged segments are listed\n"
      "on stderr, each with its file name.\n\n"
      "Examples:\n"
      "  flowscope store stats -d /var/lib/flowscope\n"
      "  flowscope store stats -d /var/lib/flowscope --json | jq '.partitions[].rows'");
  st->callback([stats] { run_stats(*stats); });

  auto ret = std::make_shared<RetentionOptions>();
  CLI::App* rt = cmd->add_subcommand(
      "retention", "Drop whole partitions of one level that end before now minus --keep");
  rt->add_option("-d,--data-dir", ret->dir, "Data directory of the store")->required();
  rt->add_option("--keep", ret->keep,
                 "How much to keep: 7d, 12h, 30d, ...; without it, each level's retention "
                 "from 'flowscope store config'");
  rt->add_option("--level", ret->level, "raw, 1m, 1h or 1d")->capture_default_str();
  rt->add_option("--now", ret->now, "Reference time instead of the clock (ISO 8601, epoch)");
  rt->footer(
      "Partitions are hours for raw sessions and days for rollups; a partition goes only when\n"
      "all of it is older than the cutoff. Needs the store's write lock (stop the collector, or\n"
      "let its own retention settings do this).\n\n"
      "Examples:\n"
      "  flowscope store retention -d /var/lib/flowscope --keep 7d\n"
      "  flowscope store retention -d /var/lib/flowscope --keep 30d --level 1m\n"
      "  flowscope store retention -d data --keep 1d --now 2026-11-24T00:00:00Z\n"
      "  flowscope store retention -d /var/lib/flowscope       the configured retention");
  rt->callback([ret] { run_retention(*ret); });

  auto cfg = std::make_shared<ConfigOptions>();
  CLI::App* cf = cmd->add_subcommand(
      "config", "Show or set the store's rollup views and per-level retention (store.json)");
  cf->add_option("-d,--data-dir", cfg->dir, "Data directory of the store")->required();
  cf->add_option("--rollup", cfg->rollups,
                 "Add or replace a rollup view NAME=field,field (session field names)");
  cf->add_option("--keep", cfg->keeps, "Retention of a level: raw=7d, 1m=30d, 1h=365d, 1d=0");
  cf->footer(
      "Every process that opens the store reads store.json: rollup views are built at each\n"
      "flush from then on (older data has none, and aggregates over it scan raw sessions);\n"
      "'flowscope store retention' without --keep applies the retention per level.\n\n"
      "Examples:\n"
      "  flowscope store config -d /var/lib/flowscope                    show\n"
      "  flowscope store config -d data --rollup by_port=srv_port --rollup "
      "hosts=cln_addr,srv_addr\n"
      "  flowscope store config -d data --keep raw=7d --keep 1m=30d --keep 1h=365d");
  cf->callback([cfg] { run_config(*cfg); });

  auto chk = std::make_shared<DirOptions>();
  CLI::App* ck = cmd->add_subcommand(
      "check", "Compare what CHECKPOINT references with the segments on disk (read-only)");
  ck->add_option("-d,--data-dir", chk->dir, "Data directory of the store")->required();
  ck->footer(
      "Reports the segments the checkpoint references (reading every chunk, so it takes as\n"
      "long as a full scan), segments on disk or in orphans/ it does not reference, damaged\n"
      "segments and files that are not store data. Exit code 0 when consistent, 1 when not.\n"
      "Read-only: it runs beside a collector (which may be half-way through a flush).\n\n"
      "Examples:\n"
      "  flowscope store check -d /var/lib/flowscope\n"
      "  flowscope store check -d data && echo consistent");
  ck->callback([chk] { run_check(*chk); });

  auto rep = std::make_shared<DirOptions>();
  CLI::App* rp = cmd->add_subcommand(
      "repair", "Rebuild CHECKPOINT from the segments and restore segments kept in orphans/");
  rp->add_option("-d,--data-dir", rep->dir, "Data directory of the store")->required();
  rp->footer(
      "Moves readable segments from orphans/ back into place, moves files that are not store\n"
      "data into orphans/, and rewrites CHECKPOINT from the segments' own footers so that\n"
      "every sealed row is queryable again. Deletes nothing. Damaged segments are left where\n"
      "they are and named. Needs the store's write lock: stop the collector first.\n\n"
      "Examples:\n"
      "  flowscope store repair -d /var/lib/flowscope\n"
      "  flowscope store repair -d data && flowscope store check -d data");
  rp->callback([rep] { run_repair(*rep); });
}

}  // namespace flowscope::cli
