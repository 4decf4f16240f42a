// `flowscope store stats|retention|config|check|repair -d DATADIR`: what the embedded store
// holds per level and partition, dropping whole partitions older than a cutoff, its settings,
// and checking or rebuilding what its CHECKPOINT references (docs/storage.md); `store copy` into
// ClickHouse. This file parses options and prints; the work is store/store_admin.h,
// store/store_check.h and clickhouse/store_copy.h.
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/short_flags.h"
#include "cli/table_writer.h"
#include "clickhouse/clickhouse_backend.h"
#include "clickhouse/store_copy.h"
#include "core/log.h"
#include "core/time.h"
#include "store/embedded_store.h"
#include "store/store_admin.h"
#include "store/store_check.h"
#include "store/store_config.h"

namespace flowscope::cli {
namespace {

// The options of every store subcommand; each has its own instance.
struct StoreCmdOptions {
  std::string dir;
  bool json = false;                 // stats, retention
  std::vector<std::string> rollups;  // config
  std::vector<std::string> keeps;    // config
  std::string keep;                  // retention; empty: the levels' retention (store.json)
  std::string level = "raw";         // retention
  std::string now;                   // retention, for tests and replays; default: the clock
  std::string from, to;              // copy
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

// --now, or the clock.
TimeContext time_context(const std::string& now) {
  TimeContext ctx = TimeContext::system();
  if (!now.empty()) {
    auto t = parse_time(now, ctx);
    if (!t) throw UserError{"--now: " + t.error().message, kExitUsage};
    ctx.now = *t;
  }
  return ctx;
}

void check(const Result<void>& r) {
  if (!r) throw UserError{r.error().message};
}

void run_stats(const StoreCmdOptions& opt) {
  auto s = open_store(opt.dir, /*read_only=*/true);
  const auto snap = s->snapshot();
  if (opt.json) {
    std::cout << store::stats_json(*s) << '\n';
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
    const auto parts = s->partition_stats();
    for (const auto& p : parts) table.add_row(store::stats_table_row(p, p.partition));
    for (const auto& t : store::level_totals(parts)) {
      table.add_row(store::stats_table_row(t, "total: " + t.partition));
    }
    table.write(std::cout);
    std::cout << "wal: " << s->wal_bytes() << " bytes, " << snap->tail_rows
              << " rows not sealed into segments yet\n";
  }
  for (const auto& note : s->recovery().notes) {
    log_always(spdlog::level::info, "store", "flowscope: note: " + note, note);
  }
  for (const auto& bad : snap->bad_segments) {
    log_always(spdlog::level::warn, "store", "flowscope: warning: " + bad.error.message,
               bad.error.message);
  }
}

void run_config(const StoreCmdOptions& opt) {
  auto config = store::read_store_config(opt.dir);
  if (!config) throw UserError{config.error().message};
  std::vector<store::RollupView> views;
  for (const std::string& spec : opt.rollups) {
    auto view = store::parse_rollup_spec(spec);
    if (!view) throw UserError{"--rollup: " + view.error().message, kExitUsage};
    views.push_back(std::move(*view));
  }
  std::vector<std::pair<store::Level, DurationMs>> keeps;
  for (const std::string& spec : opt.keeps) {
    auto keep = store::parse_keep_spec(spec);
    if (!keep) throw UserError{"--keep: " + keep.error().message, kExitUsage};
    keeps.push_back(*keep);
  }
  store::apply_config_changes(*config, std::move(views), keeps);
  if (!opt.rollups.empty() || !opt.keeps.empty()) check(store::save_store_config(opt.dir, *config));
  store::write_store_config(*config, std::cout);
}

// --keep and --level of `store retention`, checked.
std::pair<DurationMs, store::Level> keep_and_level(const StoreCmdOptions& opt) {
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
  return {*keep, *level};
}

void print_dropped(const StoreCmdOptions& opt, std::size_t dropped, std::int64_t cutoff) {
  if (opt.json) {
    std::cout << nlohmann::json{{"dropped_partitions", dropped},
                                {"level", opt.level},
                                {"keep", opt.keep},
                                {"cutoff", time_text(cutoff)}}
                     .dump()
              << '\n';
  } else {
    std::cout << "dropped " << dropped << " " << opt.level << " partitions ending at or before "
              << time_text(cutoff) << '\n';
  }
}

// `store retention -d clickhouse://...`: the day partitions of one level dropped on every shard
// (docs/scale-out.md "Retention"); a cluster keeps no per-level settings, so --keep is needed.
void run_clickhouse_retention(const StoreCmdOptions& opt) {
  if (opt.keep.empty()) {
    throw UserError{
        "a ClickHouse cluster keeps no retention settings (they are serve's [store] keep_*); "
        "give --keep, e.g. 'flowscope store retention -d " +
            opt.dir + " --keep 7d'",
        kExitUsage};
  }
  const auto [keep, level] = keep_and_level(opt);
  const std::int64_t cutoff = to_ms(time_context(opt.now).now) - keep.count();
  auto o = clickhouse::parse_clickhouse_url(opt.dir);
  if (!o) throw UserError{o.error().message, kExitUsage};
  auto dropped = clickhouse::drop_level_before(std::move(*o), level, cutoff);
  if (!dropped) throw UserError{dropped.error().message};
  print_dropped(opt, *dropped, cutoff);
}

void run_retention(const StoreCmdOptions& opt) {
  if (clickhouse::is_clickhouse_url(opt.dir)) {
    run_clickhouse_retention(opt);
    return;
  }
  if (opt.keep.empty()) {
    const TimeContext ctx = time_context(opt.now);
    auto s = open_store(opt.dir, /*read_only=*/false);
    if (!store::has_configured_retention(*s)) {
      throw UserError{
          "no retention configured; give --keep, or set it with 'flowscope store "
          "config -d DIR --keep raw=7d'",
          kExitUsage};
    }
    auto dropped = s->apply_retention(to_ms(ctx.now));
    if (!dropped) throw UserError{dropped.error().message};
    if (opt.json) {
      std::cout
          << nlohmann::json{{"dropped_partitions", *dropped}, {"retention", "configured"}}.dump()
          << '\n';
    } else {
      std::cout << "dropped " << *dropped << " partitions (configured retention)\n";
    }
    check(s->close());
    return;
  }
  const auto [keep, level] = keep_and_level(opt);
  const std::int64_t cutoff = to_ms(time_context(opt.now).now) - keep.count();
  auto s = open_store(opt.dir, /*read_only=*/false);
  auto dropped = s->drop_level_before(level, cutoff);
  if (!dropped) throw UserError{dropped.error().message};
  print_dropped(opt, *dropped, cutoff);
  check(s->close());
}

void run_check(const StoreCmdOptions& opt) {
  auto report = store::check_store(opt.dir);
  if (!report) throw UserError{report.error().message};
  store::write_check_report(*report, std::cout);
  if (!report->consistent()) {
    throw UserError{
        fmt::format("{}: {} problems (listed above); 'flowscope store repair -d {}' "
                    "fixes those it names",
                    opt.dir, report->problems.size(), opt.dir)};
  }
  std::cout << "consistent\n";
}

void run_repair(const StoreCmdOptions& opt) {
  auto report = store::repair_store(opt.dir);
  if (!report) throw UserError{report.error().message};
  store::write_repair_report(*report, opt.dir, std::cout);
}

// Every raw session of an embedded store into an empty ClickHouse cluster
// (clickhouse/store_copy.h).
void run_copy(const StoreCmdOptions& opt) {
  auto src = open_store(opt.from, /*read_only=*/true);
  auto o = clickhouse::parse_clickhouse_url(opt.to);
  if (!o) throw UserError{o.error().message, kExitUsage};
  auto copied = clickhouse::copy_to_clickhouse(*src, std::move(*o), opt.to);
  if (!copied) throw UserError{copied.error().message};
  const double secs = copied->seconds;
  std::cerr << fmt::format(
      "copied {} sessions to {} in {:.3f} s ({:.0f} sessions/s){}{}\n", copied->rows, opt.to, secs,
      secs > 0 ? static_cast<double>(copied->rows) / secs : 0.0,
      copied->rollup_rows > 0
          ? fmt::format("; {} rollup rows of times the source keeps only as rollups",
                        copied->rollup_rows)
          : std::string(),
      copied->rows_spilled_now > 0
          ? fmt::format("; {} rows wait in the spill queue", copied->rows_spilled_now)
          : std::string());
}

}  // namespace

void register_store(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("store", "Inspect and maintain the embedded flow store");
  cmd->require_subcommand(1);
  cmd->footer(
      "Examples:\n"
      "  flowscope store stats -d /var/lib/flowscope       partitions, rows, sizes per level\n"
      "  flowscope store retention -d /var/lib/flowscope --keep 7d\n"
      "  flowscope store check -d /var/lib/flowscope        exit 0 when consistent");

  auto copy = std::make_shared<StoreCmdOptions>();
  CLI::App* cp = cmd->add_subcommand(
      "copy", "Copy an embedded store's sessions and rollups into a ClickHouse cluster");
  cp->add_option("--from", copy->from, "Data directory of the embedded store")->required();
  cp->add_option("--to", copy->to,
                 "clickhouse://HOST:PORT[,HOST:PORT...][/DB][?cluster=NAME&batch_rows=N&"
                 "spill_dir=DIR]")
      ->required();
  cp->footer(
      "Creates the schema on every shard (MergeTree per shard, Distributed over the cluster\n"
      "named by ?cluster=, default flowscope, in each server's remote_servers), then inserts\n"
      "the sessions in batches, each row on the shard its session key hashes to; times the\n"
      "source keeps only as rollups (after its raw retention) go into the rollup tables. The\n"
      "database must be empty. See docs/scale-out.md.\n\n"
      "Examples:\n"
      "  flowscope store copy --from /var/lib/flowscope --to clickhouse://127.0.0.1:8123/flows\n"
      "  flowscope store copy --from data --to "
      "clickhouse://ch1:8123,ch2:8123/flows?cluster=flows2");
  cp->callback([copy] { run_copy(*copy); });

  auto stats = std::make_shared<StoreCmdOptions>();
  CLI::App* st = cmd->add_subcommand(
      "stats", "Sizes, rows and time ranges per level and partition (read-only)");
  st->add_option(kDataDirOption, stats->dir, "Data directory of the store")->required();
  st->add_flag("--json", stats->json, "JSON instead of a table");
  st->footer(
      "Opens the store read-only, so it runs beside a collector. Damaged segments are listed\n"
      "on stderr, each with its file name.\n\n"
      "Examples:\n"
      "  flowscope store stats -d /var/lib/flowscope\n"
      "  flowscope store stats -d /var/lib/flowscope --json | jq '.partitions[].rows'");
  st->callback([stats] { run_stats(*stats); });

  auto ret = std::make_shared<StoreCmdOptions>();
  CLI::App* rt = cmd->add_subcommand(
      "retention", "Drop whole partitions of one level that end before now minus --keep");
  rt->add_option(kDataDirOption, ret->dir,
                 "Data directory of the store, or clickhouse://HOST:PORT[,...]/DB")
      ->required();
  rt->add_option("--keep", ret->keep,
                 "How much to keep: 7d, 12h, 30d, ...; without it, each level's retention "
                 "from 'flowscope store config'");
  rt->add_option("--level", ret->level, "raw, 1m, 1h or 1d")->capture_default_str();
  rt->add_option("--now", ret->now, "Reference time instead of the clock (ISO 8601, epoch)");
  rt->add_flag("--json", ret->json, "The result as one JSON object");
  rt->footer(
      "Partitions are hours for raw sessions and days for rollups; a partition goes only when\n"
      "all of it is older than the cutoff. Needs the store's write lock (stop the collector, or\n"
      "let its own retention settings do this). A ClickHouse cluster (-d clickhouse://...)\n"
      "drops day partitions of the level on every shard; it needs --keep.\n\n"
      "Examples:\n"
      "  flowscope store retention -d /var/lib/flowscope --keep 7d\n"
      "  flowscope store retention -d /var/lib/flowscope --keep 30d --level 1m\n"
      "  flowscope store retention -d data --keep 1d --now 2026-11-24T00:00:00Z\n"
      "  flowscope store retention -d /var/lib/flowscope       the configured retention\n"
      "  flowscope store retention -d clickhouse://ch1:8123,ch2:8123/flows --keep 30d");
  rt->callback([ret] { run_retention(*ret); });

  auto cfg = std::make_shared<StoreCmdOptions>();
  CLI::App* cf = cmd->add_subcommand(
      "config", "Show or set the store's rollup views and per-level retention (store.json)");
  cf->add_option(kDataDirOption, cfg->dir, "Data directory of the store")->required();
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

  auto chk = std::make_shared<StoreCmdOptions>();
  CLI::App* ck = cmd->add_subcommand(
      "check", "Compare what CHECKPOINT references with the segments on disk (read-only)");
  ck->add_option(kDataDirOption, chk->dir, "Data directory of the store")->required();
  ck->footer(
      "Reports the segments the checkpoint references (reading every chunk, so it takes as\n"
      "long as a full scan), segments on disk or in orphans/ it does not reference, damaged\n"
      "segments and files that are not store data. Exit code 0 when consistent, 1 when not.\n"
      "Read-only: it runs beside a collector (which may be half-way through a flush).\n\n"
      "Examples:\n"
      "  flowscope store check -d /var/lib/flowscope\n"
      "  flowscope store check -d data && echo consistent");
  ck->callback([chk] { run_check(*chk); });

  auto rep = std::make_shared<StoreCmdOptions>();
  CLI::App* rp = cmd->add_subcommand(
      "repair", "Rebuild CHECKPOINT from the segments and restore segments kept in orphans/");
  rp->add_option(kDataDirOption, rep->dir, "Data directory of the store")->required();
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
