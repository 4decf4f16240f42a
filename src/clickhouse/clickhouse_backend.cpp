#include "clickhouse/clickhouse_backend.h"

#include <algorithm>
#include <charconv>
#include <limits>
#include <set>

#include <fmt/format.h>

#include "clickhouse/filter_sql.h"
#include "clickhouse/rollup_schema.h"
#include "clickhouse/sql_pushdown.h"
#include "core/log.h"
#include "store/format.h"
#include "store/rollup_plan.h"
#include "store/store_config.h"

namespace flowscope::clickhouse {
namespace {

constexpr std::size_t kMaxBlockRows = 1'000'000;  // < max_insert_block_size: one part per insert

}  // namespace

bool is_clickhouse_url(std::string_view text) { return text.starts_with("clickhouse://"); }

Result<ClickHouseOptions> parse_clickhouse_url(std::string_view url) {
  if (!is_clickhouse_url(url)) {
    return Error{ErrorCode::InvalidArgument,
                 fmt::format("\"{}\" is not a clickhouse:// URL; use e.g. "
                             "clickhouse://127.0.0.1:8123,10.0.0.2:8123/flows",
                             url)};
  }
  ClickHouseOptions o;
  std::string_view rest = url.substr(13);
  std::string_view params;
  if (auto q = rest.find('?'); q != std::string_view::npos) {
    params = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  std::string user = "default", password;
  if (auto at = rest.rfind('@'); at != std::string_view::npos) {
    std::string_view cred = rest.substr(0, at);
    rest = rest.substr(at + 1);
    if (auto c = cred.find(':'); c != std::string_view::npos) {
      user = std::string(cred.substr(0, c));
      password = std::string(cred.substr(c + 1));
    } else {
      user = std::string(cred);
    }
  }
  if (auto slash = rest.find('/'); slash != std::string_view::npos) {
    o.tables.database = std::string(rest.substr(slash + 1));
    rest = rest.substr(0, slash);
    if (o.tables.database.empty()) o.tables.database = "default";
  }
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    auto ep = parse_endpoint(rest.substr(0, comma));
    if (!ep) return ep.error();
    ep->user = user;
    ep->password = password;
    ep->database = o.tables.database;
    o.shards.push_back(*ep);
    if (comma == std::string_view::npos) break;
    rest = rest.substr(comma + 1);
  }
  if (o.shards.empty()) {
    return Error{ErrorCode::InvalidArgument,
                 fmt::format("{}: no shard; list host:port of each shard's HTTP interface", url)};
  }
  while (!params.empty()) {
    const auto amp = params.find('&');
    const std::string_view kv = params.substr(0, amp);
    params = amp == std::string_view::npos ? std::string_view() : params.substr(amp + 1);
    const auto eq = kv.find('=');
    const std::string_view key = kv.substr(0, eq);
    const std::string_view value = eq == std::string_view::npos ? "" : kv.substr(eq + 1);
    auto number = [&]() -> Result<std::uint64_t> {
      std::uint64_t v = 0;
      auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
      if (ec != std::errc{} || p != value.data() + value.size()) {
        return Error{ErrorCode::InvalidArgument,
                     fmt::format("{}: {}=\"{}\" is not a number", url, key, value)};
      }
      return v;
    };
    if (key == "cluster") {
      o.tables.cluster = std::string(value);
    } else if (key == "spill_dir") {
      o.spill_dir = std::string(value);
    } else if (key == "batch_rows" || key == "flush_ms" || key == "spill_max_mb" ||
               key == "timeout_ms") {
      auto v = number();
      if (!v) return v.error();
      if (key == "batch_rows") o.batch_rows = std::clamp<std::uint64_t>(*v, 1, kMaxBlockRows);
      if (key == "flush_ms") o.flush_interval = std::chrono::milliseconds(*v);
      if (key == "spill_max_mb") o.spill_max_bytes = *v << 20;
      if (key == "timeout_ms") {
        for (Endpoint& e : o.shards) e.timeout = std::chrono::milliseconds(*v);
      }
    } else {
      return Error{ErrorCode::InvalidArgument,
                   fmt::format("{}: unknown parameter \"{}\"; known: cluster, batch_rows, "
                               "flush_ms, spill_dir, spill_max_mb, timeout_ms",
                               url, key)};
    }
  }
  return o;
}

ClickHouseBackend::ClickHouseBackend(ClickHouseOptions options) : options_(std::move(options)) {
  options_.batch_rows = std::clamp<std::size_t>(options_.batch_rows, 1, kMaxBlockRows);
  const TableNames& t = options_.tables;
  read_table_ = options_.shards.size() == 1 ? fmt::format("{}.{}", t.database, t.local)
                                            : fmt::format("{}.{}", t.database, t.distributed);
  insert_columns_ = insert_columns();
}

ClickHouseBackend::~ClickHouseBackend() {
  if (flusher_.joinable()) {
    {
      std::lock_guard lock(flusher_mutex_);
      flusher_stop_ = true;
    }
    flusher_wake_.notify_all();
    flusher_.join();
  }
  std::lock_guard lock(write_mutex_);
  if (rows_pending_ > 0) {
    if (auto r = flush_locked(); !r) {
      logger("store")->error("clickhouse: {} rows not flushed at close: {}", rows_pending_,
                             r.error().message);
    }
  }
}

Result<std::unique_ptr<ClickHouseBackend>> ClickHouseBackend::open(ClickHouseOptions options) {
  if (options.shards.empty()) {
    return Error{ErrorCode::InvalidArgument, "ClickHouse backend without shards"};
  }
  std::unique_ptr<ClickHouseBackend> b(new ClickHouseBackend(std::move(options)));
  std::uint64_t next = 0;
  for (std::size_t i = 0; i < b->options_.shards.size(); ++i) {
    Shard s{ShardClient(b->options_.shards[i]), std::nullopt, {}, {}};
    if (!b->options_.spill_dir.empty()) {
      auto q = SpillQueue::open(b->options_.spill_dir / fmt::format("shard-{}", i),
                                b->options_.spill_max_bytes);
      if (!q) return q.error();
      next = std::max(next, q->end_seq());
      s.spill = std::move(*q);
    }
    if (b->options_.create_schema) {
      if (auto r = b->init_shard(s); !r) return r.error();
    }
    if (auto r = b->check_layout(s, b->options_.create_schema); !r) return r.error();
    auto max_seq =
        s.client.query(fmt::format("SELECT max(_seq) + 1, count() FROM {}.{} FORMAT "
                                   "TabSeparated",
                                   b->options_.tables.database, b->options_.tables.local));
    if (!max_seq) return max_seq.error();
    std::uint64_t end = 0, count = 0;
    if (std::sscanf(max_seq->c_str(), "%lu\t%lu", &end, &count) == 2 && count > 0) {
      next = std::max(next, end);
    }
    b->shards_.push_back(std::move(s));
  }
  b->next_row_ = next;
  b->insert_errors_.assign(b->shards_.size(), 0);
  b->shard_rows_.assign(b->shards_.size(), 0);
  if (auto r = b->init_rollups(); !r) return r.error();
  if (b->options_.background_flush) b->flusher_ = std::thread([p = b.get()] { p->flush_loop(); });
  return b;
}

void ClickHouseBackend::flush_loop() {
  std::unique_lock lock(flusher_mutex_);
  while (!flusher_stop_) {
    flusher_wake_.wait_for(lock, options_.flush_interval);
    if (flusher_stop_) break;
    lock.unlock();
    {
      std::lock_guard w(write_mutex_);
      bool spilled = false;
      for (const Shard& s : shards_) spilled |= s.spill && !s.spill->empty();
      if (rows_pending_ > 0 || spilled) {
        if (auto r = flush_locked(); !r) {
          logger("store")->warn("clickhouse: background flush: {}", r.error().message);
        }
      }
    }
    const bool keeps = std::any_of(options_.keep_ms.begin(), options_.keep_ms.end(),
                                   [](std::int64_t k) { return k > 0; });
    if (keeps && std::chrono::steady_clock::now() >= next_retention_) {
      next_retention_ = std::chrono::steady_clock::now() + options_.retention_interval;
      const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count();
      if (auto r = apply_retention(now_ms); !r) {
        logger("store")->warn("clickhouse: retention: {}", r.error().message);
      }
    }
    lock.lock();
  }
}

Result<void> ClickHouseBackend::check_layout(Shard& shard, bool create) {
  const TableNames& t = options_.tables;
  if (create) {
    if (auto r = shard.client.query(create_layout_table(t)); !r) return r.error();
  } else {
    auto exists = shard.client.query(
        fmt::format("SELECT count() FROM system.tables WHERE database = '{}' AND name = "
                    "'flowscope_layout' FORMAT TabSeparated",
                    t.database));
    if (!exists) return exists.error();
    if (exists->empty() || (*exists)[0] == '0') return ok();  // nothing written yet
  }
  auto kept = shard.client.query(fmt::format(
      "SELECT fields FROM {}.flowscope_layout LIMIT 1 FORMAT TabSeparated", t.database));
  if (!kept) return kept.error();
  std::string_view fields = *kept;
  while (!fields.empty() && (fields.back() == '\n' || fields.back() == '\r')) {
    fields.remove_suffix(1);
  }
  const std::string mine = field_layout();
  if (fields.empty()) {
    if (!create) return ok();
    auto r = shard.client.query(
        fmt::format("INSERT INTO {}.flowscope_layout VALUES ('{}')", t.database, mine));
    if (!r) return r.error();
    return ok();
  }
  if (fields == mine) return ok();
  const auto count = [](std::string_view s) {
    return static_cast<std::size_t>(std::count(s.begin(), s.end(), ',') + 1);
  };
  const std::size_t old_count = count(fields);
  // Growth: the kept list is the start of this one, so the rows' presence bits keep their
  // places and the new fields' bits are 0 in them (absent, docs/scale-out.md "Schema").
  const bool grows = mine.size() > fields.size() && mine.starts_with(fields) &&
                     mine[fields.size()] == ',' &&
                     (old_count + 63) / 64 == kValidWords;  // no new validity word
  if (grows && create) return grow_layout(shard, old_count);
  if (grows) {
    return Error{
        ErrorCode::Unsupported,
        fmt::format("ClickHouse at {} (database {}) holds sessions written with {} of this "
                    "flowscope's {} fields; the new ones are added as columns when a "
                    "flowscope that writes opens it (flowscope serve, flowscope store copy), "
                    "or read it with the flowscope that wrote it",
                    shard.client.endpoint().url(), t.database, old_count, count(mine))};
  }
  return Error{ErrorCode::Unsupported,
               fmt::format("ClickHouse at {} (database {}) holds sessions written with another "
                           "field list ({} fields; this flowscope has {}), and their presence "
                           "bits follow that list; fields were removed or reordered, which only "
                           "growth at the end can follow: read it with the flowscope that wrote "
                           "it, or give this one a new database (clickhouse://HOST:PORT/NEWDB)",
                           shard.client.endpoint().url(), t.database, old_count, count(mine))};
}

Result<void> ClickHouseBackend::grow_layout(Shard& shard, std::size_t old_count) {
  const TableNames& t = options_.tables;
  std::vector<std::pair<int, FieldId>> order;
  for (FieldId id : fields_of(RecordKind::Session, true)) {
    order.emplace_back(SessionBatch::column_index(id), id);
  }
  std::sort(order.begin(), order.end());
  // The columns the flows tables lack, with their defaults (0, empty) in the old rows.
  std::vector<std::pair<std::string, std::string_view>> columns;  // name, type
  for (std::size_t i = old_count; i < order.size(); ++i) {
    const FieldInfo& f = field_info(order[i].second);
    if (f.type == FieldType::Ip) columns.emplace_back(fmt::format("{}_v4", f.name), "UInt32");
    columns.emplace_back(
        f.type == FieldType::Ip ? fmt::format("{}_v6", f.name) : std::string(f.name),
        column_type(f.type));
  }
  for (const std::string& table : {t.local, t.distributed}) {
    // 18.16 has no ADD COLUMN IF NOT EXISTS: skip what a growth cut short added already.
    auto present = shard.client.query(
        fmt::format("SELECT name FROM system.columns WHERE database = {} AND table = {} FORMAT "
                    "TabSeparated",
                    sql_string(t.database), sql_string(table)));
    if (!present) return present.error();
    const std::string names = "\n" + *present;
    for (const auto& [name, type] : columns) {
      if (names.find("\n" + name + "\n") != std::string::npos) continue;
      if (auto r = shard.client.query(
              fmt::format("ALTER TABLE {}.{} ADD COLUMN `{}` {}", t.database, table, name, type));
          !r) {
        return r.error();
      }
    }
  }
  // Rollup tables hold their views' keys only, all in the kept list: nothing to add there.
  const std::string steps[] = {
      fmt::format("TRUNCATE TABLE {}.flowscope_layout", t.database),
      fmt::format("INSERT INTO {}.flowscope_layout VALUES ('{}')", t.database, field_layout()),
      fmt::format("INSERT INTO {}.flowscope_schema VALUES ({}, now())", t.database,
                  kSchemaVersion)};
  for (const std::string& sql : steps) {
    if (auto r = shard.client.query(sql); !r) return r.error();
  }
  logger("store")->info("clickhouse at {}: {} new fields added as columns to {}.{} and {}.{}",
                        shard.client.endpoint().url(), order.size() - old_count, t.database,
                        t.local, t.database, t.distributed);
  return ok();
}

Result<void> ClickHouseBackend::init_shard(Shard& shard) {
  const TableNames& t = options_.tables;
  // The database itself: a connection to it would fail before it exists.
  Endpoint root = shard.client.endpoint();
  root.database = "default";
  if (auto r = ShardClient(root).query(fmt::format("CREATE DATABASE IF NOT EXISTS {}", t.database));
      !r) {
    return r.error();
  }
  if (auto r = shard.client.query(create_version_table(t)); !r) return r.error();
  auto v = shard.client.query(
      fmt::format("SELECT max(version) FROM {}.flowscope_schema FORMAT TabSeparated", t.database));
  if (!v) return v.error();
  const unsigned version = static_cast<unsigned>(std::strtoul(v->c_str(), nullptr, 10));
  if (version > kSchemaVersion) {
    return Error{ErrorCode::Unsupported,
                 fmt::format("ClickHouse at {} has flowscope schema version {}, newer than this "
                             "flowscope's {}; upgrade flowscope",
                             shard.client.endpoint().url(), version, kSchemaVersion)};
  }
  // Migrations, one list of statements per version; version 1 is the first schema.
  std::vector<std::string> steps;
  if (version < 1) {
    steps.push_back(create_local_table(t));
    steps.push_back(create_distributed_table(t));
  }
  if (version < 2) steps.push_back(create_rollup_views_table(t));  // rollups (version 2)
  for (const std::string& sql : steps) {
    if (auto r = shard.client.query(sql); !r) return r.error();
  }
  if (version < kSchemaVersion) {
    if (auto r = shard.client.query(fmt::format(
            "INSERT INTO {}.flowscope_schema VALUES ({}, now())", t.database, kSchemaVersion));
        !r) {
      return r.error();
    }
  }
  return ok();
}

namespace {

std::string join_keys(const store::RollupView& view) {
  std::string keys;
  for (FieldId f : view.keys) {
    if (!keys.empty()) keys += ',';
    keys += field_info(f).name;
  }
  return keys;
}

}  // namespace

Result<void> ClickHouseBackend::init_rollups() {
  const TableNames& t = options_.tables;
  // The views the cluster keeps: shard 0's list (every shard gets the same one).
  auto listed = shards_.front().client.query(
      fmt::format("SELECT name, keys FROM {}.flowscope_rollups FORMAT TabSeparated", t.database));
  if (!listed) {
    // A cluster written before rollups (schema version 1) that this open did not migrate.
    if (!options_.create_schema) return ok();
    return listed.error();
  }
  for (const auto& [name, keys] : tsv_pairs(*listed)) {
    auto view = store::parse_rollup_spec(fmt::format("{}={}", name, keys));
    if (!view) {
      return Error{ErrorCode::Corruption,
                   fmt::format("{}.flowscope_rollups on {}: {}", t.database,
                               shards_.front().client.endpoint().url(), view.error().message)};
    }
    views_.push_back(std::move(*view));
  }
  for (const store::RollupView& view : options_.rollups) {
    auto known = std::find_if(views_.begin(), views_.end(),
                              [&](const store::RollupView& v) { return v.name == view.name; });
    if (known != views_.end()) {
      if (known->keys != view.keys) {
        return Error{ErrorCode::InvalidArgument,
                     fmt::format("rollup view {} is kept in ClickHouse with keys {}, not {}; "
                                 "give the new keys another view name",
                                 view.name, join_keys(*known), join_keys(view))};
      }
      continue;
    }
    if (!options_.create_schema) continue;
    for (Shard& shard : shards_) {
      // The rows already there are rolled up by the backfill, those inserted from the feed's
      // creation on by the feed: the backfill takes rows below the sequence read before it.
      auto end = shard.client.query(fmt::format(
          "SELECT max(_seq) + 1, count() FROM {}.{} FORMAT TabSeparated", t.database, t.local));
      if (!end) return end.error();
      std::uint64_t seq_end = 0, count = 0;
      if (std::sscanf(end->c_str(), "%lu\t%lu", &seq_end, &count) != 2 || count == 0) seq_end = 0;
      for (std::int64_t bucket : store::kRollupBuckets) {
        std::vector<std::string> sql = {create_rollup_table(t, view, bucket),
                                        create_rollup_distributed(t, view, bucket),
                                        create_rollup_feed(t, view, bucket)};
        if (seq_end > 0) {
          sql.push_back(backfill_rollup(t, view, bucket, seq_end));
        }
        for (const std::string& q : sql) {
          if (auto r = shard.client.query(q); !r) return r.error();
        }
      }
      if (auto r = shard.client.query(
              fmt::format("INSERT INTO {}.flowscope_rollups VALUES ({}, {})", t.database,
                          sql_string(view.name), sql_string(join_keys(view))));
          !r) {
        return r.error();
      }
    }
    views_.push_back(view);
  }
  return ok();
}

std::size_t ClickHouseBackend::shard_of(const SessionBatch& batch, std::size_t row) const {
  if (shards_.size() <= 1) return 0;
  char key[16 + 16 + 2 + 2 + 1];
  const IpAddress c = batch.get<FieldId::ClnAddr>(row);
  const IpAddress s = batch.get<FieldId::SrvAddr>(row);
  const std::uint16_t cp = batch.get<FieldId::ClnPort>(row);
  const std::uint16_t sp = batch.get<FieldId::SrvPort>(row);
  const std::uint8_t proto = batch.get<FieldId::Proto>(row);
  std::memcpy(key, c.bytes().data(), 16);
  std::memcpy(key + 16, s.bytes().data(), 16);
  std::memcpy(key + 32, &cp, 2);
  std::memcpy(key + 34, &sp, 2);
  key[36] = static_cast<char>(proto);
  return store::checksum(std::string_view(key, sizeof(key))) % shards_.size();
}

Result<std::uint64_t> ClickHouseBackend::append(const SessionBatch& batch) {
  std::lock_guard lock(write_mutex_);
  const std::uint64_t seq = ++batches_;
  const auto starts = batch.values<FieldId::StartTime>();
  const std::uint64_t base = next_row_;
  next_row_ += batch.size();
  if (rows_pending_ == 0) oldest_pending_ = std::chrono::steady_clock::now();
  // Rows grouped by (shard, day), keeping batch order inside each group.
  std::vector<std::vector<std::uint32_t>> groups;
  std::map<std::pair<std::size_t, std::int64_t>, std::size_t> group_of;
  for (std::size_t row = 0; row < batch.size(); ++row) {
    const std::size_t shard = shard_of(batch, row);
    const std::int64_t day = day_of(starts[row]);
    auto [it, inserted] = group_of.try_emplace({shard, day}, groups.size());
    if (inserted) groups.emplace_back();
    groups[it->second].push_back(static_cast<std::uint32_t>(row));
  }
  for (const auto& [key, gi] : group_of) {
    const auto& rows = groups[gi];
    Pending& p = shards_[key.first].pending[key.second];
    encode_rows(batch, rows, base, p.data);  // _seq = base + row: the arrival order
    if (p.rows == 0) p.first_seq = base + rows.front();
    p.last_seq = base + rows.back();
    p.rows += rows.size();
    rows_pending_ += rows.size();
  }
  stats_.rows_appended += batch.size();
  const bool due = rows_pending_ >= options_.batch_rows ||
                   std::chrono::steady_clock::now() - oldest_pending_ >= options_.flush_interval;
  if (due) {
    if (auto r = flush_locked(); !r) return r.error();
  }
  return seq;
}

Result<void> ClickHouseBackend::flush() {
  std::lock_guard lock(write_mutex_);
  return flush_locked();
}

Result<void> ClickHouseBackend::flush_locked() {
  for (std::size_t i = 0; i < shards_.size(); ++i) {
    if (auto r = drain(i, false); !r) return r.error();
  }
  if (auto r = seal_and_send(); !r) return r.error();
  if (rows_pending_ == 0) durable_ = batches_;
  return ok();
}

Result<void> ClickHouseBackend::seal_and_send() {
  for (std::size_t i = 0; i < shards_.size(); ++i) {
    Shard& shard = shards_[i];
    while (!shard.pending.empty()) {
      auto it = shard.pending.begin();
      SpillBlock block{static_cast<std::uint32_t>(i),
                       it->second.first_seq,
                       it->second.last_seq,
                       it->second.rows,
                       it->first,
                       std::move(it->second.data)};
      const std::uint64_t rows = block.rows;
      auto r = deliver(i, block);
      if (!r) {
        it->second.data = std::move(block.data);  // kept for the next attempt
        return r.error();
      }
      shard.pending.erase(it);
      rows_pending_ -= rows;
    }
  }
  return ok();
}

Result<void> ClickHouseBackend::deliver(std::size_t index, const SpillBlock& block) {
  Shard& shard = shards_[index];
  const bool queued = shard.spill && !shard.spill->empty();
  const bool waiting = std::chrono::steady_clock::now() < shard.retry_after;
  Error failure;
  if (!queued && !waiting) {
    auto r =
        shard.client.insert(fmt::format("{}.{}", options_.tables.database, options_.tables.local),
                            insert_columns_, block.data);
    if (r) {
      ++stats_.blocks_inserted;
      stats_.rows_inserted += block.rows;
      shard_rows_[index] += block.rows;
      return ok();
    }
    failure = r.error();
    ++insert_errors_[index];
    shard.retry_after = std::chrono::steady_clock::now() + options_.retry_interval;
    logger("store")->warn("clickhouse shard {}: {}; spilling its blocks to {}", index,
                          failure.message,
                          shard.spill ? shard.spill->dir().string() : "(no spill_dir)");
  } else {
    failure = Error{ErrorCode::Io, fmt::format("shard {} ({}) is failing; blocks queue behind "
                                               "its spilled ones",
                                               index, shard.client.endpoint().url())};
  }
  if (!shard.spill) {
    return Error{failure.code, failure.message +
                                   "; set a spill directory to keep ingesting "
                                   "while a shard is away"};
  }
  if (auto p = shard.spill->push(block); !p) return p.error();
  ++stats_.blocks_spilled;
  return ok();
}

Result<std::uint64_t> ClickHouseBackend::count_block(const Shard& shard,
                                                     const SpillBlock& block) const {
  auto r = shard.client.query(fmt::format(
      "SELECT count() FROM {}.{} WHERE {} = {} AND _seq BETWEEN {} AND {} FORMAT TabSeparated",
      options_.tables.database, options_.tables.local, kDayExpr, block.day, block.first_seq,
      block.last_seq));
  if (!r) return r.error();
  return std::strtoull(r->c_str(), nullptr, 10);
}

Result<std::size_t> ClickHouseBackend::drain(std::size_t index, bool force) {
  Shard& shard = shards_[index];
  if (!shard.spill || shard.spill->empty()) return std::size_t{0};
  if (!force && std::chrono::steady_clock::now() < shard.retry_after) return std::size_t{0};
  std::size_t done = 0;
  while (!shard.spill->empty()) {
    auto block = shard.spill->front();
    if (!block) return block.error();
    // The block may have gone in with its answer lost (a timeout): its id is (day, range).
    auto present = count_block(shard, *block);
    if (!present) {
      shard.retry_after = std::chrono::steady_clock::now() + options_.retry_interval;
      return done;
    }
    if (*present == block->rows) {
      ++stats_.blocks_already_present;
    } else if (*present != 0) {
      return Error{ErrorCode::Corruption,
                   fmt::format("shard {} ({}) holds {} of the {} rows of spilled block {}; a "
                               "block is one insert, so it is all or nothing: check for "
                               "another writer with the same tables",
                               index, shard.client.endpoint().url(), *present, block->rows,
                               block->first_seq)};
    } else if (auto r = shard.client.insert(
                   fmt::format("{}.{}", options_.tables.database, options_.tables.local),
                   insert_columns_, block->data);
               !r) {
      ++insert_errors_[index];
      shard.retry_after = std::chrono::steady_clock::now() + options_.retry_interval;
      return done;
    } else {
      stats_.rows_inserted += block->rows;
      shard_rows_[index] += block->rows;
    }
    if (auto p = shard.spill->pop(); !p) return p.error();
    ++stats_.blocks_replayed;
    ++done;
  }
  shard.retry_after = {};
  if (done > 0) {
    logger("store")->info("clickhouse shard {} is back: {} spilled blocks replayed", index, done);
  }
  return done;
}

Result<std::size_t> ClickHouseBackend::replay() {
  std::lock_guard lock(write_mutex_);
  std::size_t n = 0;
  for (std::size_t i = 0; i < shards_.size(); ++i) {
    auto r = drain(i, true);
    if (!r) return r.error();
    n += *r;
  }
  return n;
}

ClickHouseBackend::Stats ClickHouseBackend::stats() const {
  std::lock_guard lock(write_mutex_);
  Stats s = stats_;
  s.rows_pending = rows_pending_;
  for (const Shard& shard : shards_) {
    if (shard.spill) {
      s.rows_spilled_now += shard.spill->rows();
      s.blocks_spilled_now += shard.spill->blocks();
    }
  }
  s.insert_errors = insert_errors_;
  s.shard_rows_inserted = shard_rows_;
  return s;
}

Result<std::size_t> ClickHouseBackend::drop_days(const std::vector<std::string>& tables,
                                                 std::int64_t cutoff_ms) {
  std::set<std::pair<std::string, std::int64_t>> dropped;
  for (std::size_t i = 0; i < shards_.size(); ++i) {
    const ShardClient& c = shards_[i].client;
    std::string names;
    for (const std::string& t : tables) names += (names.empty() ? "" : ", ") + sql_string(t);
    auto parts = c.query(fmt::format(
        "SELECT DISTINCT table, partition FROM system.parts WHERE database = {} AND table IN "
        "({}) AND active FORMAT TabSeparated",
        sql_string(options_.tables.database), names));
    if (!parts) return parts.error();
    for (const auto& [table_name, part] : tsv_pairs(*parts)) {
      const std::string table(table_name);
      std::int64_t day = 0;
      auto [p, ec] = std::from_chars(part.data(), part.data() + part.size(), day);
      if (ec != std::errc{} || p != part.data() + part.size()) continue;
      // A day partition goes when it ends at or before the cutoff, as embedded partitions do.
      if ((day + 1) * kDayMs > cutoff_ms) continue;
      if (auto r = c.query(fmt::format("ALTER TABLE {}.{} DROP PARTITION {}",
                                       options_.tables.database, table, day));
          !r) {
        return r.error();
      }
      dropped.emplace(table, day);
    }
  }
  stats_.partitions_dropped += dropped.size();
  return dropped.size();
}

Result<std::size_t> ClickHouseBackend::drop_before(std::int64_t cutoff_ms) {
  std::lock_guard lock(write_mutex_);
  if (auto f = flush_locked(); !f) return f.error();
  return drop_days({options_.tables.local}, cutoff_ms);
}

Result<void> ClickHouseBackend::insert_rollup_rows(const store::RollupView& view,
                                                   std::int64_t bucket_ms,
                                                   const SessionBatch& rows) {
  if (rows.size() == 0) return ok();
  TableNames stage = options_.tables;
  stage.local = "flowscope_copy_stage";
  const ShardClient& client = shards_.front().client;
  const std::string stage_table = fmt::format("{}.{}", stage.database, stage.local);
  std::vector<std::uint32_t> all(rows.size());
  for (std::uint32_t r = 0; r < all.size(); ++r) all[r] = r;
  std::string data;
  encode_rows(rows, all, 0, data);
  const std::string steps[] = {fmt::format("DROP TABLE IF EXISTS {}", stage_table),
                               create_local_table(stage)};
  for (const std::string& sql : steps) {
    if (auto r = client.query(sql); !r) return r.error();
  }
  Result<void> done = client.insert(stage_table, insert_columns_, data);
  if (done) {
    auto r = client.query(
        backfill_rollup(stage, view, bucket_ms, std::numeric_limits<std::uint64_t>::max()));
    if (!r) done = r.error();
  }
  auto dropped = client.query(fmt::format("DROP TABLE IF EXISTS {}", stage_table));
  if (!done) return done;
  if (!dropped) return dropped.error();
  return ok();
}

Result<std::size_t> ClickHouseBackend::drop_rollups_before(std::int64_t bucket_ms,
                                                           std::int64_t cutoff_ms) {
  std::lock_guard lock(write_mutex_);
  if (auto f = flush_locked(); !f) return f.error();
  std::vector<std::string> tables;
  for (const store::RollupView& v : views_) tables.push_back(rollup_local(v.name, bucket_ms));
  if (tables.empty()) return std::size_t{0};
  return drop_days(tables, cutoff_ms);
}

Result<std::size_t> ClickHouseBackend::apply_retention(std::int64_t now_ms) {
  std::size_t total = 0;
  // Levels as store::Level: raw, 1 minute, 1 hour, 1 day.
  const std::int64_t buckets[] = {0, 60'000, 3'600'000, 86'400'000};
  for (std::size_t level = 0; level < 4; ++level) {
    const std::int64_t keep = options_.keep_ms[level];
    if (keep <= 0) continue;
    auto n = level == 0 ? drop_before(now_ms - keep)
                        : drop_rollups_before(buckets[level], now_ms - keep);
    if (!n) return n.error();
    total += *n;
  }
  {
    std::lock_guard lock(write_mutex_);
    ++stats_.retention_runs;
  }
  if (total > 0) logger("store")->info("clickhouse retention: dropped {} day partitions", total);
  return total;
}

}  // namespace flowscope::clickhouse
