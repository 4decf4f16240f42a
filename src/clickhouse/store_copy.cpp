// `flowscope store copy`: an embedded store's raw sessions, and the rollup rows of what its raw
// retention dropped, into an empty cluster (store_copy.h).
#include "clickhouse/store_copy.h"

#include <algorithm>
#include <chrono>
#include <limits>
#include <optional>

#include <fmt/format.h>

#include "store/batch_codec.h"
#include "store/rollup.h"

namespace flowscope::clickhouse {
namespace {

constexpr std::size_t kRollupChunk = 200'000;

// The rollup rows of `src` older than its first raw session (what raw retention dropped and
// only the rollups keep), level by level, into the cluster's rollup tables. Raw partitions are
// hours: 1m and 1h rows before the first raw hour are rollup-only; 1d rows before its day (the
// day of the first raw hour is left to the sessions copied: its dropped hours are not split out
// of a day row).
Result<std::uint64_t> copy_rollup_only(const store::EmbeddedStore& src, ClickHouseBackend& dst) {
  std::optional<std::int64_t> first_raw;
  for (const store::PartitionStats& p : src.partition_stats()) {
    if (p.level != store::Level::Raw || p.rows == 0) continue;
    first_raw = first_raw ? std::min(*first_raw, p.min_time) : p.min_time;
  }
  std::uint64_t copied = 0;
  for (const store::RollupView& view : src.options().rollups) {
    for (store::Level level : {store::Level::Minute, store::Level::Hour, store::Level::Day}) {
      const std::int64_t bucket = store::bucket_ms(level);
      const std::int64_t align = level == store::Level::Day ? bucket : std::int64_t{3'600'000};
      std::int64_t end = std::numeric_limits<std::int64_t>::max();
      if (first_raw) {
        if (*first_raw <= 0) continue;
        end = *first_raw / align * align;
      }
      store::AggregateRequest request;
      request.scan.end_ms = end;
      request.group_by = view.keys;
      request.sums.assign(std::begin(store::kRollupSums), std::end(store::kRollupSums));
      request.scan.columns = view.keys;
      request.scan.columns.push_back(FieldId::StartTime);
      request.scan.columns.push_back(FieldId::SessionCount);
      request.scan.columns.insert(request.scan.columns.end(), request.sums.begin(),
                                  request.sums.end());
      store::AggregatePlan plan;
      plan.view = view.name;
      plan.level_ms = static_cast<std::uint64_t>(bucket);
      SessionBatch rows;
      std::vector<std::uint32_t> all;
      store::AggregatePlan followed;
      auto scanned = src.scan_aggregate_rows(
          request, plan, 1,
          [&](unsigned, const SessionBatch& batch) {
            all.resize(batch.size());
            for (std::uint32_t r = 0; r < all.size(); ++r) all[r] = r;
            store::append_rows(batch, all, rows, request.scan.columns);
            return true;
          },
          &followed);
      if (!scanned) return scanned.error();
      // The source holds no rollup of this level for the window (then nothing was dropped
      // that it could give).
      if (!followed.from_rollup()) continue;
      SessionBatch chunk;
      for (std::size_t at = 0; at < rows.size(); at += kRollupChunk) {
        const std::size_t n = std::min(kRollupChunk, rows.size() - at);
        all.resize(n);
        for (std::uint32_t r = 0; r < n; ++r) all[r] = static_cast<std::uint32_t>(at + r);
        chunk.clear();
        store::append_rows(rows, all, chunk, request.scan.columns);
        if (auto r = dst.insert_rollup_rows(view, bucket, chunk); !r) return r.error();
      }
      copied += rows.size();
    }
  }
  return copied;
}

}  // namespace

Result<CopySummary> copy_to_clickhouse(const store::EmbeddedStore& src, ClickHouseOptions options,
                                       std::string_view url) {
  // The source's rollup views and retention (its store.json, which EmbeddedStore::open read) go
  // with its sessions: the cluster keeps the same rollups (docs/scale-out.md "Rollups").
  if (!src.options().rollups.empty()) options.rollups = src.options().rollups;
  for (std::size_t l = 0; l < options.keep_ms.size(); ++l) {
    if (src.options().keep_ms[l] != 0) options.keep_ms[l] = src.options().keep_ms[l];
  }
  auto dst = ClickHouseBackend::open(std::move(options));
  if (!dst) return dst.error();
  auto existing = (*dst)->count_rows();
  if (!existing) return existing.error();
  if (*existing > 0) {
    return Error{ErrorCode::InvalidArgument,
                 fmt::format("{} already holds {} sessions; copy into an empty database "
                             "(another name after the last /)",
                             url, *existing)};
  }
  const auto t0 = std::chrono::steady_clock::now();
  CopySummary summary;
  Error failure;
  bool failed = false;
  auto scanned = src.scan({}, [&](const SessionBatch& batch) {
    auto r = (*dst)->append(batch);
    if (!r) {
      failure = r.error();
      failed = true;
      return false;
    }
    summary.rows += batch.size();
    return true;
  });
  if (!scanned) return scanned.error();
  if (failed) return failure;
  if (auto f = (*dst)->flush(); !f) return f.error();
  auto rolled = copy_rollup_only(src, **dst);
  if (!rolled) return rolled.error();
  summary.rollup_rows = *rolled;
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  summary.rows_spilled_now = (*dst)->stats().rows_spilled_now;
  return summary;
}

Result<std::size_t> drop_level_before(ClickHouseOptions options, store::Level level,
                                      std::int64_t cutoff_ms) {
  options.create_schema = false;  // retention never creates a database
  auto ch = ClickHouseBackend::open(std::move(options));
  if (!ch) return ch.error();
  return level == store::Level::Raw
             ? (*ch)->drop_before(cutoff_ms)
             : (*ch)->drop_rollups_before(store::bucket_ms(level), cutoff_ms);
}

}  // namespace flowscope::clickhouse
